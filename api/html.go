package api

import (
	"net/http"
	"os"
)

// htmlRoutes hands the web interface the paths pages written for sFlow-RT
// load besides the REST API: the shared page assets (/inc/), the
// distribution UI's pages (/html/) and its explorer page; and answers
// /license/json, which sFlow-RT's UI reads.
func (a *API) htmlRoutes() {
	m := a.mux
	if a.cfg.UI != nil {
		for _, p := range []string{"GET /inc/", "GET /html/{page...}", "GET /api/index.html"} {
			m.Handle(p, a.cfg.UI)
		}
	}
	m.HandleFunc("GET /license/json", a.json(a.license))
}

// license is /license/json in sFlow-RT's shape. flowrt is open source: no
// licence key, host, traffic or expiry limit applies, so every *_ok field
// is true and the limits sFlow-RT reports (max_bps, expires, account) are
// left out rather than invented.
func (a *API) license(*http.Request) (any, error) {
	host, _ := os.Hostname()
	return map[string]any{
		"license": map[string]any{
			"type": "open-source", "product": "flowrt", "license": "Apache-2.0",
			"host": host, "host_ok": true, "max_bps_ok": true, "expires_ok": true,
		},
		"analyzer": map[string]any{"host": host},
	}, nil
}
