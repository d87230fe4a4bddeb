package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplications installs two applications as sFlow-RT lays them out
// (app/<name>/scripts/*.js, app/<name>/html/): "top" defines a flow in a
// file it include()s relative to itself, answers REST calls under
// /app/top/scripts/top.js/<path>/json, counts flow records from its handler
// and serves its page; "broken" throws while loading and must not stop
// "top" or the engine.
func TestApplications(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("top/scripts/lib/flows.js", "var flowName = 'toptalkers';\nsetFlow(flowName, {keys:'ipsource', value:'bytes', log:true, flowStart:true});\n")
	write("top/scripts/top.js", `// author: flowrt tests
// version: 1.2
// description: top talkers, as an application
include(scriptdir() + '/lib/flows.js');
let seen = 0;
setFlowHandler(rec => { seen++; }, [flowName]);
setHttpHandler(function(req) {
  switch(req.path[0]) {
  case 'flows': return {seen: seen > 0, top: activeFlows('ALL', flowName, 3).map(f => f.key)};
  case 'echo': return {method: req.method, path: req.path, format: req.format, n: req.query.n[0], body: req.body};
  case 'text': return 'plain ' + req.format;
  default: throw 'not_found';
  }
});
`)
	write("top/html/index.html", "<!doctype html><title>Top talkers</title><h1>Top talkers</h1>\n")
	write("top/html/js/app.js", "fetch('../scripts/top.js/flows/json');\n")
	write("broken/scripts/broken.js", "setFlow('x', {keys:'ipsource', value:'frames'});\nvar cfg = null;\ncfg.boom();\n")

	e := startEngine(t, "-Dapp.dir="+dir)
	send(t, e.sflow, "-agents", "1", "-flows", "5", "-mix", "tcp", "-rate", "200", "-duration", "1s")

	var apps map[string]struct {
		Scripts []string
		Entry   string
	}
	e.get(t, "/apps/json", &apps)
	if a := apps["top"]; len(a.Scripts) != 1 || a.Scripts[0] != "top/top.js" || a.Entry != "/html/" {
		t.Errorf("/apps/json top = %+v", a)
	}
	if _, ok := apps["broken"]; !ok {
		t.Errorf("/apps/json lacks the broken app: %+v", apps)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/app/top/status", "", 200, ""},
		{"GET", "/app/broken/status", "", 503, ""},
		{"GET", "/app/nosuch/status", "", 404, "no application named nosuch"},
		{"GET", "/app/top/html/", "", 200, "<h1>Top talkers</h1>"},
		{"GET", "/app/top/html/js/app.js", "", 200, "top.js/flows/json"},
		{"GET", "/app/top/html/../../broken/scripts/broken.js", "", 404, ""},
		{"GET", "/app/top/scripts/top.js/flows/json", "", 200, "{\n \"seen\": true,\n \"top\": [\n  \"10.0.0.0\","},
		{"POST", "/app/top/scripts/top.js/echo/a/b/json?n=7", `{"x":1}`, 200,
			`"method": "POST",`},
		{"GET", "/app/top/scripts/top.js/text/txt", "", 200, "plain txt"},
		{"GET", "/app/top/scripts/top.js/nothing/json", "", 404, ""},
		{"GET", "/app/top/scripts/other.js/json", "", 404, "no script top/other.js"},
		// sFlow-RT's older name of an application's script (ddos-sonify's default URL).
		{"GET", "/script/top~top.js/text/txt", "", 200, "plain txt"},
		{"GET", "/script/top~nosuch.js/json", "", 404, "no script top/nosuch.js"},
	} {
		code, body := e.do(t, c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s = %d %q, want %d with %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
	var scripts map[string]struct {
		App   string
		Alive bool
		Error string
		Meta  map[string]string
	}
	e.get(t, "/scripts/json", &scripts)
	if s := scripts["top/top.js"]; !s.Alive || s.Error != "" || s.App != "top" || s.Meta["version"] != "1.2" || s.Meta["author"] != "flowrt tests" {
		t.Errorf("top/top.js status %+v", s)
	}
	if s := scripts["broken/broken.js"]; !strings.Contains(s.Error, "broken.js:3") {
		t.Errorf("broken/broken.js status %+v: want the error with file and line", s)
	}
	// The engine serves on after the broken app.
	code, _ := e.do(t, "GET", "/analyzer/json", "")
	if code != 200 {
		t.Errorf("analyzer after a broken app: %d", code)
	}
}
