package api

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/flowrt/flowrt/script"
)

func (a *API) scriptRoutes() {
	sm := a.cfg.Scripts
	if sm == nil {
		return
	}
	m := a.mux
	m.HandleFunc("GET /scripts/json", a.json(func(*http.Request) (any, error) { return sm.Statuses(), nil }))
	m.HandleFunc("GET /apps/json", a.json(func(*http.Request) (any, error) { return sm.Apps(a.cfg.AppsDir), nil }))
	m.HandleFunc("GET /app/{app}/status", func(w http.ResponseWriter, r *http.Request) {
		ok, known := sm.AppOK(r.PathValue("app"))
		switch {
		case !known:
			http.Error(w, "no application named "+r.PathValue("app"), http.StatusNotFound)
		case ok:
			w.Write([]byte("OK"))
		default:
			p := sm.Problems(r.PathValue("app"))
			http.Error(w, "UNAVAILABLE: script "+strings.Join(p, "\nUNAVAILABLE: script "), http.StatusServiceUnavailable)
		}
	})
	if a.cfg.AppsDir != "" {
		m.HandleFunc("GET /app/{app}/html/{file...}", func(w http.ResponseWriter, r *http.Request) {
			app := r.PathValue("app")
			if _, known := sm.AppOK(app); !known || strings.Contains(app, "..") {
				http.NotFound(w, r)
				return
			}
			root := http.Dir(filepath.Join(a.cfg.AppsDir, app, "html"))
			http.StripPrefix("/app/"+app+"/html", http.FileServer(root)).ServeHTTP(w, r)
		})
	}
	// Scripts loaded with script.file: /script/<file>.js/[path/…/]<format>.
	m.HandleFunc("/script/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		a.serveScript(w, r, "", r.PathValue("rest"))
	})
	// Application scripts: /app/<app>/scripts/<file>.js/[path/…/]<format>.
	m.HandleFunc("/app/{app}/scripts/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		a.serveScript(w, r, r.PathValue("app")+"/", r.PathValue("rest"))
	})
}

func (a *API) serveScript(w http.ResponseWriter, r *http.Request, prefix, rest string) {
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || !strings.HasSuffix(parts[0], ".js") {
		http.Error(w, "the path must be <script>.js/[<path>/]<json|txt>", http.StatusNotFound)
		return
	}
	// sFlow-RT's older name of an application's script: /script/<app>~<file>.js/…
	// (ddos-sonify asks ddos-protect's trend that way).
	if app, file, ok := strings.Cut(parts[0], "~"); ok && prefix == "" && app != "" {
		prefix, parts[0] = app+"/", file
	}
	s, ok := a.cfg.Scripts.Script(prefix + parts[0])
	if !ok {
		http.Error(w, "no script "+prefix+parts[0], http.StatusNotFound)
		return
	}
	if a.cfg.ReadOnly && r.Method != http.MethodGet {
		http.Error(w, "flowrt is read-only (http.readonly=yes): changes are refused", http.StatusForbidden)
		return
	}
	body, err := readBody(r, a.scriptBody())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	resp, err := s.Serve(script.Request{Method: r.Method, Path: parts[1 : len(parts)-1], Format: parts[len(parts)-1],
		Query: r.URL.Query(), Body: body})
	if errors.Is(err, script.ErrNoHandler) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}
