// Command inmon-apps is a hand-run harness (not part of CI): it installs a
// directory of sFlow-RT applications — InMon's, unmodified — into a fresh
// engine's app.dir, drives synthetic sFlow at it with flowrt send, and
// reports per application whether its scripts loaded (/scripts/json,
// /app/<name>/status), what its own REST endpoints answer, and, in headless
// Chromium, the console errors of its page and whether the page drew live
// data (stripcharts, gauges, tables).
//
//	go run ./inmon-apps -apps /work/apps -flowrt ../flowrt
//
// See README.md beside this file.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/flowrt/flowrt/bench/internal/launch"
)

type result struct {
	App      string   `json:"app"`
	PagePath string   `json:"pagePath,omitempty"` // the page loaded, under /app/<app>/html/ (default index.html)
	Scripts  int      `json:"scripts"`
	Running  int      `json:"running"`
	Status   string   `json:"status"`           // /app/<name>/status: OK, or its first line
	Errors   []string `json:"errors,omitempty"` // script errors from /scripts/json
	REST     []probe  `json:"rest,omitempty"`   // the app's own endpoints
	// PageREST are the app's endpoints as its page called them (with the
	// page's query parameters), each asked again by the harness after the
	// page ran.
	PageREST []probe  `json:"pageRest,omitempty"`
	Page     bool     `json:"page"`               // has html/index.html
	Console  []string `json:"console,omitempty"`  // page problems: exceptions, console.error, failed loads
	External []string `json:"external,omitempty"` // failed loads from outside the engine (CDNs): not flowrt's
	// Later are the app's scripts' errors after the first look, from
	// /scripts/json at the end of the run: errors and timeouts counted,
	// with the last message ("ddos.js: 3 errors (2 timeouts), last: …").
	Later  []string `json:"later,omitempty"`
	Live   string   `json:"live"` // what the page drew
	LiveOK bool     `json:"liveOK"`
}

type probe struct {
	Path string `json:"path"`
	Code int    `json:"code"`
	Note string `json:"note,omitempty"` // first line of a failure, or the answer's size
	// Value is evidence of measured data in the answer (realValue): a
	// non-zero number or non-empty string, with where it is.
	Value string `json:"value,omitempty"`
	// Own: a 400/404 the application's handler threw itself (see restProbes).
	Own bool `json:"own,omitempty"`
}

func main() {
	appsDir := flag.String("apps", "", "directory of applications (app/<name>/scripts, html), e.g. /work/apps")
	flowrt := flag.String("flowrt", "flowrt", "flowrt binary (build it after scripts/assets so /inc/ has the npm libraries)")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium binary")
	only := flag.String("only", "", "comma list of applications to try (default all)")
	warm := flag.Duration("warm", 15*time.Second, "traffic before the first probe")
	pageWait := flag.Duration("page", 10*time.Second, "time each page runs before it is read")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	also := flag.String("also", "flow-trend:index.html?keys=ipsource,ipdestination&value=bps;top-flows:index.html?keys=ipsource&value=fps;browse-flows:index.html?keys=ipsource&value=bps;browse-drops:index.html?keys=ipsource&value=fps;trace-flow:index.html?filter=ipprotocol%3D6",
		"more pages to load, ;-separated <app>:<page>?<query> (the pages that draw only once keys are chosen take them from the query)")
	props := flag.String("props", "", "more engine properties, space separated (-Dgeo.country=/path/country.mmdb …)")
	geoDB := flag.Bool("geo", true, "give the engine made-up GeoIP country and ASN databases (four countries and ASes over the IPv4 space), as sFlow-RT ships them: world-map and particle key by them")
	sendArgs := flag.String("send", "-agents 4 -ports 8 -flows 400 -hosts -containers 4 -drops -mix tcp,udp,dns,unreachable,roce,dtn -counters 1s -rate 400",
		"flowrt send's traffic (e.g. add -mix tcp,udp,dns,unreachable,reflection,syn for the DDoS apps)")
	withTopo := flag.Bool("topology", true, "PUT /topology/json with a ring of flowrt send's agents (see topo.go): the topology-aware apps have nothing to show without one")
	flag.Parse()
	if *appsDir == "" {
		fmt.Fprintln(os.Stderr, "inmon-apps: -apps DIR is required (a directory of sFlow-RT applications)")
		os.Exit(2)
	}
	names, err := appNames(*appsDir, *only)
	if err != nil {
		fail(err)
	}
	work, err := os.MkdirTemp("", "inmon-apps-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	appDir := filepath.Join(work, "app")
	for _, n := range names {
		if err := copyTree(filepath.Join(*appsDir, n), filepath.Join(appDir, n)); err != nil {
			fail(fmt.Errorf("installing %s: %w", n, err))
		}
	}

	// particle places addresses by the CIDRs of its four axes (its
	// particle.cidr* properties; without them it draws nothing): flowrt
	// send's sources are in 10.0.0.0/16, its destinations in 192.168.0.0/16.
	extra := append([]string{"-Dparticle.cidrN=10.0.0.0/17", "-Dparticle.cidrE=10.0.128.0/17",
		"-Dparticle.cidrS=192.168.0.0/17", "-Dparticle.cidrW=192.168.128.0/17"}, strings.Fields(*props)...)
	if *geoDB {
		db, err := writeCountryDB(work)
		if err != nil {
			fmt.Fprintln(os.Stderr, "inmon-apps:", err)
			os.Exit(1)
		}
		asn, err := writeASNDB(work)
		if err != nil {
			fmt.Fprintln(os.Stderr, "inmon-apps:", err)
			os.Exit(1)
		}
		extra = append(extra, "-Dgeo.country="+db, "-Dgeo.asn="+asn)
	}
	eng, err := startEngine(*flowrt, appDir, work, extra...)
	if err != nil {
		fail(err)
	}
	defer eng.Stop()
	if *withTopo {
		t, err := sendTopology(sendShape(strings.Fields(*sendArgs)))
		if err == nil {
			err = eng.put("/topology/json", t)
		}
		if err != nil {
			fail(fmt.Errorf("topology: %w", err))
		}
	}
	for _, n := range names {
		for _, put := range appSetup[n] {
			if err := eng.put(put[0], []byte(put[1])); err != nil {
				fmt.Fprintf(os.Stderr, "inmon-apps: setting up %s: %v\n", n, err)
			}
		}
	}
	sender := exec.Command(*flowrt, append([]string{"send", "-to", eng.SFlow, "-duration", "2h"}, strings.Fields(*sendArgs)...)...)
	if err := sender.Start(); err != nil {
		fail(fmt.Errorf("flowrt send: %w", err))
	}
	defer func() { sender.Process.Kill(); sender.Wait() }()
	fmt.Fprintf(os.Stderr, "inmon-apps: %d applications installed in %s; engine at %s; warming %v\n", len(names), appDir, eng.HTTP, *warm)
	time.Sleep(*warm)

	results := scriptState(eng, names)
	for _, r := range results {
		r.REST = restProbes(eng, filepath.Join(appDir, r.App), r.App)
	}
	for _, a := range strings.Split(*also, ";") {
		app, pg, ok := strings.Cut(a, ":")
		if !ok || !slicesContains(names, app) {
			continue
		}
		r := &result{App: app, PagePath: pg, Status: "(see above)"}
		for _, o := range results {
			if o.App == app {
				r.Scripts, r.Running, r.Status = o.Scripts, o.Running, o.Status
			}
		}
		results = append(results, r)
	}
	if err := pages(eng, *chromium, appDir, results, *pageWait); err != nil {
		fail(err)
	}
	laterErrors(eng, results)
	report(os.Stdout, results)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", " ")
		os.WriteFile(*jsonOut, b, 0o644)
	}
	if logs := eng.Problems(); len(logs) > 0 {
		fmt.Printf("\nEngine log lines at WARN or ERROR (%d, first 40):\n\n", len(logs))
		for i, l := range logs {
			if i == 40 {
				break
			}
			fmt.Println("    " + l)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "inmon-apps:", err)
	os.Exit(1)
}

// appNames lists the applications: directories with scripts/ or html/.
func appNames(dir, only string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || (len(want) > 0 && !want[e.Name()]) {
			continue
		}
		_, s := os.Stat(filepath.Join(dir, e.Name(), "scripts"))
		_, h := os.Stat(filepath.Join(dir, e.Name(), "html"))
		if s == nil || h == nil {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no applications (directories with scripts/ or html/) in %s", dir)
	}
	return out, nil
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// engine is a flowrt engine with the harness's REST calls.
type engine struct{ *launch.Engine }

// startEngine starts flowrt in work with appDir as its app.dir.
func startEngine(bin, appDir, work string, props ...string) (*engine, error) {
	e, err := launch.StartEngine(bin, work, append([]string{"-Dapp.dir=" + appDir}, props...)...)
	if err != nil {
		return nil, err
	}
	return &engine{e}, nil
}

var client = &http.Client{Timeout: 20 * time.Second}

func (e *engine) get(path string) (int, []byte, error) {
	resp, err := client.Get(e.HTTP + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// scriptState reads /scripts/json and /app/<name>/status.
// readScripts reads /scripts/json (nil, said on stderr, when it fails).
func readScripts(e *engine) map[string]map[string]any {
	var scripts map[string]map[string]any
	if code, b, err := e.get("/scripts/json"); err != nil || code != 200 {
		fmt.Fprintf(os.Stderr, "inmon-apps: /scripts/json: %d %v %s\n", code, err, b)
	} else {
		json.Unmarshal(b, &scripts)
	}
	return scripts
}

func scriptState(e *engine, names []string) []*result {
	scripts := readScripts(e)
	var out []*result
	for _, n := range names {
		r := &result{App: n}
		for id, s := range scripts {
			app, _ := s["app"].(string)
			if app == "" && strings.HasPrefix(id, n+"/") {
				app = n
			}
			if app != n {
				continue
			}
			r.Scripts++
			if alive, _ := s["alive"].(bool); alive {
				r.Running++
			}
			if msg, _ := s["error"].(string); msg != "" {
				r.Errors = append(r.Errors, id+": "+firstLine(msg))
			}
		}
		sort.Strings(r.Errors)
		code, b, err := e.get("/app/" + n + "/status")
		switch {
		case err != nil:
			r.Status = err.Error()
		case code == 200:
			r.Status = "OK"
		default:
			r.Status = fmt.Sprintf("%d %s", code, firstLine(string(b)))
		}
		out = append(out, r)
	}
	return out
}

var (
	// '../scripts/x.js/path/json' written out whole
	fullRef = regexp.MustCompile(`\.\./scripts/([A-Za-z0-9_.-]+\.js)/([A-Za-z0-9_/.-]*?)(json|txt)\b`)
	// restPath = '../scripts/x.js/' then restPath + 'path/json'
	baseRef = regexp.MustCompile(`['"]\.\./scripts/([A-Za-z0-9_.-]+\.js)/['"]`)
	tailRef = regexp.MustCompile(`['"]([a-z][A-Za-z0-9_-]*(?:/[A-Za-z0-9_-]+)*/(?:json|txt))['"]`)
)

// laterErrors reads /scripts/json again at the end of the run: the errors
// each script counted since it started (the first look only sees errors
// from loading and the first seconds).
func laterErrors(e *engine, results []*result) {
	scripts := readScripts(e)
	for _, r := range results {
		if r.PagePath != "" {
			continue
		}
		for id, s := range scripts {
			if app, _ := s["app"].(string); app != r.App {
				continue
			}
			n, _ := s["errors"].(float64)
			t, _ := s["timeouts"].(float64)
			if n == 0 && t == 0 {
				continue
			}
			msg, _ := s["error"].(string)
			r.Later = append(r.Later, fmt.Sprintf("%s: %d errors (%d timeouts), last: %s", id, int(n), int(t), firstLine(msg)))
		}
		sort.Strings(r.Later)
	}
}

// restProbes GETs the endpoints the app's pages call, found in their source.
func restProbes(e *engine, dir, app string) []probe {
	paths := map[string]bool{}
	filepath.WalkDir(filepath.Join(dir, "html"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".html")) || strings.Contains(p, ".min.") {
			return nil
		}
		b, _ := os.ReadFile(p)
		src := string(b)
		for _, m := range fullRef.FindAllStringSubmatch(src, -1) {
			paths[m[1]+"/"+m[2]+m[3]] = true
		}
		if bm := baseRef.FindStringSubmatch(src); bm != nil {
			for _, m := range tailRef.FindAllStringSubmatch(src, -1) {
				if !strings.HasPrefix(m[1], "application/") && !strings.HasPrefix(m[1], "text/") { // content types
					paths[bm[1]+"/"+m[1]] = true
				}
			}
		}
		return nil
	})
	for _, p := range extraREST[app] {
		paths[p] = true
	}
	var list []string
	for p := range paths {
		list = append(list, p)
	}
	sort.Strings(list)
	var out []probe
	for _, p := range list {
		path := "/app/" + app + "/scripts/" + p
		code, b, err := e.get(path)
		pr := probe{Path: p, Code: code}
		switch {
		case err != nil:
			pr.Note = err.Error()
		case code >= 300:
			pr.Note = firstLine(string(b))
			// A script that throws 'not_found' or 'bad_request' answers with
			// just those words: the app's own answer to a GET without the
			// parameters its page sends (or to a URL its page never calls),
			// not the engine's (whose 404s say what is missing).
			if (code == 400 || code == 404) && (pr.Note == "not found" || pr.Note == "bad request") {
				pr.Own = true
				pr.Note += " (thrown by the app's own handler)"
			}
		default:
			pr.Note = fmt.Sprintf("%d bytes", len(b))
			pr.Value = realValue(b)
		}
		out = append(out, pr)
	}
	return out
}

// liveProbe reads what the page drew: flowrt's stripcharts, sunbursts,
// heatmaps and particle views (counted as charts) and gauges, each live
// when it holds a non-zero value; tables with rows; other canvases and SVGs.
const liveProbe = `JSON.stringify((function() {
  var r = {charts: 0, chartsLive: 0, gauges: 0, gaugesLive: 0, rows: 0, canvases: document.querySelectorAll('canvas').length, svgs: document.querySelectorAll('svg').length, jquery: !!window.jQuery};
  if (!window.jQuery) return r;
  var $ = window.jQuery;
  $('.stripchart').each(function() {
    r.charts++;
    var d = null; try { d = $(this).stripchart('lastData'); } catch (e) {}
    if (d && d.values && d.values.some(function(s) { return s.some(function(v) { return +v > 0; }); })) r.chartsLive++;
  });
  $('.gauge').each(function() {
    r.gauges++;
    var v; try { v = $(this).gauge('value'); } catch (e) {}
    if (+v > 0) r.gaugesLive++;
  });
  [['.sunburst', 'sunburst', 'value'], ['.heatmap', 'heatmap', 'lastData'], ['.flow', 'flow', 'particles']].forEach(function(w) {
    $(w[0]).each(function() {
      r.charts++;
      var v; try { v = $(this)[w[1]](w[2]); } catch (e) {}
      if ((Array.isArray(v) && v.length > 0) || +v > 0) r.chartsLive++;
    });
  });
  $('table tbody tr').each(function() {
    var t = $(this).text().trim();
    if (t && !/No data available/.test(t)) r.rows++;
  });
  return r;
})())`

type live struct {
	Charts, ChartsLive, Gauges, GaugesLive, Rows, Canvases, SVGs int
	JQuery                                                       bool
}

func pages(e *engine, chromium, appDir string, results []*result, wait time.Duration) error {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1400, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	for _, r := range results {
		if _, err := os.Stat(filepath.Join(appDir, r.App, "html", "index.html")); err != nil {
			r.Live = "no page"
			continue
		}
		r.Page = true
		if err := loadPage(e, actx, r, wait); err != nil {
			r.Console = append(r.Console, "harness: "+err.Error())
		}
	}
	return nil
}

func loadPage(e *engine, actx context.Context, r *result, wait time.Duration) error {
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var mu sync.Mutex
	add := func(msg, url string) {
		mu.Lock()
		defer mu.Unlock()
		if url != "" && !strings.HasPrefix(url, e.HTTP) {
			r.External = append(r.External, msg)
			return
		}
		r.Console = append(r.Console, msg)
	}
	if err := chromedp.Do(ctx); err != nil {
		return err
	}
	dialogs := make(chan string, 16)
	called := map[string]string{} // path → the last URL (with query) the page asked for
	prefix := e.HTTP + "/app/" + r.App + "/scripts/"
	chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; strings.HasPrefix(u, prefix) && ev.Request.Method == "GET" {
				path, _, _ := strings.Cut(u, "?")
				mu.Lock()
				called[path] = u
				mu.Unlock()
			}
		case *page.EventJavascriptDialogOpening:
			// alert() would stop the page (and this harness) until answered:
			// note it, and answer it from another goroutine (Listen's rules).
			add("dialog: "+firstLine(ev.Message), "")
			select {
			case dialogs <- ev.Message:
			default:
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = firstLine(d.Exception.Description)
			}
			add(fmt.Sprintf("exception: %s (%s:%d)", msg, shortURL(e, d.URL), d.LineNumber+1), "")
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				} else {
					parts = append(parts, a.Description)
				}
			}
			add("console.error: "+firstLine(strings.Join(parts, " ")), "")
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				add(firstLine(ev.Entry.Text)+" "+shortURL(e, ev.Entry.URL), ev.Entry.URL)
			}
		}
	})
	tctx, tcancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer tcancel()
	go func() {
		for {
			select {
			case <-dialogs:
				chromedp.Call(tctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			case <-tctx.Done():
				return
			}
		}
	}()
	pg := r.PagePath
	if pg == "" {
		pg = "index.html"
	}
	if _, err := chromedp.Call(tctx, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("network.enable: %w", err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(e.HTTP+"/app/"+r.App+"/html/"+pg)); err != nil {
		return err
	}
	defer func() {
		mu.Lock()
		urls := make([]string, 0, len(called))
		for _, u := range called {
			urls = append(urls, u)
		}
		mu.Unlock()
		sort.Strings(urls)
		for _, u := range urls {
			code, b, err := e.get(strings.TrimPrefix(u, e.HTTP))
			pr := probe{Path: strings.TrimPrefix(u, prefix), Code: code}
			switch {
			case err != nil:
				pr.Note = err.Error()
			case code >= 300:
				pr.Note = firstLine(string(b))
			default:
				pr.Note = fmt.Sprintf("%d bytes", len(b))
				pr.Value = realValue(b)
			}
			r.PageREST = append(r.PageREST, pr)
		}
	}()
	// Rows there at once are the page's own (help, settings); rows that
	// come later are data.
	var first live
	if s, err := chromedp.Run(tctx, chromedp.Evaluate[string](liveProbe)); err == nil {
		json.Unmarshal([]byte(s), &first)
	}
	if act, ok := pageActions[r.App]; ok && r.PagePath == "" {
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](act)); err != nil {
			add("harness action: "+err.Error(), "")
		}
	}
	time.Sleep(wait)
	s, err := chromedp.Run(tctx, chromedp.Evaluate[string](liveProbe))
	if err != nil {
		return err
	}
	var l live
	json.Unmarshal([]byte(s), &l)
	newRows := l.Rows - first.Rows
	var parts []string
	if l.Charts > 0 {
		parts = append(parts, fmt.Sprintf("charts %d/%d", l.ChartsLive, l.Charts))
	}
	if l.Gauges > 0 {
		parts = append(parts, fmt.Sprintf("gauges %d/%d", l.GaugesLive, l.Gauges))
	}
	if newRows > 0 {
		parts = append(parts, fmt.Sprintf("table rows +%d", newRows))
	}
	if l.Charts == 0 && l.Gauges == 0 {
		parts = append(parts, fmt.Sprintf("canvas %d, svg %d", l.Canvases, l.SVGs))
	}
	if !l.JQuery {
		parts = append(parts, "no jQuery")
	}
	r.Live = strings.Join(parts, ", ")
	r.LiveOK = l.ChartsLive > 0 || l.GaugesLive > 0 || (l.Charts == 0 && l.Gauges == 0 && newRows > 0)
	return nil
}

func shortURL(e *engine, u string) string { return strings.TrimPrefix(u, e.HTTP) }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// report prints a Markdown table, then each app's details.
func report(w io.Writer, results []*result) {
	fmt.Fprintln(w, "| app | scripts running | /app/…/status | REST 2xx | REST with data | REST as the page calls it, with data | page console errors | live data | first failure |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		ok := 0
		for _, p := range r.REST {
			if p.Code >= 200 && p.Code < 300 {
				ok++
			}
		}
		rest, data := "–", "–"
		if len(r.REST) > 0 {
			rest = fmt.Sprintf("%d/%d", ok, len(r.REST))
			data = withData(r.REST)
		}
		pageData := "–"
		if len(r.PageREST) > 0 {
			pageData = withData(r.PageREST)
		}
		console := "–"
		if r.Page {
			console = fmt.Sprint(len(r.Console))
			if len(r.External) > 0 {
				console += fmt.Sprintf(" (+%d external)", len(r.External))
			}
		}
		liveMark := r.Live
		if r.Page && r.LiveOK {
			liveMark = "yes: " + r.Live
		} else if r.Page {
			liveMark = "no: " + r.Live
		}
		status := r.Status
		if status != "OK" {
			status = "fails"
		}
		name := r.App
		if r.PagePath != "" {
			name += " (" + r.PagePath + ")"
		}
		fmt.Fprintf(w, "| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s |\n", name, r.Running, r.Scripts, status, rest, strings.ReplaceAll(data, "|", "/"), strings.ReplaceAll(pageData, "|", "/"), console, liveMark,
			strings.ReplaceAll(firstFailure(r), "|", "/"))
	}
	fmt.Fprintln(w)
	for _, r := range results {
		if len(r.Errors) == 0 && len(r.Later) == 0 && len(r.Console) == 0 && len(r.External) == 0 && allOK(r.REST) && allData(r.REST) && allOK(r.PageREST) && allData(r.PageREST) {
			continue
		}
		if r.PagePath != "" {
			fmt.Fprintf(w, "### %s (%s)\n\n", r.App, r.PagePath)
		} else {
			fmt.Fprintf(w, "### %s\n\n", r.App)
		}
		for _, e := range r.Errors {
			fmt.Fprintf(w, "- script: %s\n", e)
		}
		for _, e := range r.Later {
			fmt.Fprintf(w, "- script, over the whole run: %s\n", e)
		}
		for _, p := range r.REST {
			if p.Code < 200 || p.Code >= 300 {
				fmt.Fprintf(w, "- REST %s: %d %s\n", p.Path, p.Code, p.Note)
			} else if p.Value == "" {
				fmt.Fprintf(w, "- REST %s: %d, no measured value in %s\n", p.Path, p.Code, p.Note)
			}
		}
		for _, p := range r.PageREST {
			if p.Code < 200 || p.Code >= 300 {
				fmt.Fprintf(w, "- REST as the page calls it, %s: %d %s\n", p.Path, p.Code, p.Note)
			} else if p.Value == "" {
				fmt.Fprintf(w, "- REST as the page calls it, %s: %d, no measured value in %s\n", p.Path, p.Code, p.Note)
			}
		}
		for i, c := range dedupe(r.Console) {
			if i == 8 {
				fmt.Fprintf(w, "- … %d more\n", len(dedupe(r.Console))-8)
				break
			}
			fmt.Fprintf(w, "- page: %s\n", c)
		}
		for _, c := range dedupe(r.External) {
			fmt.Fprintf(w, "- page (outside the engine): %s\n", c)
		}
		fmt.Fprintln(w)
	}
}

func allData(ps []probe) bool {
	for _, p := range ps {
		if p.Value == "" {
			return false
		}
	}
	return true
}

func allOK(ps []probe) bool {
	for _, p := range ps {
		if p.Code < 200 || p.Code >= 300 {
			return false
		}
	}
	return true
}

func dedupe(list []string) []string {
	seen := map[string]int{}
	var out []string
	for _, s := range list {
		if seen[s] == 0 {
			out = append(out, s)
		}
		seen[s]++
	}
	for i, s := range out {
		if n := seen[s]; n > 1 {
			out[i] = fmt.Sprintf("%s (×%d)", s, n)
		}
	}
	return out
}

// firstFailure is the first reason the app is not working, shortened: a
// script error, a failed REST call, a page problem.
func firstFailure(r *result) string {
	var s string
	switch {
	case len(r.Errors) > 0:
		s = r.Errors[0]
	case r.Status != "OK":
		s = r.Status
	}
	if s == "" {
		for _, p := range r.REST {
			if (p.Code < 200 || p.Code >= 300) && !p.Own {
				s = fmt.Sprintf("REST %s: %d %s", p.Path, p.Code, p.Note)
				break
			}
		}
	}
	if s == "" && len(r.Console) > 0 {
		s = "page: " + r.Console[0]
	}
	if s == "" && len(r.External) > 0 {
		s = "page (outside the engine): " + r.External[0]
	}
	// the install path is noise in a table
	if i := strings.Index(s, " at /"); i > 0 {
		s = s[:i]
	}
	if len(s) > 140 {
		s = s[:140] + "…"
	}
	return s
}

func slicesContains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// withData is a table cell: how many of the probes answered a measured
// value, and the first of them ("2/3: top.js/flows/json bps=…").
func withData(probes []probe) string {
	n, first := 0, ""
	for _, p := range probes {
		if p.Value != "" {
			if n++; first == "" {
				first = p.Path + " " + p.Value
			}
		}
	}
	cell := fmt.Sprintf("%d/%d", n, len(probes))
	if first != "" {
		cell += ": " + first
	}
	return cell
}
