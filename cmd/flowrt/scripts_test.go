package main_test

import (
	"encoding/json"
	"io"
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
	e := startEngineIn(t, work, "-Dscript.file="+examples("ddos", "ddos.js"))
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
