package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
)

func (a *API) getFlow(r *http.Request) (any, error) {
	name := r.PathValue("name")
	spec, ok := a.e.Definition(name)
	if !ok {
		return nil, notFound("no flow definition named %q", name)
	}
	return spec, nil
}

func (a *API) putFlow(r *http.Request) (any, error) {
	body, err := readBody(r, a.definitionBody("flow definition"))
	if err != nil {
		return nil, err
	}
	spec, err := flow.ParseSpec(body)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	name := r.PathValue("name")
	if r.URL.Query().Has("lease") {
		// lease=<seconds>: the definition goes unless PUT again (the same
		// spec renews it, keeping its flows) within that time.
		lease, err := queryFloat(r, "lease", 0)
		if err != nil {
			return nil, err
		}
		renewed, err := a.e.DefineLeased(name, spec, time.Duration(lease*float64(time.Second)), time.Now())
		if err != nil {
			return nil, refusal(err)
		}
		if !renewed {
			return a.changed("flows", name)
		}
		return noContent{}, nil
	}
	notes, err := a.e.DefineNotes(name, spec)
	if err != nil {
		return nil, refusal(err)
	}
	if _, err := a.changed("flows", name); err != nil {
		return nil, err
	}
	if len(notes) > 0 {
		// Stored, but not as given: say so in the answer (200 with the
		// stored definition) rather than only in the log.
		stored, _ := a.e.Definition(name)
		return storedFlow{Spec: stored, Adjusted: notes}, nil
	}
	return noContent{}, nil
}

// storedFlow is the answer to a PUT whose definition was stored with
// changes: the stored definition and what was changed.
type storedFlow struct {
	flow.Spec
	Adjusted []string `json:"adjusted"`
}

func (a *API) deleteFlow(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if !a.e.Undefine(name) {
		return nil, notFound("no flow definition named %q", name)
	}
	return a.changed("flows", name)
}

// activeQuery is what /activeflows/{agent}/{name}/json and its html page
// are asked: both read it here, so they answer the same query alike.
type activeQuery struct {
	agents   engine.Agents
	name     string
	maxFlows int
	minValue float64
	aggMode  string
	filter   string // a pattern the key must match, * any characters
}

func (a *API) readActiveQuery(r *http.Request) (q activeQuery, err error) {
	if q.agents, err = a.selector(r); err != nil {
		return q, err
	}
	if q.maxFlows, err = queryCount(r, "maxFlows", 100); err != nil {
		return q, err
	}
	if q.minValue, err = queryFloat(r, "minValue", 0); err != nil {
		return q, err
	}
	q.name, q.aggMode, q.filter = r.PathValue("name"), r.URL.Query().Get("aggMode"), r.URL.Query().Get("filter")
	return q, nil
}

// run answers the query.
func (a *API) runActiveQuery(q activeQuery) ([]engine.ActiveFlow, error) {
	limit := q.maxFlows
	if q.filter != "" {
		limit = -1 // filtered first, then cut to maxFlows
	}
	out, err := a.e.ActiveFlows(q.agents, q.name, limit, q.minValue, q.aggMode, a.cfg.Now())
	if errors.Is(err, engine.ErrNoFlow) {
		return nil, notFound("no flow definition named %q", q.name)
	}
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if q.filter != "" {
		kept := out[:0]
		for _, f := range out {
			if globMatch(q.filter, f.Key) {
				kept = append(kept, f)
			}
		}
		out = kept
		if q.maxFlows >= 0 && len(out) > q.maxFlows {
			out = out[:q.maxFlows]
		}
	}
	return out, nil
}

func (a *API) activeFlows(r *http.Request) (any, error) {
	q, err := a.readActiveQuery(r)
	if err != nil {
		return nil, err
	}
	return a.runActiveQuery(q)
}

// globMatch reports whether s matches pattern, where * stands for any
// characters (also none) and every other character for itself: flow keys
// hold '/', '.' and ':' that path.Match would treat specially or refuse.
func globMatch(pattern, s string) bool {
	star, mark := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// splitFlowName splits "<dataSource>.<flow>" (e.g. "22.tcp" or "2.1.tcp").
func splitFlowName(s string) (ds, name string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func (a *API) flowValue(r *http.Request) (any, error) {
	agent, err := netip.ParseAddr(r.PathValue("agent"))
	if err != nil {
		return nil, badRequest("%q is not an agent address", r.PathValue("agent"))
	}
	ds, name, ok := splitFlowName(r.PathValue("name"))
	if !ok {
		return nil, badRequest("name must be <dataSource>.<flow>, e.g. 22.tcp")
	}
	key := r.URL.Query().Get("key")
	v, ok := a.e.FlowValue(agent, ds, name, key, a.cfg.Now())
	if !ok {
		return nil, notFound("flow %q is not active at %s data source %s", key, agent, ds)
	}
	return v, nil
}

func (a *API) flowLocations(r *http.Request) (any, error) {
	sel, err := a.selector(r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	out, err := a.e.FlowLocations(sel, name, r.URL.Query().Get("key"), a.cfg.Now())
	if err != nil {
		return nil, notFound("no flow definition named %q", name)
	}
	return out, nil
}

// MaxPoll bounds the timeout of long-polls.
const MaxPoll = 5 * time.Minute

func (a *API) flows(r *http.Request) (any, error) {
	after, err := queryInt(r, "flowID", -1)
	if err != nil {
		return nil, err
	}
	maxFlows, err := queryCount(r, "maxFlows", 100)
	if err != nil {
		return nil, err
	}
	wait, err := querySeconds(r, "timeout")
	if err != nil {
		return nil, err
	}
	names := r.URL.Query()["name"]
	var keep func(*engine.FlowRecord) bool
	if len(names) > 0 {
		keep = func(f *engine.FlowRecord) bool {
			for _, n := range names {
				if f.Name == n {
					return true
				}
			}
			return false
		}
	}
	ctx := r.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return a.e.FlowLog().After(ctx, int64(after), maxFlows, wait, keep), nil
}
