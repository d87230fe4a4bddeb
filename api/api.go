// Package api serves flowrt's REST interface on sFlow-RT's paths and JSON
// shapes (/flow/{name}/json, /activeflows/{agent}/{name}/json,
// /metric/{agent}/{metric}/json …), so that sFlow-RT's clients and the curl
// lines of its articles work unchanged, plus the live HTML views of the
// same data.
//
// Handlers return a value or an *Error; one wrapper renders either, so
// every failure is a 4xx or 5xx with a one-line reason.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowrt/flowrt/bgp"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/script"
	"github.com/flowrt/flowrt/tenant"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

// Config configures the API.
type Config struct {
	Version  string
	ReadOnly bool                  // http.readonly: refuse every change
	Extra    func() map[string]any // more /analyzer/json fields (the collector's)
	Logger   *slog.Logger
	Now      func() time.Time

	Thresholds *threshold.Monitor // thresholds and events (nil: no such endpoints)
	Groups     *group.Groups      // address groups (nil, with Maps: no such endpoints)
	Maps       *group.Maps
	Forwarder  *forward.Forwarder // forwarding sessions (nil: no such endpoints)
	Tenants    *tenant.Splitter   // multi-tenant sFlow (nil: no such endpoints)
	Topology   *topology.Store    // the network's layout (nil: no such endpoint)
	BGP        *bgp.Speaker       // the embedded BGP speaker (nil: no /bgp/* endpoints)
	Scripts    *script.Manager    // JavaScript applications (nil: no such endpoints)
	AppsDir    string             // where app/<name>/html lives
	// UI is the web interface, served at /, /ui/ and /api/ (nil: a plain
	// index page).
	UI         http.Handler
	PromPrefix string // prometheus.metric.prefix ("sflow_")
	PromTypes  bool   // prometheus.type: "# TYPE … gauge" lines
	// Bodies bounds request bodies per kind of endpoint (a zero field:
	// its DefaultBodyLimits value).
	Bodies BodyLimits
	// Changed is called after every successful change over REST with
	// what changed — "flows", "thresholds", "groups", "maps",
	// "forwarding", "tenants" or "topology" — and the name changed ("" for the
	// topology and the default group set). The state store saves it then
	// and returns once it is on disk: the answer waits for it, and an
	// error (the change is applied but not saved) is answered 507 for a
	// full disk, 500 otherwise.
	Changed func(kind, name string) error
}

// API is the REST interface over an engine.
type API struct {
	cfg    Config
	e      *engine.Engine
	mux    *routeMux
	limits Limits // limits.go
}

// routeMux is a ServeMux that remembers its patterns, so that the OpenAPI
// document can be checked against what is really served.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Patterns lists the route patterns the API serves ("GET /flow/{name}/json" …).
func (a *API) Patterns() []string { return append([]string{}, a.mux.patterns...) }

// New builds the handler.
func New(e *engine.Engine, cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PromPrefix == "" {
		cfg.PromPrefix = "sflow_"
	}
	cfg.Bodies = cfg.Bodies.withDefaults()
	a := &API{cfg: cfg, e: e, mux: &routeMux{ServeMux: http.NewServeMux()}}
	a.routes()
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Error is a failed request: its status and a one-line reason.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// noContent is returned by handlers that answer 204.
type noContent struct{}

type handler func(r *http.Request) (any, error)

// json renders a handler's result as sFlow-RT does (JSON, one-space
// indent) or its error as text.
func (a *API) json(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if _, ok := v.(noContent); ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if s, ok := v.(string); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, s)
			return
		}
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
		w.Write([]byte("\n"))
	}
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var e *Error
	if errors.As(err, &e) {
		status = e.Status
	}
	if status >= 500 {
		a.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	http.Error(w, msg, status)
}

// change guards the handlers that modify state.
func (a *API) change(h handler) handler {
	return func(r *http.Request) (any, error) {
		if a.cfg.ReadOnly {
			return nil, &Error{http.StatusForbidden, "flowrt is read-only (http.readonly=yes): changes are refused"}
		}
		return h(r)
	}
}

func (a *API) routes() {
	m := a.mux
	if a.cfg.UI != nil {
		for _, p := range []string{"GET /{$}", "GET /ui/", "GET /api/{$}", "GET /api", "GET /favicon.ico"} {
			m.Handle(p, a.cfg.UI)
		}
	} else {
		m.HandleFunc("GET /{$}", a.index)
	}
	m.HandleFunc("GET /api-docs", a.openAPI)
	m.HandleFunc("GET /version", a.json(func(*http.Request) (any, error) { return a.cfg.Version, nil }))
	// /status: OK, or 503 with why: "UNAVAILABLE: script ddos.js: SyntaxError: …
	// at …:2:9", a line for each script that did not load.
	m.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Scripts != nil {
			if p := a.cfg.Scripts.Problems(""); len(p) > 0 {
				http.Error(w, "UNAVAILABLE: script "+strings.Join(p, "\nUNAVAILABLE: script "), http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "OK")
	})
	m.HandleFunc("GET /analyzer/json", a.json(a.analyzer))
	m.HandleFunc("GET /agents/json", a.paged("maxAgents", DefaultMaxAgents, a.agents))
	m.HandleFunc("GET /metrics/json", a.json(func(*http.Request) (any, error) { return a.e.MetricNames(a.cfg.Now()), nil }))
	m.HandleFunc("GET /metric/{agent}/json", a.paged("maxPoints", DefaultMaxPoints, a.agentMetrics))
	m.HandleFunc("GET /metric/{agent}/{metric}/json", a.json(a.metric))
	m.HandleFunc("GET /metric/{agent}/{metric}/html", a.metricPage)
	m.HandleFunc("GET /table/{agent}/{metric}/json", a.paged("maxRows", DefaultMaxRows, a.table))
	m.HandleFunc("GET /dump/{agent}/{metric}/json", a.paged("maxPoints", DefaultMaxPoints, a.dump))
	m.HandleFunc("GET /flowkeys/json", a.json(func(*http.Request) (any, error) { return a.e.FlowKeys(a.cfg.Now()), nil }))
	m.HandleFunc("GET /flow/json", a.json(func(*http.Request) (any, error) { return a.e.Definitions(), nil }))
	m.HandleFunc("GET /flow/{name}/json", a.json(a.getFlow))
	m.HandleFunc("PUT /flow/{name}/json", a.json(a.change(a.putFlow)))
	m.HandleFunc("POST /flow/{name}/json", a.json(a.change(a.putFlow)))
	m.HandleFunc("DELETE /flow/{name}/json", a.json(a.change(a.deleteFlow)))
	m.HandleFunc("GET /activeflows/{agent}/{name}/json", a.json(a.activeFlows))
	m.HandleFunc("GET /activeflows/{agent}/{name}/html", a.activeFlowsPage)
	m.HandleFunc("GET /flowvalue/{agent}/{name}/json", a.json(a.flowValue))
	m.HandleFunc("GET /flowlocations/{agent}/{name}/json", a.json(a.flowLocations))
	m.HandleFunc("GET /flows/json", a.json(a.flows))
	a.thresholdRoutes()
	a.groupRoutes()
	a.forwardingRoutes()
	a.tenantRoutes()
	a.topologyRoutes()
	a.bgpRoutes() // bgp.go
	a.scriptRoutes()
	a.prometheusRoutes()
	a.htmlRoutes() // html.go
}

// changed has the change to name saved and answers the request: 204 once
// it is on disk, or why it is not saved.
func (a *API) changed(kind, name string) (any, error) {
	if a.cfg.Changed == nil {
		return noContent{}, nil
	}
	if err := a.cfg.Changed(kind, name); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			status = http.StatusInsufficientStorage
		}
		return nil, &Error{status, err.Error()}
	}
	return noContent{}, nil
}

func (a *API) analyzer(*http.Request) (any, error) {
	out := a.e.Analyzer()
	out["version"] = a.cfg.Version
	out["build"] = buildInfo()
	out["updateAvailable"] = false
	if a.cfg.Extra != nil {
		for k, v := range a.cfg.Extra() {
			out[k] = v
		}
	}
	return out, nil
}

func (a *API) agents(r *http.Request, p engine.Page) (any, int, error) {
	sel := engine.AllAgents
	if as := r.URL.Query()["agent"]; len(as) > 0 {
		var err error
		if sel, err = a.e.ParseAgents(strings.Join(as, ";")); err != nil {
			return nil, 0, badRequest("%v", err)
		}
	}
	out, total := a.e.AgentsPage(sel, p, a.cfg.Now())
	return out, total, nil
}

func (a *API) selector(r *http.Request) (engine.Agents, error) {
	sel, err := a.e.ParseAgents(r.PathValue("agent"))
	if err != nil {
		return sel, badRequest("%v", err)
	}
	return sel, nil
}

// queryInt reads an integer query parameter.
func queryInt(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("%s=%q is not an integer", name, s)
	}
	return n, nil
}

// queryCount reads a count (maxFlows, maxEvents): a whole number, 0 or
// more.
func queryCount(r *http.Request, name string, def int) (int, error) {
	n, err := queryInt(r, name, def)
	if err == nil && n < 0 {
		return 0, badRequest("%s=%d: must be 0 or more", name, n)
	}
	return n, err
}

// querySeconds reads a long-poll timeout: 0 or more seconds, at most
// MaxPoll (longer is waited MaxPoll, as documented).
func querySeconds(r *http.Request, name string) (time.Duration, error) {
	f, err := queryFloat(r, name, 0)
	if err != nil {
		return 0, err
	}
	if f < 0 || math.IsInf(f, 0) {
		return 0, badRequest("%s=%v: must be 0 or more seconds (at most %v are waited)", name, f, MaxPoll.Seconds())
	}
	return min(time.Duration(f*float64(time.Second)), MaxPoll), nil
}

func queryFloat(r *http.Request, name string, def float64) (float64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, badRequest("%s=%q is not a number", name, s)
	}
	return f, nil
}

func (a *API) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, indexPage, a.cfg.Version)
}
