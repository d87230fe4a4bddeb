package api

import (
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
)

// GuardConfig says who may use the API and from where.
type GuardConfig struct {
	// Auth, when not nil, requires a user or token on every request
	// (nil: sFlow-RT's behaviour, anyone who reaches the port).
	Auth *Auth
	// Hosts are the names requests may give in their Host header besides
	// IP addresses and localhost (empty: any name). A page of another
	// site whose name was made to resolve to this host (DNS rebinding)
	// names its own site there.
	Hosts  []string
	Logger *slog.Logger
}

// Guard puts in front of h what a browser-reachable API needs: requests
// from pages of other origins may not change anything, browsers must send
// bodies with a type a cross-origin page cannot send without asking
// first, and, when configured, the Host must be one of ours and the
// client must authenticate. Refusals are 4xx with a one-line reason.
func Guard(h http.Handler, cfg GuardConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &guard{next: h, cfg: cfg, cop: http.NewCrossOriginProtection()}
}

type guard struct {
	next http.Handler
	cfg  GuardConfig
	cop  *http.CrossOriginProtection
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := g.check(r); err != nil {
		if err.Status == http.StatusUnauthorized {
			// Basic first: a browser asks for a user and password, so the
			// web pages work behind authentication.
			w.Header().Add("WWW-Authenticate", `Basic realm="flowrt", charset="UTF-8"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="flowrt"`)
		}
		http.Error(w, err.Msg, err.Status)
		return
	}
	g.next.ServeHTTP(w, r)
}

func (g *guard) check(r *http.Request) *Error {
	if err := g.checkHost(r); err != nil {
		return err
	}
	if err := g.checkOrigin(r); err != nil {
		return err
	}
	if err := checkBodyType(r); err != nil {
		return err
	}
	if g.cfg.Auth == nil {
		return nil
	}
	who, role, err := g.cfg.Auth.authenticate(r)
	if err != nil {
		return err
	}
	if role == ReadOnly && !safeMethod(r.Method) {
		return &Error{http.StatusForbidden, fmt.Sprintf("%s is read-only: only GET and HEAD are allowed, not %s", who, r.Method)}
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkHost refuses a Host that is not an address, localhost or one of
// http.hosts.
func (g *guard) checkHost(r *http.Request) *Error {
	if len(g.cfg.Hosts) == 0 {
		return nil
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if net.ParseIP(host) != nil || host == "localhost" || slices.Contains(g.cfg.Hosts, host) {
		return nil
	}
	return &Error{http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not this server's: it answers to its addresses, localhost and http.hosts (%s)",
		r.Host, strings.Join(g.cfg.Hosts, ","))}
}

// checkOrigin refuses changes asked by pages of other origins: the
// standard library's check (Sec-Fetch-Site, else Origin against Host)
// for PUT, POST and DELETE; and, on the scripts' own routes, whose GETs
// can act (the DDoS example blocks an address on GET …?action=block),
// for every method.
func (g *guard) checkOrigin(r *http.Request) *Error {
	check := r
	if isScriptRoute(r.URL.Path) && safeMethod(r.Method) {
		check = r.Clone(r.Context())
		check.Method = http.MethodPost
	}
	if err := g.cop.Check(check); err != nil {
		return &Error{http.StatusForbidden, fmt.Sprintf("refused a request from a page of another origin (%s): flowrt takes changes from its own pages and from programs such as curl, not from other sites' pages (%v)",
			originOf(r), err)}
	}
	return nil
}

func isScriptRoute(path string) bool {
	if strings.HasPrefix(path, "/script/") {
		return true
	}
	app, ok := strings.CutPrefix(path, "/app/")
	_, rest, _ := strings.Cut(app, "/")
	return ok && strings.HasPrefix(rest, "scripts/")
}

func originOf(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return "Origin " + o
	}
	return "Sec-Fetch-Site " + r.Header.Get("Sec-Fetch-Site")
}

// fromBrowser tells a browser's request from a program's: browsers send
// Origin with every PUT, POST and DELETE, and Sec-Fetch-* to trustworthy
// (HTTPS or loopback) servers; curl, Python and the scripts send neither.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Sec-Fetch-Mode") != ""
}

// checkBodyType: a page can send a form (urlencoded, multipart, text/plain)
// or a fetch() with those types to any site without the site's leave; any
// other type needs a CORS preflight, which flowrt never grants. So a
// browser's body must be JSON or JavaScript. Programs may also send
// curl's and Python's defaults (none, urlencoded) and text/plain, as the
// articles' curl lines do: the body is read as a JavaScript object
// whatever it is labelled. A script's own routes take any type from
// programs (it reads the body itself).
func checkBodyType(r *http.Request) *Error {
	if safeMethod(r.Method) || r.ContentLength == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt := ""
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return &Error{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q cannot be read (%v): send application/json", ct, err)}
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/javascript" || mt == "text/javascript":
		return nil
	case fromBrowser(r):
		if mt == "" {
			mt = "none"
		}
		return &Error{http.StatusUnsupportedMediaType, fmt.Sprintf("a browser's %s must have Content-Type application/json (it has %s): a page of another site can send this type without asking, so flowrt does not take it from browsers",
			r.Method, mt)}
	case mt == "" || mt == "application/x-www-form-urlencoded" || mt == "text/plain" || isScriptRoute(r.URL.Path):
		return nil
	}
	return &Error{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s is not read here: send the body as application/json", mt)}
}
