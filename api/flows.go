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

// maxBody bounds request bodies (a definition with a 16,000-domain filter
// is about 300 KB).
const maxBody = 8 << 20

func (a *API) getFlow(r *http.Request) (any, error) {
	name := r.PathValue("name")
	spec, ok := a.e.Definition(name)
	if !ok {
		return nil, notFound("no flow definition named %q", name)
	}
	return spec, nil
}

func (a *API) putFlow(r *http.Request) (any, error) {
	body, err := readBody(r, maxBody, "flow definition")
	if err != nil {
		return nil, err
	}
	spec, err := flow.ParseSpec(body)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if err := a.e.Define(r.PathValue("name"), spec); err != nil {
		return nil, badRequest("%v", err)
	}
	return a.changed("flows", r.PathValue("name"))
}

func (a *API) deleteFlow(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if !a.e.Undefine(name) {
		return nil, notFound("no flow definition named %q", name)
	}
	return a.changed("flows", name)
}

func (a *API) activeFlows(r *http.Request) (any, error) {
	sel, err := a.selector(r)
	if err != nil {
		return nil, err
	}
	maxFlows, err := queryInt(r, "maxFlows", 100)
	if err != nil {
		return nil, err
	}
	minValue, err := queryFloat(r, "minValue", 0)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	out, err := a.e.ActiveFlows(sel, name, maxFlows, minValue, r.URL.Query().Get("aggMode"), a.cfg.Now())
	if errors.Is(err, engine.ErrNoFlow) {
		return nil, notFound("no flow definition named %q", name)
	}
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return out, nil
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
	maxFlows, err := queryInt(r, "maxFlows", 100)
	if err != nil {
		return nil, err
	}
	timeout, err := queryFloat(r, "timeout", 0)
	if err != nil {
		return nil, err
	}
	wait := min(time.Duration(timeout*float64(time.Second)), MaxPoll)
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
	return a.e.FlowLog().After(ctx, int64(after), max(maxFlows, 0), wait, keep), nil
}
