package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageProblems collects what a page reports as wrong: uncaught exceptions,
// console.error calls and browser log errors (a failed load of a script,
// style sheet or image is one).
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) listen(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = "exception: " + d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			msg = "console.error: " + strings.Join(parts, " ")
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level != cdplog.EntryLevelError {
				return
			}
			msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
		default:
			return
		}
		p.mu.Lock()
		p.list = append(p.list, msg)
		p.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (p *pageProblems) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.list
	p.list = nil
	return out
}

// evalJSON evaluates a JavaScript expression whose value is a JSON string
// and decodes it into v.
func (b *browser) evalJSON(expr string, v any) {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		b.t.Fatalf("%s = %q: %v", expr, s, err)
	}
}

type chartData struct {
	Times  []float64   `json:"times"`
	Values [][]float64 `json:"values"`
	Legend struct {
		Labels []any `json:"labels"` // a string, or the key's fields

		Headings []string `json:"headings"`
	} `json:"legend"`
}

type demoTrend struct {
	Trend struct {
		Times  []float64 `json:"times"`
		Trends struct {
			Top   []map[string]float64 `json:"top"`
			Total []float64            `json:"total"`
		} `json:"trends"`
	} `json:"trend"`
}

// TestIncPages installs a test application whose pages load sFlow-RT's
// shared assets from ../../../inc/ and use them as InMon's application
// pages do (bootstrap + flowrt's widget factory, stripchart, chart() and
// gauge; jQuery UI + DataTables + chart() on jQuery UI's factory), feeds
// flowrt send, and checks in Chromium that the pages load without a
// console error and that what the widgets drew is what the REST API and
// the application's script answer.
func TestIncPages(t *testing.T) {
	if _, err := os.Stat(filepath.Join(examples(), "..", "web", "dist", "inc", "jquery.min.js")); err != nil {
		t.Skip("the npm libraries are not in the build (run scripts/assets, needs npm, then rebuild): the pages need jquery")
	}
	apps, err := filepath.Abs("testdata/incapps")
	if err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, "-Dapp.dir="+apps)
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "2", "-ports", "2", "-flows", "40", "-hosts",
		"-rate", "200", "-duration", "120s", "-counters", "1s", "-mix", "tcp,udp")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Process.Kill(); sender.Wait() })

	for _, c := range []struct{ path, want string }{
		{"/inc/jquery.min.js", "jQuery v3.7.1"},
		{"/inc/bootstrap.min.css", "Bootstrap v4.6.2"},
		{"/inc/popper.min.js", "Federico Zivolo"},
		{"/inc/jquery-ui/jquery-ui.min.js", "jQuery UI - v1.13.3"},
		{"/inc/DataTables/js/jquery.dataTables.min.js", "DataTables 1.13.11"},
		{"/inc/jquery.stripchart.js", "$.widget('inmon.stripchart'"},
		{"/inc/jquery.sunburst.js", "$.widget('inmon.sunburst'"},
		{"/inc/img/favicon.png", "\x89PNG"},
		{"/inc/img/inmon.svg", "<svg"},
	} {
		code, body := e.do(t, "GET", c.path, "")
		if code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("GET %s = %d, %d bytes, want 200 with %q", c.path, code, len(body), c.want)
		}
	}

	b := startBrowser(t, e)
	var problems pageProblems
	problems.listen(t, b.ctx)

	b.run("open the bootstrap page", chromedp.Navigate(e.http+"/app/incdemo/html/index.html"))
	// Live data: wait until the trend holds a few seconds with traffic.
	deadline := time.Now().Add(20 * time.Second)
	var top, total, load chartData
	for {
		b.evalJSON(`JSON.stringify($('#top').stripchart('lastData') || {})`, &top)
		b.evalJSON(`JSON.stringify($('#total').stripchart('lastData') || {})`, &total)
		b.evalJSON(`JSON.stringify($('#load').stripchart('lastData') || {})`, &load)
		if len(top.Times) >= 4 && len(top.Legend.Labels) > 0 && len(load.Times) >= 2 && lastOf(total) > 0 {
			break
		}
		if time.Now().After(deadline) {
			b.shot("failed-inc-demo")
			t.Fatalf("no live data in 20 s: top %d times %d keys, total last %v, load %d times; page problems %q",
				len(top.Times), len(top.Legend.Labels), lastOf(total), len(load.Times), problems.take())
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.shot("inc-demo")

	// The charts drew the script's trend, point for point.
	var served demoTrend
	e.get(t, "/app/incdemo/scripts/demo.js/trend/json", &served)
	at := map[float64]int{}
	for i, tm := range served.Trend.Times {
		at[tm] = i
	}
	matched := 0
	for i, tm := range total.Times {
		j, ok := at[tm]
		if !ok {
			continue
		}
		matched++
		if got, want := total.Values[0][i], served.Trend.Trends.Total[j]; got != want {
			t.Errorf("total chart at %v = %v, the script served %v", tm, got, want)
		}
	}
	if matched < 3 {
		t.Errorf("the total chart's %d times share only %d with the script's trend %v", len(total.Times), matched, served.Trend.Times)
	}
	for k, label := range top.Legend.Labels {
		key := labelKey(label)
		for i, tm := range top.Times {
			j, ok := at[tm]
			if !ok {
				continue
			}
			if got, want := top.Values[k][i], served.Trend.Trends.Top[j][key]; got != want {
				t.Errorf("top chart %s at %v = %v, the script served %v", key, tm, got, want)
			}
		}
	}
	// The keys drawn are flows the REST API has.
	var flows []struct {
		Key   string
		Value float64
	}
	e.get(t, "/activeflows/ALL/incdemo_src/json?maxFlows=100&aggMode=sum", &flows)
	known := map[string]bool{}
	for _, f := range flows {
		known[f.Key] = true
	}
	for _, label := range top.Legend.Labels {
		if !known[labelKey(label)] {
			t.Errorf("top chart key %q is not among /activeflows' %d flows", labelKey(label), len(flows))
		}
	}
	// The stripchart drawn from /metric has /metric's value; the gauge
	// counts /agents/json.
	var stat []struct{ MetricValue float64 }
	e.get(t, "/metric/ALL/max:load_one/json", &stat)
	if len(stat) != 1 || stat[0].MetricValue <= 0 || lastOf(load) != stat[0].MetricValue {
		t.Errorf("load chart last = %v, /metric/ALL/max:load_one = %+v", lastOf(load), stat)
	}
	var agents map[string]any
	e.get(t, "/agents/json", &agents)
	var gauge float64
	b.evalJSON(`JSON.stringify($('#agents').gauge('value'))`, &gauge)
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`$('#agents .gauge-value').text()`))
	if gauge != float64(len(agents)) || gauge != 2 || text != "2" {
		t.Errorf("agents gauge = %v (shows %q), /agents/json has %d agents", gauge, text, len(agents))
	}
	var hasBootstrap bool
	hasBootstrap, _ = chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof $.fn.modal === 'function' && typeof Popper === 'function'`))
	if !hasBootstrap {
		t.Error("bootstrap's plugins or Popper are not loaded")
	}
	if p := problems.take(); len(p) > 0 {
		t.Errorf("the bootstrap page reported problems: %q", p)
	}

	b.run("open the jQuery UI page", chromedp.Navigate(e.http+"/app/incdemo/html/ui.html"))
	deadline = time.Now().Add(15 * time.Second)
	var rows []string
	var ui chartData
	for {
		b.evalJSON(`JSON.stringify($('#flowtable tbody tr').filter(function(){ return $(this).children().length === 3; }).map(function(){ return $(this).children().eq(1).text(); }).get())`, &rows)
		b.evalJSON(`JSON.stringify($('#topn').stripchart('lastData') || {})`, &ui)
		if len(rows) > 0 && len(ui.Legend.Labels) > 0 { // rows of three cells: not "Loading…" or "No data"
			break
		}
		if time.Now().After(deadline) {
			b.shot("failed-inc-demo-ui")
			t.Fatalf("jQuery UI page: table rows %q, chart keys %v; problems %q", rows, ui.Legend.Labels, problems.take())
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.shot("inc-demo-ui")
	e.get(t, "/activeflows/ALL/incdemo_src/json?maxFlows=100&aggMode=sum", &flows)
	known = map[string]bool{}
	for _, f := range flows {
		known[f.Key] = true
	}
	for _, r := range rows {
		if !known[r] {
			t.Errorf("DataTables row %q is not among /activeflows' flows", r)
		}
	}
	tabs, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`$('#tabs.ui-tabs li.ui-tabs-tab').length`))
	button, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`$('#refresh').hasClass('ui-button')`))
	if tabs != 2 || !button {
		t.Errorf("jQuery UI did not style the page: %d tabs, button %v", tabs, button)
	}
	if p := problems.take(); len(p) > 0 {
		t.Errorf("the jQuery UI page reported problems: %q", p)
	}

	checkShapeWidgets(t, b, e, &problems)
}

// checkShapeWidgets loads the heatmap, sunburst and particle page and
// checks what each widget holds against /activeflows.
func checkShapeWidgets(t *testing.T, b *browser, e *engine, problems *pageProblems) {
	b.run("open the heatmap, sunburst and particle page", chromedp.Navigate(e.http+"/app/incdemo/html/widgets.html"))
	type point struct{ X, Y, Z float64 }
	type node struct {
		Value    float64
		Children map[string]node
	}
	var heat []point
	var tree node
	var particles int
	var flowsGiven []any
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.evalJSON(`JSON.stringify($('#heat').heatmap('lastData'))`, &heat)
		b.evalJSON(`JSON.stringify($('#sunburst').sunburst('lastData') || {})`, &tree)
		b.evalJSON(`JSON.stringify($('#particles').flow('particles'))`, &particles)
		b.evalJSON(`JSON.stringify($('#particles').flow('lastData'))`, &flowsGiven)
		if len(heat) > 0 && len(tree.Children) > 0 && particles > 0 && len(flowsGiven) > 0 {
			break
		}
		if time.Now().After(deadline) {
			b.shot("failed-inc-demo-widgets")
			t.Fatalf("widgets: %d heat points, %d sunburst sources, %d particles of %d flows; problems %q", len(heat), len(tree.Children), particles, len(flowsGiven), problems.take())
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.shot("inc-demo-widgets")
	var flows []struct {
		Key   string
		Value float64
	}
	e.get(t, "/activeflows/ALL/incdemo_pairs/json?maxFlows=100&aggMode=sum", &flows)
	sources, octets := map[string]bool{}, map[int]bool{}
	for _, f := range flows {
		k := strings.Split(f.Key, ",")
		sources[k[0]] = true
		for _, a := range k {
			var o [4]int
			fmt.Sscanf(a, "%d.%d.%d.%d", &o[0], &o[1], &o[2], &o[3])
			octets[o[3]] = true
		}
	}
	for _, p := range heat {
		if !octets[int(math.Round(p.X*255))] || !octets[int(math.Round(p.Y*255))] || p.Z < 0 || p.Z > 1 {
			t.Errorf("heat point %+v is no pair of /activeflows' addresses", p)
		}
	}
	sum := 0.0
	for src, n := range tree.Children {
		if !sources[src] {
			t.Errorf("sunburst source %s is not among /activeflows' sources", src)
		}
		sum += n.Value
	}
	if math.Abs(sum-tree.Value) > 1e-6*tree.Value {
		t.Errorf("sunburst root %v is not the sum of its sources %v", tree.Value, sum)
	}
	var arcs, shown int
	arcs, _ = chromedp.Run(b.ctx, chromedp.Evaluate[int](`$('#sunburst path.sunburst-arc').length`))
	for _, n := range tree.Children {
		shown += 1 + len(n.Children)
	}
	if arcs != shown {
		t.Errorf("the sunburst drew %d arcs for a tree of %d nodes", arcs, shown)
	}
	if p := problems.take(); len(p) > 0 {
		t.Errorf("the widgets page reported problems: %q", p)
	}
}

func lastOf(d chartData) float64 {
	if len(d.Values) == 0 || len(d.Values[0]) == 0 {
		return math.NaN()
	}
	return d.Values[0][len(d.Values[0])-1]
}

// labelKey is a legend label as the flow key it stands for.
func labelKey(label any) string {
	parts, ok := label.([]any)
	if !ok {
		return fmt.Sprint(label)
	}
	var s []string
	for _, p := range parts {
		s = append(s, fmt.Sprint(p))
	}
	return strings.Join(s, ",")
}

// TestHTMLRedirect: -Dhttp.html.redirect makes / send the browser to an
// application's page, as sFlow-RT's does, and is a known property (no
// start-up warning); the distribution UI's /html/ paths lead to flowrt's
// interface; an app's api.yml is in /api-docs.
func TestHTMLRedirect(t *testing.T) {
	apps, err := filepath.Abs("testdata/incapps")
	if err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, "-Dapp.dir="+apps, "-Dhttp.html.redirect=./app/incdemo/html/")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/app/incdemo/html/", "/html/index.html": "/", "/api/index.html": "/api/"} {
		resp, err := client.Get(e.http + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != want {
			t.Errorf("GET %s = %d → %q, want a redirect to %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if code, body := e.do(t, "GET", "/app/incdemo/html/", ""); code != 200 || !strings.Contains(body, "<title>inc demo</title>") {
		t.Errorf("the page redirected to = %d %.80q", code, body)
	}
	if strings.Contains(e.logText(), "http.html.redirect") {
		t.Errorf("start-up warns about http.html.redirect:\n%s", e.logText())
	}
	var doc struct{ Paths map[string]any }
	e.get(t, "/api-docs", &doc)
	if _, ok := doc.Paths["/app/incdemo/scripts/demo.js/trend/json"]; !ok {
		t.Errorf("incdemo's api.yml is not in /api-docs")
	}
}
