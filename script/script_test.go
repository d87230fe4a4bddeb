package script

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

type rig struct {
	e   *engine.Engine
	th  *threshold.Monitor
	m   *Manager
	dir string
}

func newRig(t testing.TB, timeout time.Duration) *rig {
	t.Helper()
	return newRigWith(t, timeout, nil)
}

// newRigWith is newRig with Deps set by with before the manager starts.
func newRigWith(t testing.TB, timeout time.Duration, with func(d *Deps)) *rig {
	t.Helper()
	e := engine.New(engine.Config{})
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	topo := &topology.Store{}
	topology.Register(e.Compiler(), topo)
	e.SetTopology(topo)
	th := threshold.New(e, 100)
	dir := t.TempDir()
	d := Deps{Engine: e, Thresholds: th, Groups: groups, Maps: maps, Topology: topo,
		Properties: map[string]string{"ddos.threshold": "1000"}, StoreDir: filepath.Join(dir, "store"),
		CallTimeout: timeout, RunCmd: true, Version: "test"}
	if with != nil {
		with(&d)
	}
	m := NewManager(d)
	t.Cleanup(m.Stop)
	return &rig{e: e, th: th, m: m, dir: dir}
}

func (r *rig) mustScript(t testing.TB, id string) *Script {
	t.Helper()
	s, ok := r.m.Script(id)
	if !ok {
		t.Fatalf("no script %s", id)
	}
	return s
}

func (r *rig) load(t testing.TB, name, src string) *Script {
	t.Helper()
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := r.m.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call runs JavaScript in the script and returns the value as a string.
func call(t testing.TB, s *Script, path string, q map[string][]string) Response {
	t.Helper()
	resp, err := s.Serve(Request{Method: "GET", Path: strings.Split(path, "/"), Format: "json", Query: q})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestAPIBasics(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "basics.js", `// author: flowrt
// version: 1.0
include('extras/json2.js');
setFlow('pairs', {keys:['ipsource','ipdestination'], value:'bytes', n:10});
setGroups({external:['0.0.0.0/0'], private:['10.0.0.0/8']});
setGroups('zones', {a:['10.0.0.0/24']});
setMap('protos', {udp:['17'], tcp:['6']});
setThreshold('big', {metric:'pairs', value:1, byFlow:true, timeout:1});
storeSet('k', {a:[1,2,3]});
sharedSet('shared', 'hello');
let ticks = 0;
setIntervalHandler(function(now) { ticks++; }, 0.05);
setHttpHandler(function(req) {
  switch(req.path[0]) {
  case 'ticks': return {ticks: ticks};
  case 'echo': return {q: '' + req.query.x, first: req.query.x[0], method: req.method, format: req.format};
  case 'store': return storeGet('k');
  case 'prop': return getSystemProperty('ddos.threshold') + ',' + getSystemProperty('nope');
  case 'fmt': return formatNumber(1234567.891, '#,##0.00') + '|' + formatNumber(3, "0'%' difference") + '|' + md5('abc');
  case 'flows': return activeFlows('ALL', 'pairs', 3);
  case 'metric': return metric('ALL', 'sum:pairs,max:ifinoctets', {});
  case 'es6': { const [a, b] = 'x,y'.split(','); const m = new Map([[a, 1]]); return `+"`${a}-${b}-${m.get('x')}`"+`; }
  case 'missing': throw 'not_found';
  case 'bad': throw 'bad_request';
  default: throw new Error('boom');
  }
});
`)
	if s.Meta["author"] != "flowrt" || s.Meta["version"] != "1.0" {
		t.Errorf("meta %v", s.Meta)
	}
	eventually(t, "the interval handler", func() bool {
		return strings.Contains(string(call(t, s, "ticks", nil).Body), `"ticks": `) && !strings.Contains(string(call(t, s, "ticks", nil).Body), `"ticks": 0`)
	})
	if _, ok := r.e.Definition("pairs"); !ok {
		t.Fatal("setFlow did not define pairs")
	}
	if _, ok := r.th.Get("big"); !ok {
		t.Fatal("setThreshold")
	}
	for path, want := range map[string]string{
		"echo":  `"q": "1"`,
		"store": `"a": [`,
		"prop":  "1000,null",
		"fmt":   "1,234,567.89|3% difference|900150983cd24fb0d6963f7d28e17f72",
		"es6":   "x-y-1",
	} {
		resp := call(t, s, path, map[string][]string{"x": {"1"}})
		if resp.Status != 200 || !strings.Contains(string(resp.Body), want) {
			t.Errorf("%s: %d %s, want %s", path, resp.Status, resp.Body, want)
		}
	}
	if resp := call(t, s, "missing", nil); resp.Status != 404 {
		t.Errorf("throw 'not_found': %d", resp.Status)
	}
	if resp := call(t, s, "bad", nil); resp.Status != 400 {
		t.Errorf("throw 'bad_request': %d", resp.Status)
	}
	resp := call(t, s, "other", nil)
	if resp.Status != 500 || !strings.Contains(string(resp.Body), "boom") {
		t.Errorf("an Error: %d %s", resp.Status, resp.Body)
	}
	if st := s.Status(); !st.Alive || !strings.Contains(st.Error, "basics.js:") || !strings.Contains(st.Error, "boom") {
		t.Errorf("status %+v: the error should name the file and line", st)
	}
	// A second script sees the shared value; the store is on disk.
	s2 := r.load(t, "second.js", `setHttpHandler(function() { return sharedGet('shared'); });`)
	eventually(t, "the second script", func() bool { return string(call(t, s2, "x", nil).Body) == "hello" })
	if _, err := os.Stat(filepath.Join(r.dir, "store", "~basics.js", "k")); err != nil {
		t.Errorf("storeSet file: %v", err)
	}
}

// TestRunawayScripts: an endless loop is interrupted and the script goes on
// serving; unbounded recursion is a RangeError, not gigabytes; a script
// that throws at load time is reported and others run.
func TestRunawayScripts(t *testing.T) {
	r := newRig(t, 300*time.Millisecond)
	s := r.load(t, "loop.js", `
setHttpHandler(function(req) {
  if (req.path[0] == 'spin') { while(true) {} }
  if (req.path[0] == 'deep') { function f(n) { return f(n+1) + 1; } return f(0); }
  return 'still here';
});`)
	start := time.Now()
	resp := call(t, s, "spin", nil)
	if resp.Status != 500 || time.Since(start) > 3*time.Second {
		t.Errorf("endless loop: %d after %v", resp.Status, time.Since(start))
	}
	if st := s.Status(); !strings.Contains(st.Error, "interrupted") {
		t.Errorf("status after the loop: %+v", st)
	}
	if resp := call(t, s, "deep", nil); resp.Status != 500 || !strings.Contains(string(resp.Body), "RangeError") {
		t.Errorf("deep recursion: %d %s", resp.Status, resp.Body)
	}
	if resp := call(t, s, "ok", nil); string(resp.Body) != "still here" {
		t.Errorf("after both: %d %s", resp.Status, resp.Body)
	}
	if resp := call(t, s, "ok", nil); string(resp.Body) != "still here" || s.Status().Errors != 2 {
		t.Errorf("after both: %d %s, %d errors", resp.Status, resp.Body, s.Status().Errors)
	}
}

// TestScriptsThatDoNotLoad: a file that is missing, does not compile, or
// throws at top level is listed with one clear error, and the manager is
// not OK; the others run.
func TestScriptsThatDoNotLoad(t *testing.T) {
	r := newRig(t, 2*time.Second)
	good := r.load(t, "good.js", "setHttpHandler(function() { return 'fine'; });")
	write := func(name, src string) string {
		p := filepath.Join(r.dir, name)
		os.WriteFile(p, []byte(src), 0o644)
		return p
	}
	for _, c := range []struct {
		name, src string
		alive     bool
		want      string // the error, after the directory
	}{
		{"syntax.js", "// author: x\nvar x = ;\n", false, "SyntaxError: Unexpected token ; at DIR/syntax.js:2:9"},
		{"open.js", "var a = 1;\nfunction f() {\n  return 1;\n\n", false,
			"SyntaxError: Unexpected end of input (a block, call or string left open) after DIR/open.js:3:11"},
		{"unclosed.js", "var a = 1;\nvar b = [1, 2\n\n  // the next line\n  var c = 3;\n", false,
			"SyntaxError: Unexpected token var at DIR/unclosed.js:5:3 (the code before it, line 2, may be unfinished)"},
		{"extra.js", "function f() {\n  return 1;\n}\n}\n", false, "SyntaxError: Unexpected token } at DIR/extra.js:4:1"},
		{"redeclared.js", "let a = 1;\nlet a = 2;\n", false, "SyntaxError: Identifier 'a' has already been declared at DIR/redeclared.js:2:5"},
		{"inc.js", "var y = 1;\ninclude('syntax.js');\n", true, "SyntaxError: Unexpected token ; at DIR/syntax.js:2:9 at DIR/inc.js:2:8"},
		{"throws.js", "setHttpHandler(function() { return 'partly'; });\nnull.x;\n", true,
			"TypeError: Cannot read property 'x' of undefined at DIR/throws.js:2:6"},
	} {
		s, err := r.m.Load(write(c.name, c.src))
		want := strings.ReplaceAll(c.want, "DIR", r.dir)
		st := s.Status()
		if err == nil || err.Error() != want || st.LoadError != want || st.Error != want || st.Alive != c.alive || st.Errors != 1 ||
			time.Since(time.UnixMilli(st.ErrorTime)) > time.Minute || s.OK() {
			t.Errorf("%s: err %v, status %+v; want %q, alive %v, 1 error", c.name, err, st, want, c.alive)
		}
	}
	// What throws.js set up before its error runs; syntax.js has no handler.
	if resp := call(t, r.mustScript(t, "throws.js"), "x", nil); string(resp.Body) != "partly" {
		t.Errorf("throws.js's handler: %d %s", resp.Status, resp.Body)
	}
	syntax := r.mustScript(t, "syntax.js")
	if _, err := syntax.Serve(Request{Method: "GET"}); !errors.Is(err, ErrNoHandler) || !strings.Contains(err.Error(), "did not load: SyntaxError") {
		t.Errorf("a request to syntax.js: %v", err)
	}
	if syntax.Meta["author"] != "x" {
		t.Errorf("meta of a script that did not compile: %v", syntax.Meta)
	}
	missing := filepath.Join(r.dir, "missing.js")
	s, err := r.m.Load(missing)
	if st := s.Status(); err == nil || st.Alive || !strings.HasPrefix(st.LoadError, "cannot read the script: open "+missing+": no such file") {
		t.Errorf("missing file: %v %+v", err, st)
	}
	if r.m.AllOK() || !good.OK() {
		t.Errorf("AllOK %v with failed scripts; good.js OK %v", r.m.AllOK(), good.OK())
	}
	problems := r.m.Problems("")
	if len(problems) != 8 || !strings.HasPrefix(problems[0], "extra.js: SyntaxError") || !strings.HasPrefix(problems[2], "missing.js: cannot read") {
		t.Errorf("problems %q", problems)
	}
	r.m.Stop()
	if st := s.Status(); st.GracefulExit || st.Alive {
		t.Errorf("a script that never ran, after Stop: %+v", st)
	}
}

// TestErrorLog: each different error once in full, at most errorLines a
// minute; repeats announced once, then counted and summarised.
func TestErrorLog(t *testing.T) {
	var l errorLog
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	for i := range 130 { // the same error every second for 130 s
		n := l.note(t0.Add(time.Duration(i)*time.Second), "controller down")
		got = append(got, fmt.Sprintf("%v/%v/%d", n.full, n.notice, n.skipped))
	}
	want := map[int]string{0: "true/false/0", 1: "false/true/0", 2: "false/false/0", 60: "false/false/59", 61: "false/false/0", 120: "false/false/60"}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("error %d: full/notice/skipped %s, want %s", i, got[i], w)
		}
	}
	full := 0
	for _, g := range got {
		if strings.HasPrefix(g, "true") {
			full++
		}
	}
	if full != 1 {
		t.Errorf("%d full lines for one repeated error", full)
	}
	// Errors that differ every time: errorLines a minute, the rest counted.
	var m errorLog
	full = 0
	for i := range 100 {
		if m.note(t0.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprintf("error %d", i)).full {
			full++
		}
	}
	if full != errorLines || m.skipped != 100-errorLines {
		t.Errorf("%d full, %d skipped of 100 different errors in 10 s", full, m.skipped)
	}
}

func TestFlowAndEventHandlers(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "handlers.js", `
var flows = [], events = [];
setFlow('uports', {keys:'ipdestination,icmpunreachableport', value:'frames', t:2, log:true, flowStart:true});
setFlow('dst', {keys:'ipdestination', value:'frames', t:1});
setThreshold('busy', {metric:'dst', value:10, byFlow:true, timeout:60});
setFlowHandler(function(rec) { flows.push(rec.name + ' ' + rec.flowKeys + ' ' + rec.agent); }, ['uports']);
setEventHandler(function(evt) { events.push(evt.thresholdID + ' ' + evt.flowKey); }, ['busy']);
setHttpHandler(function() { return {flows: flows, events: events}; });
`)
	eventually(t, "the definitions", func() bool { _, ok := r.e.Definition("dst"); return ok && len(r.th.All()) == 1 })
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 4, Mix: []synth.Proto{synth.Unreachable}, Seed: 1})
	w := r.e.NewWorker()
	now := time.Now()
	for i := range 200 {
		b, _ := g.Datagram(nil, 1000)
		w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now.Add(time.Duration(i)*5*time.Millisecond))
	}
	r.th.Check(now.Add(time.Second))
	eventually(t, "flows and events in the script", func() bool {
		body := string(call(t, s, "x", nil).Body)
		return strings.Contains(body, "uports 10.0.0.") && strings.Contains(body, ",udp_3000") && strings.Contains(body, "busy 10.0.0.")
	})
	st := s.Status()
	if st.FlowsReceived == 0 || st.EventsReceived == 0 || st.FlowsLost != 0 {
		t.Errorf("counters %+v", st)
	}
}

// TestTopologyAndDataSourceFunctions covers the rest of the catalogue a
// Mininet-style application uses: graph functions over a topology the
// script sets, metrics at both ends of a link, what an agent's data source
// reports, forwarding sessions and dates.
func TestTopologyAndDataSourceFunctions(t *testing.T) {
	r := newRig(t, 2*time.Second)
	fw := forward.New(nil)
	r.m.deps.Forwarder = fw
	s := r.load(t, "topo.js", `
setTopology({nodes:{
  s1:{agent:'10.255.0.1', ports:{'s1-eth1':{ifindex:'1'}, 's1-eth2':{ifindex:'2'}}},
  s2:{agent:'10.255.0.2', ports:{'s2-eth1':{ifindex:'1'}}},
  s3:{agent:'10.255.0.3', ports:{'s3-eth1':{ifindex:'1'}}}},
 links:{'s1-s2':{node1:'s1',port1:'s1-eth1',node2:'s2',port2:'s2-eth1'},
        's1-s3':{node1:'s1',port1:'s1-eth2',node2:'s3',port2:'s3-eth1'}}});
setForward('copy', '127.0.0.1', 16343);
setHttpHandler(function() {
  return {
    links: topologyNodeLinks('s1'),
    path: topologyShortestPath('s2','s3'),
    paths: topologyShortestPaths('s2','s3',3),
    mst: topologyMinimumSpanningTree(),
    diameter: topologyDiameter(),
    ends: topologyLinkToInterfaces('s1-s2').map(i => i.node + ':' + i.ifindex),
    metric: topologyLinkMetric('s1-s2', ['ifinoctets'], 's2').map(m => m.agent + ' ' + m.dataSource + ' ' + m.metricName + ' ' + (m.metricValue >= 0)),
    info: datasourceInfo('10.255.0.1', '1'),
    none: datasourceInfo('10.255.0.1', '99'),
    date: formatDate(new Date(Date.UTC(2018, 9, 3, 12, 0, 0)), "yyyy-MM-dd'T'HH:mm:ss'Z'")
  };
});`)
	g, _ := synth.New(synth.Config{Agents: 3, Ports: 2, Flows: 10, SamplingRate: 100, Mix: []synth.Proto{synth.TCP}, Seed: 1})
	w := r.e.NewWorker()
	now := time.Now()
	for i := range 300 {
		b, _ := g.Datagram(nil, uint32(1000+i*10))
		w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now.Add(time.Duration(i)*time.Millisecond))
	}
	for i := range 3 {
		dgs, _ := g.Counters(nil, uint32(1000+i*20000))
		for _, b := range dgs {
			w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now.Add(time.Duration(i)*20*time.Second))
		}
	}
	var got struct {
		Links, Path, Mst, Ends, Metric []string
		Paths                          [][]string
		Diameter                       int
		Info                           map[string]float64
		None                           any
		Date                           string
	}
	if err := json.Unmarshal(call(t, s, "x", nil).Body, &got); err != nil {
		t.Fatal(err)
	}
	check := func(what string, a, b any) {
		t.Helper()
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s = %v, want %v", what, a, b)
		}
	}
	check("topologyNodeLinks", got.Links, []string{"s1-s2", "s1-s3"})
	check("topologyShortestPath", got.Path, []string{"s1-s2", "s1-s3"})
	check("topologyShortestPaths", got.Paths, [][]string{{"s1-s2", "s1-s3"}})
	check("topologyMinimumSpanningTree", got.Mst, []string{"s1-s2", "s1-s3"})
	check("topologyDiameter", got.Diameter, 2)
	check("topologyLinkToInterfaces", got.Ends, []string{"s1:1", "s2:1"})
	check("topologyLinkMetric", got.Metric, []string{"10.255.0.2 1 ifinoctets true", "10.255.0.1 1 ifinoctets true"})
	check("formatDate", got.Date, "2018-10-03T12:00:00Z")
	if got.None != nil {
		t.Errorf("datasourceInfo of an unknown data source = %v, want null", got.None)
	}
	if i := got.Info; i["samplingRate"] != 100 || i["effectiveSamplingRate"] != 100 || i["flowSamples"] == 0 ||
		i["counterSamples"] != 3 || i["effectivePollingInterval"] != 20000 {
		t.Errorf("datasourceInfo = %v", i)
	}
	if st, ok := fw.Get("copy"); !ok || st.Address != "127.0.0.1" || st.Port != 16343 {
		t.Errorf("setForward: %+v %v", st, ok)
	}
}

// TestHandlerArgumentsArePlainObjects: scripts annotate the records they
// get (evt.blocked = true) and pass them on; the argument must be an
// ordinary object for that, not a read-only view of a Go value.
func TestHandlerArgumentsArePlainObjects(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "annotate.js", `
var last = '';
setEventHandler(function(evt) { evt.blocked = true; delete evt.metric; last = JSON.stringify(evt); }, ['ddos']);
setHttpHandler(function() { return last; });`)
	r.m.event(threshold.Event{EventID: 7, ThresholdID: "ddos", Metric: "ddos", Value: 5, Agent: "10.0.0.1", DataSource: "3", FlowKey: "10.1.1.1"})
	eventually(t, "the annotated event", func() bool {
		body := string(call(t, s, "x", nil).Body)
		return strings.Contains(body, `"blocked":true`) && !strings.Contains(body, `"metric"`) && strings.Contains(body, `"flowKey":"10.1.1.1"`)
	})
}

// TestReadMeta: only the "// key: value" lines the file starts with.
func TestReadMeta(t *testing.T) {
	for _, c := range []struct {
		src  string
		want map[string]string
	}{
		{"// author: Peter\n// version: 1.0\n// date: 9/30/2013\n// description: DDoS controller script\n\ninclude('x.js');\n// later: not meta\n",
			map[string]string{"author": "Peter", "version": "1.0", "date": "9/30/2013", "description": "DDoS controller script"}},
		{"\n\n// author: Ann \r\n//version:2\r\nvar x;\n", map[string]string{"author": "Ann", "version": "2"}},
		{"// The article's script, as it prints\n// it: it drives a controller on localhost:8080.\n", map[string]string{}},
		{"// author: Ann\n// a sentence: with a colon, after the header\n", map[string]string{"author": "Ann"}},
		{"var a = 1; // author: nobody\n", map[string]string{}},
	} {
		if got := readMeta(c.src); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("readMeta(%q) = %v, want %v", c.src, got, c.want)
		}
	}
}

// lockedBuffer collects log lines written from the scripts' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// TestRepeatedErrorsInTheLog: an error every 20 ms is logged once with its
// stack and announced as repeating; when the window ends the count of what
// was held back is logged even though the errors have stopped by then.
func TestRepeatedErrorsInTheLog(t *testing.T) {
	defer func(w time.Duration) { errorWindow = w }(errorWindow)
	errorWindow = time.Second
	r := newRig(t, 2*time.Second)
	var logBuf lockedBuffer
	r.m.deps.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	s := r.load(t, "flaky.js", `var failing = true;
function check() { if (failing) throw new Error('controller down'); }
setIntervalHandler(function() { check(); }, 0.02);
setHttpHandler(function() { failing = false; return 'ok'; });`)
	eventually(t, "five errors", func() bool { return s.Status().Errors >= 5 })
	call(t, s, "stop", nil)
	stopped := s.Status().Errors
	eventually(t, "the summary of the errors held back", func() bool { return len(logBuf.lines("script errors not logged")) > 0 })
	full, notice, summary := logBuf.lines(`msg="script error"`), logBuf.lines("script error repeats"), logBuf.lines("script errors not logged")
	if len(full) != 1 || !strings.Contains(full[0], `err="Error: controller down\n\tat check (`) || len(notice) != 1 || len(summary) != 1 {
		t.Fatalf("log:\nfull %q\nnotice %q\nsummary %q", full, notice, summary)
	}
	if want := fmt.Sprintf("count=%d ", stopped-1); !strings.Contains(summary[0], want) || !strings.Contains(summary[0], `last="Error: controller down at check (`) {
		t.Errorf("summary %s, want %s (%d errors, one logged)", summary[0], want, stopped)
	}
}
