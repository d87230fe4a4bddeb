// Package web is flowrt's web interface: pages that draw what the REST API
// serves (status, live flow trends, metrics, topology, events) and the API
// explorer. The pages are plain JavaScript over the JSON endpoints; the
// chart and explorer libraries come from npm at build time (scripts/assets)
// and are embedded with the pages, so the binary needs nothing at run time.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
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
// "/ui/", and the API explorer at "/api/" (over the OpenAPI document at
// openAPIPath).
func Handler(openAPIPath string) http.Handler {
	m := http.NewServeMux()
	index, _ := files.ReadFile("static/index.html")
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
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
	return m
}
