package api

import (
	"errors"
	"fmt"
	"net/http"
)

// What a client may create is bounded: flow definitions (the engine),
// thresholds, forwarding sessions (their packages), group sets and maps
// (here). A refusal at a limit is a 409 naming the limit and its property,
// rather than a 400: the request was right, there is no room for it.

// Limits bounds what REST clients create here (0: no bound).
type Limits struct {
	GroupSets int // groups.max
	Maps      int // maps.max
}

// SetLimits sets the bounds of group sets and maps.
func (a *API) SetLimits(l Limits) { a.limits = l }

// limited is an error that a configured limit refused.
type limited interface{ LimitProperty() string }

// refusal answers a refused change: 409 at a limit, else 400.
func refusal(err error) *Error {
	var l limited
	if errors.As(err, &l) {
		return &Error{http.StatusConflict, err.Error()}
	}
	return badRequest("%v", err)
}

// full refuses a new entry name of a registry holding names, at limit n.
func full(what, property, del string, names []string, name string, n int) error {
	if n <= 0 || len(names) < n {
		return nil
	}
	for _, x := range names {
		if x == name {
			return nil // replaced, not added
		}
	}
	return &Error{http.StatusConflict, fmt.Sprintf("%d %s are defined, the most %s allows: delete one (%s), or raise the limit (-D%s=…)",
		n, what, property, del, property)}
}
