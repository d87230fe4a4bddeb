package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// examples returns the path of a file under examples/.
func examples(parts ...string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(here), "..", "..", "examples"}, parts...)...)
}

// controller stands in for Floodlight's REST API on 127.0.0.1:8080 (the
// address normal.js uses) and records what it is asked.
type controller struct {
	mu   sync.Mutex
	reqs []string // "METHOD path body"
}

func (c *controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path+" "+string(b))
	c.mu.Unlock()
	w.Write([]byte(`{"status":"Entry pushed"}`))
}

func (c *controller) find(method, contains string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.reqs {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, contains) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s within %v", what, d)
	return 0
}

// TestDDoSScriptWithController runs the article's normal.js unmodified: at
// start it clears the controller and pushes the normal rule; a flood ten
// times the threshold makes it push a block for the attacker, and the
// block is removed 20 s later; the article's manual curl lines block,
// allow, disable and enable.
func TestDDoSScriptWithController(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Skipf("the stand-in controller needs 127.0.0.1:8080, which normal.js uses: %v", err)
	}
	ctl := &controller{}
	srv := &http.Server{Handler: ctl}
	go srv.Serve(ln)
	defer srv.Close()

	e := startEngine(t, "-Dscript.file="+examples("ddos", "normal.js"))
	if !ctl.find("GET", "/wm/staticflowentrypusher/clear/all/json") || !ctl.find("POST", `"name":"normal"`) {
		t.Fatalf("start-up requests %v", ctl.reqs)
	}
	// The article's curl lines.
	for _, c := range []struct{ query, want string }{
		{"action=block&address=10.0.0.1", `"10.0.0.1":{"action":"block"`},
		{"action=allow&address=10.0.0.1", `"controls":{}`},
		{"action=disable", `"enabled":false`},
		{"action=enable", `"enabled":true`},
	} {
		if code, body := e.do(t, "GET", "/script/normal.js/json?"+c.query, ""); code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s", c.query, code, body)
		}
	}
	if !ctl.find("POST", `"name":"block-10.0.0.1"`) || !ctl.find("DELETE", `"name":"block-10.0.0.1"`) {
		t.Errorf("manual block/allow did not reach the controller: %v", ctl.reqs)
	}
	// The flood: 10,000 frames/s from 10.0.0.0.
	start := time.Now()
	flood := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp",
		"-sampling", "100", "-samples", "1", "-rate", "100", "-duration", "3s")
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer flood.Wait()
	waitFor(t, 5*time.Second, "block pushed to the controller", func() bool { return ctl.find("POST", `"src-ip":"10.0.0.0"`) })
	t.Logf("flood start → block pushed to the controller: %v", time.Since(start))
	// blockSeconds = 20, checked every 10 s.
	took := waitFor(t, 40*time.Second, "block removed", func() bool { return ctl.find("DELETE", `"name":"block-10.0.0.0"`) })
	if since := time.Since(start); since < 20*time.Second {
		t.Errorf("block removed after %v, before the script's 20 s", since)
	}
	t.Logf("block removed %v after it was pushed", took)
	var st map[string]struct {
		Alive          bool
		Error          string
		EventsReceived int
	}
	e.get(t, "/scripts/json", &st)
	if s := st["normal.js"]; !s.Alive || s.Error != "" || s.EventsReceived == 0 {
		t.Errorf("script status %+v", s)
	}
}

// TestDDoSScriptRunCmd runs the article's ddos.js (the Pyretic version)
// unmodified: its runCmd of ../pyretic/pyretic/pyresonance/sendy_json.py,
// relative to where flowrt runs, reaches a stub that records its argv.
func TestDDoSScriptRunCmd(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	stubDir := filepath.Join(root, "pyretic", "pyretic", "pyresonance")
	os.MkdirAll(work, 0o755)
	os.MkdirAll(stubDir, 0o755)
	record := filepath.Join(root, "argv.log")
	os.WriteFile(filepath.Join(stubDir, "sendy_json.py"), []byte("#!/bin/sh\necho \"$@\" >> "+record+"\n"), 0o755)
	e := startEngineIn(t, work, "-Dscript.file="+examples("ddos", "ddos.js"), "-Dscript.runcmd=yes") // the README says so
	if code, body := e.do(t, "GET", "/script/ddos.js/json?action=block&address=10.0.0.1", ""); code != 200 ||
		!strings.Contains(body, `{"controls":{"10.0.0.1":"blocked"},"enabled":true}`) {
		t.Errorf("block: %d %s", code, body)
	}
	send(t, e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp", "-sampling", "100", "-samples", "1",
		"-rate", "100", "-duration", "2s")
	waitFor(t, 5*time.Second, "runCmd for the flood's source", func() bool {
		b, _ := os.ReadFile(record)
		return strings.Contains(string(b), "-i 10.0.0.0 -e auth -V clear")
	})
	b, _ := os.ReadFile(record)
	if !strings.Contains(string(b), "-i 10.0.0.1 -e auth -V clear") {
		t.Errorf("manual block not run: %s", b)
	}
	var st map[string]struct{ Error string }
	e.get(t, "/scripts/json", &st)
	if st["ddos.js"].Error != "" {
		t.Errorf("script error %s", st["ddos.js"].Error)
	}
	_ = json.Valid
}

// TestRyuScript runs the article's ryu.js (reconstructed where the text was
// lost) against a stand-in for Ryu's ofctl_rest on 127.0.0.1:8080 and a
// topology as Mininet's sflow.py posts it: a reflection flood entering edge
// port s2-eth1 is blocked there with the port's dpid and ofport (ES6
// destructuring of the flow key, http2), the same flood arriving on the
// inter-switch link port is left alone, and the block is released only once
// thresholdTriggered says the attack is over and 10 s have passed.
func TestRyuScript(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Skipf("the stand-in Ryu needs 127.0.0.1:8080, which ryu.js uses: %v", err)
	}
	ryu := &controller{}
	srv := &http.Server{Handler: ryu}
	go srv.Serve(ln)
	defer srv.Close()

	e := startEngine(t, "-Dscript.file="+examples("ryu", "ryu.js"))
	topo := `{"nodes":{
	  "s1":{"agent":"10.255.0.2","dpid":"0000000000000001","ports":{"s1-eth1":{"ifindex":"7","ofport":"1"}}},
	  "s2":{"agent":"10.255.0.1","dpid":"0000000000000002","ports":{
	    "s2-eth1":{"ifindex":"1","ofport":"1"},"s2-eth2":{"ifindex":"2","ofport":"2"}}}},
	 "links":{"s1-s2":{"node1":"s1","port1":"s1-eth1","node2":"s2","port2":"s2-eth2"}}}`
	if code, body := e.do(t, "PUT", "/topology/json", topo); code/100 != 2 {
		t.Fatalf("topology: %d %s", code, body)
	}
	// Two reflection floods: 192.168.0.1 on edge port 1, 192.168.0.2 on link port 2.
	const flood = 14 * time.Second
	start := time.Now()
	cmd := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "1", "-ports", "2", "-flows", "2", "-zipf", "0",
		"-mix", "reflection", "-sampling", "100", "-samples", "1", "-rate", "100", "-duration", flood.String(), "-counters", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	want := `{"match":{"in_port":1,"dl_type":2048,"nw_dst":"192.168.0.1/32","nw_proto":17,"tp_src":53},"dpid":2,"priority":40000}`
	waitFor(t, 5*time.Second, "flowentry/add at the stand-in Ryu", func() bool { return ryu.find("POST", "/stats/flowentry/add") })
	blocked := time.Since(start)
	if !ryu.find("POST", "/stats/flowentry/add "+want) {
		t.Errorf("add requests %v, want body %s", ryu.reqs, want)
	}
	waitFor(t, flood+25*time.Second, "flowentry/delete", func() bool { return ryu.find("POST", "/stats/flowentry/delete "+want) })
	released := time.Since(start)
	t.Logf("flood start → block %v, release %v (flood lasted %v)", blocked, released, flood)
	if released < flood {
		t.Errorf("released at %v while the flood (%v) still triggered the threshold", released, flood)
	}
	if ryu.find("POST", "192.168.0.2") {
		t.Errorf("the flood on the inter-switch link was blocked: %v", ryu.reqs)
	}
	for _, l := range []string{"blocking 192.168.0.1,53", "unblocking 192.168.0.1,53"} {
		if !strings.Contains(e.log.String(), l) {
			t.Errorf("engine log lacks %q", l)
		}
	}
	var st map[string]struct{ Error string }
	e.get(t, "/scripts/json", &st)
	if st["ryu.js"].Error != "" {
		t.Errorf("script error %s", st["ryu.js"].Error)
	}
}

// TestOvsOfctlScript runs the ovs-ofctl article's version of the DDoS script:
// a stub ovs-ofctl first on PATH records each argv; the flood's source is
// blocked with the article's add-flow and released with its --strict
// del-flows, and the manual curl lines do the same for 10.0.0.1.
func TestOvsOfctlScript(t *testing.T) {
	stub := t.TempDir()
	record := filepath.Join(stub, "argv.log")
	os.WriteFile(filepath.Join(stub, "ovs-ofctl"), []byte("#!/bin/sh\necho \"$@\" >> "+record+"\n"), 0o755)
	e := startEngineWith(t, launch{env: []string{"PATH=" + stub + ":" + os.Getenv("PATH")}},
		"-Dscript.file="+examples("ddos", "ovs-ofctl.js"), "-Dscript.runcmd=yes") // the README says so
	read := func() string { b, _ := os.ReadFile(record); return string(b) }
	e.do(t, "GET", "/script/ovs-ofctl.js/json?action=block&address=10.0.0.1", "")
	e.do(t, "GET", "/script/ovs-ofctl.js/json?action=allow&address=10.0.0.1", "")
	for _, l := range []string{
		"add-flow tcp:127.0.0.1 priority=11,dl_type=0x0800,nw_src=10.0.0.1,action=drop\n",
		"--strict del-flows tcp:127.0.0.1 priority=11,dl_type=0x0800,nw_src=10.0.0.1\n",
	} {
		if !strings.Contains(read(), l) {
			t.Errorf("manual block/allow: ovs-ofctl argv %q not in\n%s", l, read())
		}
	}
	send(t, e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp", "-sampling", "100", "-samples", "1",
		"-rate", "100", "-duration", "2s")
	waitFor(t, 5*time.Second, "add-flow for the flood's source", func() bool {
		return strings.Contains(read(), "add-flow tcp:127.0.0.1 priority=11,dl_type=0x0800,nw_src=10.0.0.0,action=drop")
	})
	waitFor(t, 40*time.Second, "del-flows 20 s later", func() bool {
		return strings.Contains(read(), "--strict del-flows tcp:127.0.0.1 priority=11,dl_type=0x0800,nw_src=10.0.0.0\n")
	})
	var st map[string]struct{ Error string }
	e.get(t, "/scripts/json", &st)
	if st["ovs-ofctl.js"].Error != "" {
		t.Errorf("script error %s", st["ovs-ofctl.js"].Error)
	}
}

// TestExampleScriptsMeta loads every script under examples/ and checks that
// /scripts/json's meta holds exactly each file's "// key: value" header:
// the four fields of the two scripts that have one, nothing for the scripts
// that open with prose (normal.js's "as the article prints it: it drives a
// Floodlight controller" once became a field "it"). The proxies are a closed
// local port, so the scripts that fetch lists from the Internet fail at
// once; runCmd is off, so nothing is run.
func TestExampleScriptsMeta(t *testing.T) {
	files, _ := filepath.Glob(examples("*", "*.js"))
	if len(files) < 10 {
		t.Fatalf("examples: %v", files)
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp"))
	e := startEngineWith(t, launch{env: []string{"HTTP_PROXY=" + closed, "HTTPS_PROXY=" + closed, "http_proxy=" + closed, "https_proxy=" + closed}},
		"-Dscript.file="+strings.Join(files, ","), "-Dscript.runcmd=no")
	header := func(date, description string) map[string]string {
		return map[string]string{"author": "Peter", "version": "1.0", "date": date, "description": description}
	}
	want := map[string]map[string]string{
		"ddos.js":     header("9/30/2013", "DDoS controller script"),
		"graphite.js": header("11/23/2013", "Log metrics to Graphite"),
	}
	var scripts map[string]struct {
		Path string
		Meta map[string]string
	}
	e.get(t, "/scripts/json", &scripts)
	if len(scripts) != len(files) {
		t.Errorf("/scripts/json lists %d scripts, %d loaded", len(scripts), len(files))
	}
	for _, f := range files {
		id := filepath.Base(f)
		s, ok := scripts[id]
		if !ok {
			t.Errorf("%s missing from /scripts/json", id)
			continue
		}
		if !maps.Equal(s.Meta, want[id]) {
			t.Errorf("%s: meta %q, want %q", id, s.Meta, want[id])
		}
	}
}

// TestScriptStateOverHTTP: scripts that do not load — a syntax error, a
// block left open, a missing file, an application that does not compile —
// are each in /scripts/json (not alive, one clear error with file, line and
// column), make /status and /app/<name>/status answer 503 with the reasons,
// and are logged once, never as "script started". A script whose
// controller is down fails every 50 ms: the log has its stack once and a
// note that repeats are counted; /scripts/json and /metrics count them.
func TestScriptStateOverHTTP(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	down := fmt.Sprintf("http://127.0.0.1:%d/wm/core/controller/switches/json", freePort(t, "tcp"))
	files := []string{
		write("good.js", "setHttpHandler(function() { return 'fine'; });\n"),
		write("bad.js", "// author: flowrt tests\nvar x = ;\n"),
		write("open.js", "setIntervalHandler(function() {\n  logInfo('tick');\n"),
		filepath.Join(dir, "missing.js"),
		write("down.js", "var calls = 0;\nfunction poll() {\n  calls++;\n  return http('"+down+"');\n}\nsetIntervalHandler(function() { poll(); }, 0.05);\n"),
	}
	write("apps/broken/scripts/broken.js", "setFlow('x', {keys:'ipsource' value:'frames'});\n")
	e := startEngine(t, "-Dscript.file="+strings.Join(files, ","), "-Dapp.dir="+filepath.Join(dir, "apps"))

	type status struct {
		Alive            bool
		LoadError, Error string
		Errors           int
		ErrorTime        int64
	}
	var scripts map[string]status
	want := map[string]string{
		"bad.js":           "SyntaxError: Unexpected token ; at " + files[1] + ":2:9",
		"open.js":          "SyntaxError: Unexpected end of input (a block, call or string left open) after " + files[2] + ":2:18",
		"missing.js":       "cannot read the script: open " + files[3] + ": no such file or directory",
		"broken/broken.js": "SyntaxError: Unexpected identifier at " + filepath.Join(dir, "apps/broken/scripts/broken.js") + ":1:31",
	}
	waitFor(t, 5*time.Second, "down.js failing 40 times", func() bool {
		e.get(t, "/scripts/json", &scripts)
		return scripts["down.js"].Errors >= 40
	})
	for id, msg := range want {
		if s, ok := scripts[id]; !ok || s.Alive || s.LoadError != msg || s.Error != msg || s.Errors != 1 ||
			time.Since(time.UnixMilli(s.ErrorTime)) > time.Minute {
			t.Errorf("%s: %+v (listed %v), want not alive with %q", id, s, ok, msg)
		}
	}
	if s := scripts["good.js"]; !s.Alive || s.LoadError != "" || s.Error != "" || s.Errors != 0 || s.ErrorTime != 0 {
		t.Errorf("good.js: %+v", s)
	}
	d := scripts["down.js"]
	if !d.Alive || d.LoadError != "" || !strings.HasPrefix(d.Error, "GoError: http GET "+down+": ") ||
		!strings.Contains(d.Error, "connection refused at poll ("+files[4]+":4:14)") || time.Since(time.UnixMilli(d.ErrorTime)) > 2*time.Second {
		t.Errorf("down.js: %+v", d)
	}

	code, body := e.do(t, "GET", "/status", "")
	var lines []string
	for _, id := range []string{"bad.js", "broken/broken.js", "missing.js", "open.js"} {
		lines = append(lines, "UNAVAILABLE: script "+id+": "+want[id])
	}
	if code != 503 || strings.TrimSpace(body) != strings.Join(lines, "\n") {
		t.Errorf("/status = %d\n%s\nwant 503\n%s", code, body, strings.Join(lines, "\n"))
	}
	code, body = e.do(t, "GET", "/app/broken/status", "")
	if code != 503 || strings.TrimSpace(body) != lines[1] {
		t.Errorf("/app/broken/status = %d %q", code, body)
	}
	code, body = e.do(t, "GET", "/script/bad.js/x/json", "")
	if code != 404 || !strings.Contains(body, "the script did not load: "+want["bad.js"]) {
		t.Errorf("/script/bad.js/x/json = %d %q", code, body)
	}
	code, body = e.do(t, "GET", "/metrics", "")
	if !strings.Contains(body, `flowrt_script_up{script="bad.js"} 0`) || !strings.Contains(body, `flowrt_script_up{script="down.js"} 1`) ||
		!strings.Contains(body, `flowrt_script_errors_total{script="bad.js"} 1`) {
		t.Errorf("/metrics = %d, script lines:\n%s", code, grepLines(body, "script_"))
	}

	log := e.log.String()
	for id := range want {
		got := grepLines(log, "script="+id+" ")
		if len(got) != 1 || !strings.Contains(got[0], `msg="script not started"`) || !strings.Contains(got[0], strings.ReplaceAll(want[id], `"`, `\"`)) {
			t.Errorf("log lines for %s:\n%s", id, strings.Join(got, "\n"))
		}
	}
	if got := grepLines(log, `msg="script started"`); len(got) != 2 {
		t.Errorf("script started lines:\n%s", strings.Join(got, "\n"))
	}
	got := grepLines(log, "script=down.js")
	if len(got) != 3 || !strings.Contains(got[1], `msg="script error"`) || !strings.Contains(got[1], `\n\tat poll (`+files[4]+`:4:14)\n\tat `+files[4]+`:6:37`) ||
		!strings.Contains(got[2], "script error repeats") {
		t.Errorf("after %d errors, the log has for down.js:\n%s", d.Errors, strings.Join(got, "\n"))
	}
}

// grepLines returns the lines of text that contain any of words.
func grepLines(text string, words ...string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
