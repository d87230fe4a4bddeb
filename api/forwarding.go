package api

import (
	"net/http"

	"github.com/flowrt/flowrt/forward"
)

func (a *API) forwardingRoutes() {
	if a.cfg.Forwarder == nil {
		return
	}
	f, m := a.cfg.Forwarder, a.mux
	m.HandleFunc("GET /forwarding/json", a.json(func(*http.Request) (any, error) { return f.All(), nil }))
	m.HandleFunc("GET /forwarding/{name}/json", a.json(func(r *http.Request) (any, error) {
		s, ok := f.Get(r.PathValue("name"))
		if !ok {
			return nil, notFound("no forwarding session named %q", r.PathValue("name"))
		}
		return s, nil
	}))
	put := a.change(func(r *http.Request) (any, error) {
		body, err := readBody(r, a.definitionBody("forwarding session"))
		if err != nil {
			return nil, err
		}
		s, err := forward.ParseSpec(body)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		if err := f.Set(r.PathValue("name"), s); err != nil {
			return nil, refusal(err)
		}
		return a.changed("forwarding", r.PathValue("name"))
	})
	m.HandleFunc("PUT /forwarding/{name}/json", a.json(put))
	m.HandleFunc("POST /forwarding/{name}/json", a.json(put))
	m.HandleFunc("DELETE /forwarding/{name}/json", a.json(a.change(func(r *http.Request) (any, error) {
		if !f.Delete(r.PathValue("name")) {
			return nil, notFound("no forwarding session named %q", r.PathValue("name"))
		}
		return a.changed("forwarding", r.PathValue("name"))
	})))
}
