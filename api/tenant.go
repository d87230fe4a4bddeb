package api

import (
	"net/http"

	"github.com/flowrt/flowrt/tenant"
)

// tenantRoutes serves sFlow-RT's multi-tenant sFlow: /tenant/json lists
// the tenants with their counters, /tenant/{name}/json defines one.
func (a *API) tenantRoutes() {
	if a.cfg.Tenants == nil {
		return
	}
	ts, m := a.cfg.Tenants, a.mux
	m.HandleFunc("GET /tenant/json", a.json(func(*http.Request) (any, error) { return ts.All(), nil }))
	m.HandleFunc("GET /tenant/{name}/json", a.json(func(r *http.Request) (any, error) {
		s, ok := ts.Get(r.PathValue("name"))
		if !ok {
			return nil, notFound("no tenant named %q", r.PathValue("name"))
		}
		return s, nil
	}))
	put := a.change(func(r *http.Request) (any, error) {
		body, err := readBody(r, a.definitionBody("tenant"))
		if err != nil {
			return nil, err
		}
		s, err := tenant.ParseSpec(body)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		if err := ts.Set(r.PathValue("name"), s); err != nil {
			return nil, refusal(err)
		}
		return a.changed("tenants", r.PathValue("name"))
	})
	m.HandleFunc("PUT /tenant/{name}/json", a.json(put))
	m.HandleFunc("POST /tenant/{name}/json", a.json(put))
	m.HandleFunc("DELETE /tenant/{name}/json", a.json(a.change(func(r *http.Request) (any, error) {
		if !ts.Delete(r.PathValue("name")) {
			return nil, notFound("no tenant named %q", r.PathValue("name"))
		}
		return a.changed("tenants", r.PathValue("name"))
	})))
}
