package main_test

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procCPU is a process's user+system CPU time from /proc/<pid>/stat.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc to check CPU time against: %v", err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// TestAnalyzerCPUAndConnections: /analyzer/json's sFlow-RT fields the
// distribution's status page reads. cpuLoadProcess is the engine's share of
// all CPUs since the previous reading, as /proc says it used them while it
// decoded a burst of sFlow; cpuLoadSystem is a share too; and
// httpConnectionsTotal counts every connection accepted, while
// httpConnectionsCurrent counts those open.
func TestAnalyzerCPUAndConnections(t *testing.T) {
	e := startEngine(t)
	pid := e.cmd.Process.Pid
	read := func() map[string]any {
		var a map[string]any
		e.get(t, "/analyzer/json", &a)
		return a
	}
	read()
	cpu0, wall0 := procCPU(t, pid), time.Now()
	send(t, e.sflow, "-rate", "20000", "-duration", "1.5s", "-agents", "4", "-flows", "2000")
	cpu1, wall1 := procCPU(t, pid), time.Now()
	a := read()
	want := float64(cpu1-cpu0) / float64(wall1.Sub(wall0)) / float64(runtime.NumCPU())
	got, ok := a["cpuLoadProcess"].(float64)
	if !ok || got <= 0 || got > 1 || math.Abs(got-want) > 0.05+0.3*want {
		t.Errorf("cpuLoadProcess = %v, /proc says %.3f over the same span", a["cpuLoadProcess"], want)
	}
	if s, ok := a["cpuLoadSystem"].(float64); !ok || s < got*0.5 || s > 1 {
		t.Errorf("cpuLoadSystem = %v (process %v)", a["cpuLoadSystem"], got)
	}

	total0 := a["httpConnectionsTotal"].(float64)
	for range 5 {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(e.http + "/version")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	a = read()
	if n := a["httpConnectionsTotal"].(float64) - total0; n < 5 || n > 6 { // the five, and this reading's own unless it reused its connection
		t.Errorf("httpConnectionsTotal grew by %v for 5 new connections (and perhaps the reading's)", n)
	}
	if c, ok := a["httpConnectionsCurrent"].(float64); !ok || c < 1 {
		t.Errorf("httpConnectionsCurrent = %v while a request is being answered", a["httpConnectionsCurrent"])
	}
}

// TestConfDirAtStart: an engine started where a conf.d/ holds .conf files
// reads them as sFlow-RT's package install does — here sFlow-RT's name for
// the receive buffer and a property an application reads.
func TestConfDirAtStart(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/conf.d", 0o755)
	os.WriteFile(dir+"/conf.d/sflow-rt.conf", []byte("sflow.rcvpktsbuffer=2048000\n"), 0o644)
	os.WriteFile(dir+"/conf.d/greeting.conf", []byte("greeting.text=hello from conf.d\n"), 0o644)
	os.MkdirAll(dir+"/app/greet/scripts", 0o755)
	os.WriteFile(dir+"/app/greet/scripts/g.js", []byte("setHttpHandler(() => getSystemProperty('greeting.text'));\n"), 0o644)
	e := startEngineIn(t, dir)
	if !strings.Contains(e.logText(), "asked=2048000") || !strings.Contains(e.logText(), "properties read from conf.dir") {
		t.Errorf("the receive buffer asked for is not sflow.rcvpktsbuffer's:\n%s", e.logText())
	}
	if code, body := e.do(t, "GET", "/app/greet/scripts/g.js/json", ""); code != 200 || !strings.Contains(body, "hello from conf.d") {
		t.Errorf("getSystemProperty of a conf.d property: %d %s", code, body)
	}
}
