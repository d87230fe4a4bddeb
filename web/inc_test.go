package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// A build without npm (no dist/inc) still serves flowrt's own widgets, and
// answers each library path with what is missing and how to get it: a
// script that says so on the page for a .js, a 404 naming it otherwise.
func TestIncWithoutNPM(t *testing.T) {
	fsys := fstest.MapFS{
		"static/inc/jquery.stripchart.js": {Data: []byte("/* widget */")},
		"static/favicon.svg":              {Data: []byte("<svg/>")},
	}
	srv := httptest.NewServer(incHandler(fsys))
	defer srv.Close()

	resp, body := get(t, srv, "/inc/jquery.stripchart.js")
	if resp.StatusCode != 200 || body != "/* widget */" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("own widget: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get(t, srv, "/inc/jquery.min.js")
	if resp.StatusCode != 200 || resp.Header.Get("X-Flowrt-Missing") != "jquery" ||
		!strings.Contains(body, "console.error(msg)") || !strings.Contains(body, `"flowrt was built without the npm package jquery, so /inc/jquery.min.js is missing: run scripts/assets (needs npm) and rebuild flowrt"`) {
		t.Errorf("missing jquery: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get(t, srv, "/inc/jquery-ui/jquery-ui.theme.css")
	if resp.StatusCode != 404 || !strings.Contains(body, "npm package jquery-ui-dist") {
		t.Errorf("missing jquery-ui CSS: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, srv, "/inc/nosuch.js")
	if resp.StatusCode != 404 || !strings.Contains(body, "no such asset: /inc/nosuch.js") {
		t.Errorf("unknown asset: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{"/inc/../web.go", "/inc/img/../../static/favicon.svg", "/inc/", "/inc/jquery-ui/"} {
		if resp, _ := get(t, srv, p); resp.StatusCode != 404 {
			t.Errorf("%s = %d, want 404", p, resp.StatusCode)
		}
	}
	resp, body = get(t, srv, "/inc/img/favicon.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG\r\n") {
		t.Errorf("favicon.png: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, srv, "/inc/img/inmon.svg")
	if resp.StatusCode != 200 || body != "<svg/>" {
		t.Errorf("inmon.svg: %d %q", resp.StatusCode, body)
	}
	if got := incMissing(fsys); strings.Join(got, ";") != "bootstrap;datatables.net and datatables.net-jqui;datatables.net-jqui;jquery;jquery-ui-dist;popper.js" {
		t.Errorf("incMissing = %q", got)
	}
	full := fstest.MapFS{}
	for p := range IncLibraries {
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "_") {
			p += "x"
		}
		full["dist/inc/"+p] = &fstest.MapFile{Data: []byte("x")}
	}
	if got := incMissing(full); len(got) != 0 {
		t.Errorf("incMissing with every library = %q", got)
	}
}

// The distribution UI's paths and http.html.redirect.
func TestDistributionPaths(t *testing.T) {
	srv := httptest.NewServer(Handler("/api-docs", ""))
	defer srv.Close()
	for path, want := range map[string]string{"/html/": "/", "/html/index.html": "/", "/html/api.html": "/api/", "/api/index.html": "/api/"} {
		resp, _ := get(t, srv, path)
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != want {
			t.Errorf("%s = %d → %q, want a redirect to %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, body := get(t, srv, "/html/status.html")
	if resp.StatusCode != 404 || !strings.Contains(body, "replaced by flowrt's interface at /") {
		t.Errorf("/html/status.html = %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, srv, "/"); resp.StatusCode != 200 || !strings.Contains(body, "<html") {
		t.Errorf("/ without http.html.redirect = %d", resp.StatusCode)
	}
	redirected := httptest.NewServer(Handler("/api-docs", "./app/flow-trend/html/"))
	defer redirected.Close()
	resp, _ = get(t, redirected, "/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/app/flow-trend/html/" {
		t.Errorf("/ with http.html.redirect = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
