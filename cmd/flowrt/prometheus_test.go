package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPrometheusScrapesFlowrt runs a real Prometheus server (Debian's
// package) scraping flowrt on 127.0.0.1 the way InMon's prometheus-grafana
// project does (/prometheus/metrics/ALL/…/txt) plus flowrt's own /metrics,
// and queries it: the hosts' load_one comes back per host, interface
// counters per data source, and flowrt's datagram counter.
func TestPrometheusScrapesFlowrt(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	need(t, "prometheus")
	script := filepath.Join(t.TempDir(), "idle.js")
	os.WriteFile(script, []byte("setIntervalHandler(function(){}, 5);"), 0o644)
	e := startEngine(t, "-Dscript.file="+script)
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "2", "-ports", "2", "-hosts", "-rate", "50",
		"-duration", "60s", "-counters", "1s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Process.Kill(); sender.Wait() })

	target := strings.TrimPrefix(e.http, "http://")
	conf := filepath.Join(t.TempDir(), "prometheus.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: sflow
    metrics_path: /prometheus/metrics/ALL/ifinoctets,ifoutoctets,ifspeed,ifinutilization,ifoututilization,ifinerrors,ifouterrors,ifindiscards,ifoutdiscards,load_one/txt
    static_configs: [ { targets: ['%[1]s'] } ]
  - job_name: flowrt
    static_configs: [ { targets: ['%[1]s'] } ]
`, target)), 0o644)
	if out, err := exec.Command("promtool", "check", "config", conf).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	promAddr, _ := startPrometheus(t, conf)
	type series struct {
		Metric map[string]string
		Value  [2]any
	}
	query := func(q string) []series {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct{ Result []series }
		}
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Data.Result
	}
	var load []series
	took := waitFor(t, 30*time.Second, "sflow_load_one in Prometheus", func() bool {
		load = query("sflow_load_one")
		return len(load) == 2
	})
	t.Logf("first series in Prometheus after %v", took)
	for _, s := range load {
		want := map[string]string{"host-1": "0.25", "host-2": "0.5"}[s.Metric["host"]]
		if s.Metric["job"] != "sflow" || s.Metric["datasource"] != "2.1" || s.Value[1] != want {
			t.Errorf("load_one series %v, want %s", s, want)
		}
	}
	if in := query(`sflow_ifinoctets{agent="10.255.0.1"}`); len(in) != 2 {
		t.Errorf("ifinoctets for agent 10.255.0.1: %v, want one per port", in)
	}
	waitFor(t, 10*time.Second, "flowrt_datagrams_total > 0", func() bool {
		d := query(`flowrt_datagrams_total{job="flowrt"} > 0`)
		return len(d) == 1
	})
	if up := query(`up{job="flowrt"} == 1`); len(up) != 1 {
		t.Errorf("flowrt's own target is not up: %v", up)
	}
	// Every series the Grafana dashboard in docs/ draws is there.
	b, err := os.ReadFile(filepath.Join(examples(), "..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct{ Targets []struct{ Expr string } }
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	names := map[string]bool{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range regexp.MustCompile(`\b(?:sflow|flowrt|go)_[a-z_]+`).FindAllString(tg.Expr, -1) {
				names[n] = true
			}
		}
	}
	for n := range names {
		if len(query("count("+n+")")) == 0 {
			t.Errorf("the dashboard draws %s, which Prometheus does not have", n)
		}
	}
	t.Logf("the dashboard's %d series names are all in Prometheus", len(names))
}

// startPrometheus runs Debian's prometheus with a configuration file (and
// more flags) on a free port of 127.0.0.1, its data in a temporary
// directory, and returns its address and what stops it; its log is shown
// if the test fails.
func startPrometheus(t *testing.T, conf string, flags ...string) (string, func()) {
	t.Helper()
	dir := t.TempDir()
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	prom := exec.Command("prometheus", append([]string{"--config.file=" + conf, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + promAddr}, flags...)...)
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	prom.Stdout, prom.Stderr = logf, logf
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { prom.Process.Signal(os.Interrupt); prom.Wait() })
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", tail(string(b), 3000))
		}
	})
	return promAddr, stop
}
