// Package web is flowrt's web interface: pages that draw what the REST API
// serves (status, live flow trends, metrics, topology, events) and the API
// explorer. The pages are plain JavaScript over the JSON endpoints; the
// chart and explorer libraries come from npm at build time (scripts/assets)
// and are embedded with the pages, so the binary needs nothing at run time.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

//go:embed static dist
var files embed.FS

// Charts reports whether the chart library was embedded (scripts/assets
// ran before the build); without it the pages show tables only.
func Charts() bool {
	_, err := fs.Stat(files, "dist/uPlot.iife.min.js")
	return err == nil
}

// Explorer reports whether the API explorer library was embedded.
func Explorer() bool {
	_, err := fs.Stat(files, "dist/swagger-ui-bundle.js")
	return err == nil
}

// Handler serves the interface: the application at "/", its files under
// "/ui/", the API explorer at "/api/" (over the OpenAPI document at
// openAPIPath), sFlow-RT's shared page assets under "/inc/" (inc.go) and
// its distribution UI's paths under "/html/" (sent to flowrt's pages).
// redirect is http.html.redirect: where "/" sends the browser instead of
// flowrt's own interface ("" for none), as sFlow-RT lets an application's
// page be the landing page (-Dhttp.html.redirect=./app/flow-trend/html/).
func Handler(openAPIPath, redirect string) http.Handler {
	m := http.NewServeMux()
	index, _ := files.ReadFile("static/index.html")
	index = []byte(strings.Replace(string(index), "{{config}}", pageConfig(), 1))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if redirect != "" {
			http.Redirect(w, r, redirect, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(index)
	})
	assets := http.FileServerFS(files)
	m.Handle("GET /ui/", http.StripPrefix("/ui", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		assets.ServeHTTP(w, r)
	})))
	explorer, _ := files.ReadFile("static/api.html")
	explorer = []byte(strings.ReplaceAll(string(explorer), "{{openapi}}", openAPIPath))
	m.HandleFunc("GET /api/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(explorer)
	})
	m.Handle("GET /api", http.RedirectHandler("/api/", http.StatusMovedPermanently))
	// sFlow-RT's explorer page; InMon's api.yml files link to it.
	m.Handle("GET /api/index.html", http.RedirectHandler("/api/", http.StatusMovedPermanently))
	m.Handle("GET /inc/", incHandler(files))
	m.HandleFunc("GET /html/{page...}", distributionPage)
	icon, _ := files.ReadFile("static/favicon.svg")
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "max-age=86400")
		w.Write(icon)
	})
	return m
}

// pageConfig is what the pages need to know of the engine, from the lists
// the engine itself checks requests against, so a page never offers what
// the API refuses: the /metric aggregations, the /activeflows aggModes,
// the flows a definition keeps per data source (n), the lease range.
func pageConfig() string {
	b, _ := json.Marshal(map[string]any{
		"aggregations": metric.Aggregations, "aggModes": engine.AggModes, "maxN": flow.MaxN,
		"minLease": engine.MinLease.Seconds(), "maxLease": engine.MaxLease.Seconds(),
	})
	// The JSON goes into a <script> element: no "</" may end it early.
	return strings.ReplaceAll(string(b), "</", "<\\/")
}
