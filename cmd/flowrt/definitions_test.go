package main_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestDefinitionRanges: over REST, a definition attribute that means
// nothing is a 400 naming the attribute and its range; one beyond
// sFlow-RT's limits is stored clamped, as sFlow-RT does, and the answer
// (200, not 204) carries the stored definition and what was changed, which
// GET then shows.
func TestDefinitionRanges(t *testing.T) {
	e := startEngine(t)
	for _, c := range []struct{ path, body, want string }{
		{"/flow/f/json", "{keys:'ipsource', value:'frames', t:0}", "t: 0 is out of range: the smoothing time constant in seconds, 0.1 to 600"},
		{"/flow/f/json", "{keys:'ipsource', value:'frames', n:0}", "n: 0 is out of range: the number of largest flows kept per data source, 1 to 20"},
		{"/flow/f/json", "{keys:'ipsource', value:'frames', n:2.5}", "n: got number 2.5, want a whole number"},
		{"/flow/f/json", "{keys:'ipsource', value:'frames', activeTimeout:-1}", "activeTimeout: -1 is out of range"},
		{"/flow/f/json", "{keys:'ipsource', value:'frames', aggMode:'total'}", `aggMode: "total" is not one of max, sum, avg, edge, core`},
		{"/flow/f/json", "{keys:'ipsource', value:'frames', fs:''}", "fs: the separator between key values must not be empty"},
		{"/threshold/th/json", "{metric:'f', value:10, timeout:-1}", "threshold timeout -1 is out of range: 0 to 31622400 seconds"},
		{"/threshold/th/json", "{metric:'f', value:10, timeout:1e12}", "threshold timeout 1000000000000 is out of range"},
		{"/threshold/th/json", "{metric:'f', value:10, timeout:'soon'}", `timeout: "soon" is not a number`}, // fractions are seconds (ai-metrics' 0.2)
		{"/forwarding/s/json", `{"address":"10.0.0.30","port":0}`, "port 0 is not a UDP port"},
		{"/forwarding/s/json", `{"address":"10.0.0.30","port":70000}`, "port 70000 is not a UDP port"},
	} {
		if code, msg := e.do(t, "PUT", c.path, c.body); code != 400 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") > 1 {
			t.Errorf("PUT %s %s: %d %q, want 400 saying %q", c.path, c.body, code, msg, c.want)
		}
	}
	for _, path := range []string{"/activeflows/ALL/f/json?maxFlows=-1", "/flows/json?maxFlows=-1", "/events/json?maxEvents=-5",
		"/flows/json?timeout=-1", "/events/json?timeout=abc"} {
		e.do(t, "PUT", "/flow/f/json", "{keys:'ipsource', value:'frames'}")
		if code, msg := e.do(t, "GET", path, ""); code != 400 || !strings.Contains(msg, "=") {
			t.Errorf("GET %s: %d %q, want 400 naming the parameter", path, code, msg)
		}
	}
	code, body := e.do(t, "PUT", "/flow/big/json", "{keys:'ipsource', value:'bytes', n:50, t:1000}")
	var stored struct {
		N        int
		T        float64
		Adjusted []string
	}
	json.Unmarshal([]byte(body), &stored)
	if code != 200 || stored.N != 20 || stored.T != 600 || len(stored.Adjusted) != 2 || !strings.Contains(stored.Adjusted[0], "n: 50 is above 20") {
		t.Errorf("PUT n:50, t:1000: %d %s, want 200 with n 20, t 600 and both changes", code, body)
	}
	var got struct {
		N int
		T float64
	}
	e.get(t, "/flow/big/json", &got)
	if got.N != 20 || got.T != 600 {
		t.Errorf("GET shows %+v, want the stored n 20, t 600", got)
	}
	// The same definition again (a page renewing its own) answers the same
	// and is not logged again.
	if code, again := e.do(t, "PUT", "/flow/big/json", "{keys:'ipsource', value:'bytes', n:50, t:1000}"); code != 200 || again != body {
		t.Errorf("PUT again: %d %s", code, again)
	}
	time.Sleep(100 * time.Millisecond) // the log is read from the engine's stderr
	if n := strings.Count(e.log.String(), "flow definition stored with changes"); n != 1 {
		t.Errorf("the clamp was logged %d times, want once:\n%s", n, e.log)
	}
	// Within the limits: 204 as before.
	if code, body := e.do(t, "PUT", "/flow/ok/json", "{keys:'ipsource', value:'bytes', n:20, t:600}"); code != 204 {
		t.Errorf("PUT within the limits: %d %s", code, body)
	}
}

// TestBpsIsBits: value:'bps' is bits per second — 8 × the bytes of the
// same samples — not bytes; 'fps' is frames.
func TestBpsIsBits(t *testing.T) {
	e := startEngine(t)
	for name, value := range map[string]string{"bytes": "bytes", "bps": "bps", "frames": "frames", "fps": "fps"} {
		if code, msg := e.do(t, "PUT", "/flow/"+name+"/json", "{value:'"+value+"', t:20}"); code != 204 {
			t.Fatalf("%s: %d %s", name, code, msg)
		}
	}
	send(t, e.sflow, "-agents", "1", "-ports", "1", "-rate", "200", "-duration", "1s", "-counters", "0")
	var m []struct{ MetricValue float64 }
	e.get(t, "/metric/ALL/sum:bytes,sum:bps,sum:frames,sum:fps/json", &m)
	if len(m) != 4 || m[0].MetricValue <= 0 || math.Abs(m[1].MetricValue-8*m[0].MetricValue) > 1e-6*m[1].MetricValue ||
		m[2].MetricValue <= 0 || math.Abs(m[3].MetricValue-m[2].MetricValue) > 1e-6*m[2].MetricValue {
		t.Errorf("bytes, bps, frames, fps: %+v, want bps = 8 × bytes and fps = frames", m)
	}
}

// TestEmptyAnswersAreLists: with nothing received, every JSON endpoint that
// answers a list answers [] (and every map {}), never null — with a flow
// defined, a threshold, a group and no traffic.
func TestEmptyAnswersAreLists(t *testing.T) {
	e := startEngine(t)
	e.do(t, "PUT", "/flow/f/json", "{keys:'ipsource', value:'bytes'}")
	for path, want := range map[string]string{
		"/activeflows/ALL/f/json":             "[]",
		"/activeflows/ALL/f/json?aggMode=sum": "[]",
		"/flows/json":                         "[]",
		"/events/json":                        "[]",
		"/table/ALL/ifinoctets/json":          "[]",
		"/dump/ALL/ifinoctets/json":           "[]",
		"/dump/ALL/ALL/json":                  "[]",
		"/flowlocations/ALL/f/json?key=x":     "[]",
		"/map/json":                           "[]",
		"/agents/json":                        "{}",
		"/threshold/json":                     "{}",
		"/group/json":                         "{}",
		"/groups/json":                        "{}",
		"/forwarding/json":                    "{}",
		"/flowkeys/json":                      "{}",
		"/metrics/json":                       "{}",
		"/scripts/json":                       "{}",
	} {
		code, body := e.do(t, "GET", path, "")
		if code != 200 || strings.TrimSpace(body) != want {
			t.Errorf("GET %s: %d %q, want %s", path, code, body, want)
		}
	}
	// A statistic over nothing is a statistic with metricN 0.
	var st []map[string]any
	e.get(t, "/metric/ALL/max:ifinoctets,f/json", &st)
	if len(st) != 2 || st[0]["metricN"] != 0.0 || st[1]["metricN"] != 0.0 {
		t.Errorf("/metric over nothing: %v", st)
	}
}
