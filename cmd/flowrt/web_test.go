package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium, headless, through chromedp
// against a running engine fed by flowrt send, and keep screenshots in
// $FLOWRT_ARTIFACTS (default artifacts/screenshots in the repository).

type browser struct {
	t   *testing.T
	ctx context.Context
	e   *engine
	dir string
}

func startBrowser(t *testing.T, e *engine, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	need(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1400, 1000),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	dir := os.Getenv("FLOWRT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(examples(), "..", "artifacts", "screenshots")
	}
	os.MkdirAll(dir, 0o755)
	return &browser{t: t, ctx: ctx, e: e, dir: dir}
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// count is the number of elements a selector matches.
func (b *browser) count(sel string) int {
	n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	return n
}

func (b *browser) attr(sel, name string) string {
	v, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{getAttribute:()=>''}).getAttribute(%q)||''`, sel, name)))
	return v
}

func (b *browser) waitCount(what, sel string, atLeast int) int {
	b.t.Helper()
	var n int
	deadline := time.Now().Add(15 * time.Second)
	for n = b.count(sel); n < atLeast; n = b.count(sel) {
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			msg, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('error').textContent`))
			b.t.Fatalf("no %s (%s ≥ %d) within 15 s; page error: %q", what, sel, atLeast, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

func (b *browser) shot(name string) {
	if png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644)
	}
}

// shotWindow keeps what the window shows (a long page's first screen).
func (b *browser) shotWindow(name string) {
	if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644)
	}
}

// chartsBuilt reports whether scripts/assets put uPlot in the build.
func chartsBuilt() bool {
	_, err := os.Stat(filepath.Join(examples(), "..", "web", "dist", "uPlot.iife.min.js"))
	return err == nil
}

// TestWebInterface loads every page against a live engine fed by flowrt
// send and checks what each shows against the engine's own answers: the
// status page lists agents, definitions, thresholds, group sets and
// forwarding; Flow Trend defines, draws (one, two, many flows; units;
// ticks), renews and removes its flow; Metrics offers what the API takes;
// Topology draws parallel links apart; Large Flows places every address in
// its group; Events lists a burst whole; every page has the one navigation
// bar; the API explorer shows every documented operation.
func TestWebInterface(t *testing.T) {
	apps := t.TempDir()
	os.MkdirAll(filepath.Join(apps, "demo", "scripts"), 0o755)
	os.MkdirAll(filepath.Join(apps, "demo", "html"), 0o755)
	os.WriteFile(filepath.Join(apps, "demo", "scripts", "demo.js"), []byte("setFlowHandler(function(){}, ['pairs']);"), 0o644)
	os.WriteFile(filepath.Join(apps, "demo", "html", "index.html"), []byte("<p>demo</p>"), 0o644)
	// An application whose script does not compile: the status page must say so.
	os.MkdirAll(filepath.Join(apps, "broken", "scripts"), 0o755)
	os.WriteFile(filepath.Join(apps, "broken", "scripts", "broken.js"), []byte("var x = ;\n"), 0o644)
	e := startEngine(t, "-Dapp.dir="+apps)
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "3", "-ports", "4", "-flows", "200", "-hosts",
		"-rate", "300", "-duration", "240s", "-counters", "1s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Process.Kill(); sender.Wait() })
	sink, forwarded := udpSink(t)
	host, port, _ := strings.Cut(sink, ":")
	for _, c := range [][3]string{
		{"PUT", "/topology/json", webTopology},
		{"PUT", "/flow/pairs/json", "{keys:'ipsource,ipdestination', value:'bytes'}"},
		{"PUT", "/flow/total/json", "{value:'frames'}"},
		{"PUT", "/flow/ui_other/json", "{keys:'ipsource', value:'frames'}"}, // as a page defines its own
		{"PUT", "/threshold/busy/json", "{metric:'pairs', value:1000, byFlow:true, timeout:60}"},
		{"PUT", "/group/json", "{clients:['10.0.0.0/25'], servers:['192.168.0.0/24']}"},
		{"PUT", "/forwarding/copy/json", fmt.Sprintf("{address:'%s', port:%s}", host, port)},
	} {
		if code, body := e.do(t, c[0], c[1], c[2]); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", c[0], c[1], code, body)
		}
	}
	waitFor(t, 10*time.Second, "three agents", func() bool {
		var a map[string]any
		e.get(t, "/agents/json", &a)
		return len(a) == 3
	})
	b := startBrowser(t, e)
	charts := chartsBuilt()
	if !charts && os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
		t.Fatal("web/dist has no uPlot: scripts/test runs scripts/assets first")
	}
	for _, c := range []struct {
		name   string
		check  func(*browser, *engine)
		charts bool // needs uPlot
	}{
		{"status", func(b *browser, e *engine) { checkStatus(b, e, sink, forwarded) }, false},
		{"flow trend", checkFlowTrend, false},
		{"one and two flows", checkFewFlows, true},
		{"units", checkUnits, true},
		{"page lease", checkPageLease, false},
		{"metrics", checkMetrics, false},
		{"topology", checkTopology, false},
		{"large flows", checkLargeFlows, false},
		{"events", checkEvents, false},
		{"navigation", checkNavigation, false},
		{"leaving a loading view", checkLeaveWhileLoading, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.charts && !charts {
				t.Skip("no uPlot in web/dist: run scripts/assets")
			}
			b.t = t
			c.check(b, e)
		})
	}

	t.Run("api explorer", func(t *testing.T) {
		b.t = t
		ops := operations(t, e)
		b.run("open explorer", chromedp.Navigate(e.http+"/api/"))
		if charts {
			b.waitCount("operations in swagger-ui", ".swagger-ui .opblock", ops)
		} else {
			b.waitCount("operations in the fallback table", "#paths tr", ops)
		}
		b.shot("api-explorer")
	})

	t.Run("without the libraries", func(t *testing.T) {
		b.t = t
		// As a build without scripts/assets would be: uPlot and swagger-ui absent.
		if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		block := []*network.BlockPattern{{URLPattern: "*://*:*/ui/dist/*", Block: true}}
		if _, err := chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: block}); err != nil {
			t.Fatal(err)
		}
		b.run("open a trend without uPlot", chromedp.Navigate(e.http+"/?plain#/flows?name=pairs"))
		b.waitCount("the note in place of the chart", ".chart .note", 1)
		b.waitCount("the top flows table", "#top-table tbody tr", 10)
		if n := b.count(".chart canvas"); n != 0 {
			t.Errorf("%d canvases without uPlot", n)
		}
		b.shot("flow-trend-without-charts")
		b.run("open the explorer without swagger-ui", chromedp.Navigate(e.http+"/api/?plain"))
		b.waitCount("every operation in the fallback table", "#paths tr", operations(t, e))
		b.shot("api-without-explorer")
	})
}

// webTopology has a parallel pair of links (s1-s2 twice) and a third node.
const webTopology = `{"nodes":{
  "s1":{"agent":"10.255.0.1","ports":{"s1-eth1":{"ifindex":"1"},"s1-eth2":{"ifindex":"2"},"s1-eth3":{"ifindex":"3"}}},
  "s2":{"agent":"10.255.0.2","ports":{"s2-eth1":{"ifindex":"1"},"s2-eth2":{"ifindex":"2"}}},
  "s3":{"agent":"10.255.0.3","ports":{"s3-eth1":{"ifindex":"1"}}}},
 "links":{"s1-s2":{"node1":"s1","port1":"s1-eth1","node2":"s2","port2":"s2-eth1"},
          "s1-s2b":{"node1":"s2","port1":"s2-eth2","node2":"s1","port2":"s1-eth3"},
          "s1-s3":{"node1":"s1","port1":"s1-eth2","node2":"s3","port2":"s3-eth1"}}}`

// operations counts the operations the engine's /api-docs documents.
func operations(t *testing.T, e *engine) int {
	var doc struct{ Paths map[string]map[string]any }
	e.get(t, "/api-docs", &doc)
	n := 0
	for _, p := range doc.Paths {
		n += len(p)
	}
	return n
}

// TestOpenAPIPathsAnswer reads /api-docs from a running engine and calls
// every GET in it, with each named thing defined first: none may be
// missing (404/405) or fail (5xx).
func TestOpenAPIPathsAnswer(t *testing.T) {
	apps := t.TempDir()
	os.MkdirAll(filepath.Join(apps, "demo", "scripts"), 0o755)
	os.MkdirAll(filepath.Join(apps, "demo", "html"), 0o755)
	os.WriteFile(filepath.Join(apps, "demo", "scripts", "demo.js"), []byte("setHttpHandler(function(r){ return {ok:true}; });"), 0o644)
	os.WriteFile(filepath.Join(apps, "demo", "html", "index.html"), []byte("<p>demo</p>"), 0o644)
	script := filepath.Join(t.TempDir(), "echo.js")
	os.WriteFile(script, []byte("setHttpHandler(function(r){ return {action: ''+r.query.action}; });"), 0o644)
	e := startEngine(t, "-Dapp.dir="+apps, "-Dscript.file="+script)
	send(t, e.sflow, "-agents", "1", "-hosts", "-rate", "200", "-duration", "1s", "-counters", "200ms")
	for _, c := range [][2]string{
		{"/flow/x/json", "{keys:'ipsource', value:'bytes'}"}, {"/threshold/x/json", "{metric:'x', value:1}"},
		{"/group/x/json", "{a:['10.0.0.0/8']}"}, {"/map/x/json", "{web:['80']}"},
		{"/forwarding/x/json", "{address:'127.0.0.1', port:16343}"},
		{"/tenant/x/json", "{collectorAddress:'127.0.0.1', collectorPort:16343, filters:{cidr:['10.0.0.0/8']}}"},
		{"/topology/json", "{nodes:{s1:{agent:'10.255.0.1', ports:{p1:{ifindex:'1'}}}}, links:{}}"},
	} {
		if code, body := e.do(t, "PUT", c[0], c[1]); code/100 != 2 {
			t.Fatalf("PUT %s: %d %s", c[0], code, body)
		}
	}
	time.Sleep(1200 * time.Millisecond) // flow x has values
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string }
		}
	}
	e.get(t, "/api-docs", &doc)
	values := map[string]string{"agent": "ALL", "metric": "ifinoctets", "name": "x", "app": "demo", "script": "echo.js", "file": "jquery.stripchart.js", "page": "index.html"}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	n := 0
	for path, ops := range doc.Paths {
		get, ok := ops["get"]
		if !ok {
			continue
		}
		url := path
		for k, v := range values {
			if k == "agent" && (strings.HasPrefix(path, "/metric/{agent}/json") || strings.HasPrefix(path, "/flowvalue/")) {
				v = "10.255.0.1"
			}
			if k == "name" && strings.HasPrefix(path, "/flowvalue/") {
				v = "1.x"
			}
			if k == "script" && strings.HasPrefix(path, "/app/") {
				v = "demo.js"
			}
			url = strings.ReplaceAll(url, "{"+k+"}", v)
		}
		q := []string{}
		for _, p := range get.Parameters {
			if p.In == "query" && p.Name == "key" {
				q = append(q, "key=10.0.0.0")
			}
		}
		if len(q) > 0 {
			url += "?" + strings.Join(q, "&")
		}
		resp, err := client.Get(e.http + url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n++
		// flowvalue of a flow not at that data source is a legitimate 404.
		if resp.StatusCode >= 500 || resp.StatusCode == 405 || (resp.StatusCode == 404 && !strings.HasPrefix(path, "/flowvalue/")) {
			t.Errorf("GET %s (%s): %d", url, path, resp.StatusCode)
		}
	}
	t.Logf("%d documented GET paths answered", n)
	_ = json.Valid
}

// TestFlowTrendThousandSeries draws a 1,000-series stacked trend at 2 Hz
// (the SC13 demo's rate) and records what each update costs the page; the
// figures go to docs/performance.md.
func TestFlowTrendThousandSeries(t *testing.T) {
	if !chartsBuilt() {
		t.Skip("no uPlot in web/dist: run scripts/assets")
	}
	e := startEngine(t)
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "10", "-flows", "3000", "-zipf", "0.3",
		"-rate", "3000", "-duration", "60s", "-counters", "0")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Process.Kill(); sender.Wait() })
	b := startBrowser(t, e)
	b.run("define a 1,000-flow trend", chromedp.Navigate(e.http+"/#/flows?keys=ipsource,ipdestination&value=frames&maxFlows=1000"))
	b.waitCount("100 rows in the top flows table", "#top-table tbody tr", 100)
	var costs []float64
	last := ""
	deadline := time.Now().Add(20 * time.Second)
	for len(costs) < 12 && time.Now().Before(deadline) {
		p := b.attr(".chart", "data-points")
		if p != last {
			last = p
			if s, _ := strconv.Atoi(b.attr(".chart", "data-series")); s >= 1000 {
				ms, _ := strconv.ParseFloat(b.attr(".chart", "data-draw-ms"), 64)
				costs = append(costs, ms)
				t.Logf("update: %s ms preparing, %s ms in setData, %.1f ms to the next frame", b.attr(".chart", "data-prep-ms"), b.attr(".chart", "data-set-ms"), ms)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(costs) < 6 {
		t.Fatalf("only %d updates with 1,000 series in 20 s", len(costs))
	}
	sum, worst := 0.0, 0.0
	for _, c := range costs {
		sum += c
		worst = max(worst, c)
	}
	b.shot("flow-trend-1000")
	t.Logf("1,000-series stacked trend, %d updates at 2 Hz: mean %.1f ms, worst %.1f ms per update (budget 500 ms)",
		len(costs), sum/float64(len(costs)), worst)
}
