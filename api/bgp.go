package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/bgp"
)

// bgpRoutes are sFlow-RT's /bgp/* endpoints (docs/bgp.md), when the BGP
// speaker runs (bgp.start=yes). Routes and rules put over REST belong to
// "rest": they stay until deleted, the router's session closes or flowrt
// stops.
func (a *API) bgpRoutes() {
	sp := a.cfg.BGP
	if sp == nil {
		return
	}
	const owner = "rest"
	router := func(r *http.Request) (netip.Addr, error) {
		s := r.PathValue("router")
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return ip, badRequest("router %q is not an IP address", s)
		}
		if _, ok := sp.Neighbor(ip); !ok {
			return ip, notFound("router %s is not a BGP neighbor (bgpAddNeighbor adds one)", ip)
		}
		return ip.Unmap(), nil
	}
	prefixOf := func(r *http.Request) string { return r.PathValue("address") + "/" + r.PathValue("bits") }
	object := func(r *http.Request, what string) (map[string]any, error) {
		b, err := readBody(r, a.definitionBody(what))
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			return nil, badRequest("the %s must be a JSON object", what)
		}
		return m, nil
	}
	fail := func(err error) error {
		var ie *bgp.InputError
		if errors.As(err, &ie) {
			return badRequest("%v", ie.Err)
		}
		return &Error{http.StatusConflict, err.Error()}
	}
	a.mux.HandleFunc("GET /bgp/routepusher/{router}/json", a.json(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		specs, err := sp.Announced(ip, false)
		if err != nil {
			return nil, notFound("%v", err)
		}
		out := make([]string, 0, len(specs))
		for _, s := range specs {
			out = append(out, bgp.RoutePrefix(s))
		}
		return out, nil
	}))
	a.mux.HandleFunc("GET /bgp/routepusher/{router}/{address}/{bits}/json", a.json(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		specs, _ := sp.Announced(ip, false)
		want := prefixOf(r)
		for _, s := range specs {
			if bgp.RoutePrefix(s) == want {
				return s, nil
			}
		}
		return nil, notFound("no route %s is announced to %s", want, ip)
	}))
	a.mux.HandleFunc("PUT /bgp/routepusher/{router}/{address}/{bits}/json", a.json(a.change(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		m, err := object(r, "route")
		if err != nil {
			return nil, err
		}
		if p, ok := m["prefix"]; ok && fmt.Sprint(p) != prefixOf(r) {
			return nil, badRequest("the body's prefix %v is not the path's %s", p, prefixOf(r))
		}
		m["prefix"] = prefixOf(r)
		if err := sp.AddRoute(ip, m, owner); err != nil {
			return nil, fail(err)
		}
		return noContent{}, nil
	})))
	a.mux.HandleFunc("DELETE /bgp/routepusher/{router}/{address}/{bits}/json", a.json(a.change(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		ok, err := sp.RemoveRoute(ip, prefixOf(r))
		if err != nil {
			return nil, fail(err)
		}
		if !ok {
			return nil, notFound("no route %s is announced to %s", prefixOf(r), ip)
		}
		return noContent{}, nil
	})))
	a.mux.HandleFunc("GET /bgp/flowspec/{router}/json", a.json(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		return sp.Announced(ip, true)
	}))
	a.mux.HandleFunc("PUT /bgp/flowspec/{router}/json", a.json(a.change(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		m, err := object(r, "flowspec")
		if err != nil {
			return nil, err
		}
		if err := sp.AddFlow(ip, m, owner); err != nil {
			return nil, fail(err)
		}
		return noContent{}, nil
	})))
	a.mux.HandleFunc("DELETE /bgp/flowspec/{router}/json", a.json(a.change(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		m, err := object(r, "flowspec")
		if err != nil {
			return nil, err
		}
		ok, err := sp.RemoveFlow(ip, m)
		if err != nil {
			return nil, fail(err)
		}
		if !ok {
			return nil, notFound("no such Flowspec rule is announced to %s", ip)
		}
		return noContent{}, nil
	})))
	for path, v6 := range map[string]bool{"GET /bgp/topprefixes/{router}/json": false, "GET /bgp/topprefixes6/{router}/json": true} {
		a.mux.HandleFunc(path, a.json(func(r *http.Request) (any, error) {
			ip, err := router(r)
			if err != nil {
				return nil, err
			}
			o, err := topOptions(r, v6)
			if err != nil {
				return nil, err
			}
			t, err := sp.TopPrefixes(ip, o)
			if err != nil {
				return nil, notFound("%v", err)
			}
			return t.JSON(), nil
		}))
	}
	a.mux.HandleFunc("GET /bgp/prefix/{router}/json", a.json(func(r *http.Request) (any, error) {
		ip, err := router(r)
		if err != nil {
			return nil, err
		}
		s := strings.TrimSpace(r.URL.Query().Get("address"))
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return nil, badRequest("address %q is not an IP address (?address=192.0.2.1)", s)
		}
		n, _ := sp.Neighbor(ip)
		p, rt, ok := n.RIB.LookupPrefix(addr)
		if !ok {
			return nil, notFound("no route from %s covers %s", ip, addr)
		}
		return bgp.Describe(p, rt), nil
	}))
}

// topOptions reads /bgp/topprefixes' query: maxPrefixes (default 100),
// minValue, direction (destination/egress or source/ingress),
// includeCovered (default true) and pruneCovered (default false).
func topOptions(r *http.Request, v6 bool) (bgp.TopOptions, error) {
	o := bgp.TopOptions{IPv6: v6, MaxPrefixes: 100, IncludeCovered: true}
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "maxPrefixes", "minValue", "direction", "includeCovered", "pruneCovered":
		default:
			return o, badRequest("unknown parameter %q: maxPrefixes, minValue, direction, includeCovered, pruneCovered", k)
		}
	}
	if v := q.Get("maxPrefixes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return o, badRequest("maxPrefixes %q is not a whole number from 0", v)
		}
		o.MaxPrefixes = n
	}
	if v := q.Get("minValue"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return o, badRequest("minValue %q is not a number from 0", v)
		}
		o.MinValue = f
	}
	d, err := bgp.ParseDirection(q.Get("direction"))
	if err != nil {
		return o, badRequest("%v", err)
	}
	o.Direction = d
	for name, dst := range map[string]*bool{"includeCovered": &o.IncludeCovered, "pruneCovered": &o.PruneCovered} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, badRequest("%s %q: true or false", name, v)
			}
			*dst = b
		}
	}
	return o, nil
}
