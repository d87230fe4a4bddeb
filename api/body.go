package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// BodyLimits are the largest request bodies the API reads, per kind of
// endpoint, in bytes. Each is sized to real use with headroom, and a body
// over its limit is refused with 413 before it costs memory: measured in
// docs/performance.md.
type BodyLimits struct {
	Groups      int64 // PUT /group/…, /map/…: 300,000 IPv4 CIDRs are 5.4 MB, IPv6 8.3 MB
	Topology    int64 // PUT /topology/json: 1,000 switches of 128 ports are 7.6 MB
	Definitions int64 // flows, thresholds, forwarding sessions: a 16,000-domain filter is 0.3 MB
	Scripts     int64 // bodies for scripts' REST handlers
}

// DefaultBodyLimits are the limits of the http.body.* properties' defaults.
var DefaultBodyLimits = BodyLimits{Groups: 16 << 20, Topology: 16 << 20, Definitions: 1 << 20, Scripts: 16 << 20}

// withDefaults fills in the limits not set.
func (l BodyLimits) withDefaults() BodyLimits {
	def := DefaultBodyLimits
	if l.Groups <= 0 {
		l.Groups = def.Groups
	}
	if l.Topology <= 0 {
		l.Topology = def.Topology
	}
	if l.Definitions <= 0 {
		l.Definitions = def.Definitions
	}
	if l.Scripts <= 0 {
		l.Scripts = def.Scripts
	}
	return l
}

// body is one endpoint's request body: what it is, in messages, its limit
// and the property that sets the limit.
type body struct {
	what  string
	limit int64
	prop  string
}

func (a *API) groupBody(what string) body { return body{what, a.cfg.Bodies.Groups, "http.body.groups"} }
func (a *API) topologyBody() body {
	return body{"topology", a.cfg.Bodies.Topology, "http.body.topology"}
}
func (a *API) definitionBody(what string) body {
	return body{what, a.cfg.Bodies.Definitions, "http.body.definitions"}
}
func (a *API) scriptBody() body {
	return body{"script request", a.cfg.Bodies.Scripts, "http.body.scripts"}
}

// size writes a byte count as people read it.
func size(n int64) string {
	const mb = 1 << 20
	switch {
	case n%mb == 0:
		return fmt.Sprintf("%d MB", n/mb)
	case n >= mb/10:
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (b body) tooLarge(length int64) *Error {
	msg := fmt.Sprintf("%s body is over the limit of %s (%d bytes)", b.what, size(b.limit), b.limit)
	if length > 0 {
		msg = fmt.Sprintf("%s body is %s; the limit is %s (%d bytes)", b.what, size(length), size(b.limit), b.limit)
	}
	return &Error{http.StatusRequestEntityTooLarge, msg + ": -D" + b.prop + "=<bytes> raises it"}
}

// open returns r's body, bounded: a body that says it is over the limit
// is refused before any of it is read, and one that turns out to be fails
// its read with b.readError's 413.
func (b body) open(r *http.Request) (io.Reader, error) {
	if r.ContentLength > b.limit {
		return nil, b.tooLarge(r.ContentLength)
	}
	return http.MaxBytesReader(nil, r.Body, b.limit), nil
}

// readError turns what went wrong reading the body into the answer: 413
// past the limit, or a 400 saying the request went away (nothing was
// changed) or the read failed.
func (b body) readError(r *http.Request, err error) *Error {
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return b.tooLarge(0)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || r.Context().Err() != nil:
		return badRequest("the request ended before its %s was loaded: nothing was changed", b.what)
	}
	return badRequest("reading the %s: %v", b.what, err)
}

// readBody reads a whole request body of at most b.limit bytes (bodies
// small enough to hold; group sets are streamed, see readSets).
func readBody(r *http.Request, b body) ([]byte, error) {
	in, err := b.open(r)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, b.readError(r, err)
	}
	return data, nil
}
