package api

import (
	"net/http"

	"github.com/flowrt/flowrt/topology"
)

func (a *API) topologyRoutes() {
	if a.cfg.Topology == nil {
		return
	}
	t := a.cfg.Topology
	a.mux.HandleFunc("GET /topology/json", a.json(func(*http.Request) (any, error) { return t.Get(), nil }))
	put := a.change(func(r *http.Request) (any, error) {
		body, err := readBody(r, a.topologyBody())
		if err != nil {
			return nil, err
		}
		topo, err := topology.Parse(body)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		if err := t.Set(topo); err != nil {
			return nil, badRequest("%v", err)
		}
		return a.changed("topology", "")
	})
	a.mux.HandleFunc("PUT /topology/json", a.json(put))
	a.mux.HandleFunc("POST /topology/json", a.json(put))
}
