package api

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/metric"
)

// metricNames splits a path's metric list (comma or semicolon separated).
func metricNames(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
}

func filterOf(r *http.Request) metric.Filter {
	f := metric.Filter{}
	for k, v := range r.URL.Query() {
		if !pagingParams[k] {
			f[k] = v
		}
	}
	return f
}

func (a *API) agentMetrics(r *http.Request, p engine.Page) (any, int, error) {
	addr, err := netip.ParseAddr(r.PathValue("agent"))
	if err != nil {
		return nil, 0, badRequest("%q is not an agent address", r.PathValue("agent"))
	}
	m, total, ok := a.e.AgentMetricsPage(addr, p, a.cfg.Now())
	if !ok {
		return nil, 0, notFound("no agent %s", addr)
	}
	return m, total, nil
}

func (a *API) metric(r *http.Request) (any, error) {
	sel, err := a.selector(r)
	if err != nil {
		return nil, err
	}
	names := metricNames(r.PathValue("metric"))
	if len(names) == 0 {
		return nil, badRequest("no metric named")
	}
	out, err := a.e.Metric(sel, names, filterOf(r), a.cfg.Now())
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return out, nil
}

func (a *API) table(r *http.Request, p engine.Page) (any, int, error) {
	sel, err := a.selector(r)
	if err != nil {
		return nil, 0, err
	}
	out, total, err := a.e.TablePage(sel, metricNames(r.PathValue("metric")), filterOf(r), p, a.cfg.Now())
	if err != nil {
		return nil, 0, badRequest("%v", err)
	}
	return out, total, nil
}

func (a *API) dump(r *http.Request, p engine.Page) (any, int, error) {
	sel, err := a.selector(r)
	if err != nil {
		return nil, 0, err
	}
	out, total := a.e.DumpPage(sel, metricNames(r.PathValue("metric")), filterOf(r), p, a.cfg.Now())
	return out, total, nil
}
