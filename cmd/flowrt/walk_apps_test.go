package main_test

import (
	"archive/tar"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// walkApps: the README's flowrt app lines against a running engine, with
// an archive laid out as GitHub's for sflow-rt/flow-trend (the namespace
// has no network: the test writes it where curl -LO would have).
func (s *walkSite) walkApps(t *testing.T) {
	dir := t.TempDir()
	writeTarGz(t, filepath.Join(dir, "master.tar.gz"), []tarFile{
		{name: "flow-trend-master/", kind: tar.TypeDir},
		{name: "flow-trend-master/scripts/trend.js", body: "setFlow('trend', {keys:'ipsource', value:'bytes'});\nsetHttpHandler(() => activeFlows('ALL', 'trend', 5));\n"},
		{name: "flow-trend-master/html/index.html", body: "<title>Flow Trend</title>"},
	})
	e := s.engineIn(dir, s.fromReadme("flowrt"))
	defer e.stop()
	if out := s.run(s.host, dir, s.fromReadme("flowrt app install master.tar.gz"), 10*time.Second); !strings.Contains(out, "installed flow-trend in app/flow-trend (scripts: trend.js)") {
		t.Fatalf("install printed %q", out)
	}
	if out := s.run(s.host, dir, s.fromReadme("flowrt app list"), 10*time.Second); out != "flow-trend\tscripts: trend.js\thtml: true\n" {
		t.Fatalf("list printed %q", out)
	}
	var apps map[string]struct {
		Entry   string
		Scripts []string
	}
	// The page is listed as soon as the directory is there, the script once
	// the engine's rescan has started it: wait for both.
	for deadline := time.Now().Add(10 * time.Second); (apps["flow-trend"].Entry == "" || len(apps["flow-trend"].Scripts) == 0) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		apps = nil
		s.curlJSON(s.fromReadme("curl http://localhost:8008/apps/json"), &apps)
	}
	if a := apps["flow-trend"]; a.Entry != "/html/" || len(a.Scripts) != 1 || a.Scripts[0] != "flow-trend/trend.js" {
		t.Fatalf("the running engine did not pick the install up: /apps/json %+v", apps)
	}
	if code, body := s.curl("curl http://localhost:8008/app/flow-trend/html/"); code != 200 || !strings.Contains(body, "Flow Trend") {
		t.Fatalf("the app's page: %d %s", code, body)
	}
	s.run(s.host, dir, s.fromReadme("flowrt app remove flow-trend"), 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		apps = nil
		s.curlJSON("curl http://localhost:8008/apps/json", &apps)
		if _, ok := apps["flow-trend"]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running engine still runs the removed app: %+v", apps)
		}
	}
}
