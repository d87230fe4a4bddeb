package main_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/birdtest"
)

// topApp calls bgpTopPrefixes the way InMon's active-routes does (the
// router, a count, a minimum, 'egress' and its three flags), next to a
// flow of the same traffic, and answers both over its HTTP handler.
const topApp = `
bgpAddNeighbor('127.0.0.2', 65000, '127.0.0.1', {peeras:65001});
bgpAddSource('10.255.0.1', {router:'127.0.0.2'}, 1, 'bytes');
setFlow('top_bytes', {keys:'ipdestination', value:'bytes', t:1});
setHttpHandler(function(req) {
  var top = bgpTopPrefixes('127.0.0.2', '20', 0, 'egress', true, 1, true);
  var f = activeFlows('ALL', 'top_bytes', 1, 0, 'sum');
  var first = top.topPrefixes.length ? top.topPrefixes[0] : null;
  return {top: top, flow: f.length ? f[0].value : 0, copied: first ? bgpAddRoute('127.0.0.2', first) : false};
});
`

// TestBGPTopPrefixesEndToEnd: flowrt serve with a real BIRD peer and a
// flowrt send flood to 192.168.0.1. BIRD's 192.168.0.0/24 (inside its
// 192.168.0.0/16) tops bgpTopPrefixes and /bgp/topprefixes with BIRD's AS
// path, and its value agrees with a flow definition of the same bytes; the
// entry goes back into bgpAddRoute as active-routes hands it on.
func TestBGPTopPrefixesEndToEnd(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	birdtest.Need(t)
	dir := t.TempDir()
	bgpPort := freePort(t, "tcp")
	birdtest.Start(t, birdtest.Config(bgpPort, `  route 192.168.0.0/16 blackhole { bgp_path.prepend(64777); };
  route 192.168.0.0/24 blackhole { bgp_path.prepend(64555); bgp_path.prepend(64666); };
  route 10.0.0.0/8 blackhole { bgp_path.prepend(64444); };`))
	os.MkdirAll(filepath.Join(dir, "app/top/scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "app/top/scripts/top.js"), []byte(topApp), 0o644)
	e := startEngineIn(t, dir, "-Dbgp.start=yes", fmt.Sprintf("-Dbgp.port=%d", bgpPort), "-Dbgp.hostname=127.0.0.1")
	waitFor(t, 30*time.Second, "BGP session with BIRD", func() bool { return strings.Contains(e.logText(), "BGP session established") })
	waitFor(t, 10*time.Second, "BIRD's routes in flowrt's RIB", func() bool {
		code, body := e.do(t, "GET", "/bgp/prefix/127.0.0.2/json?address=10.0.0.1", "")
		return code == 200 && strings.Contains(body, "64444")
	})
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp",
		"-sampling", "100", "-samples", "1", "-rate", "200", "-duration", "12s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	defer sender.Wait()
	time.Sleep(6 * time.Second) // several smoothing periods (t=1) into the flood

	var app struct {
		Top struct {
			State                string
			NPrefixes            int
			ValueTotal           float64
			ValuePercentCoverage float64
			TopPrefixes          []map[string]any
		}
		Flow   float64
		Copied bool
	}
	code, body := e.do(t, "GET", "/app/top/scripts/top.js/json", "")
	if code != 200 {
		t.Fatalf("app: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &app); err != nil {
		t.Fatalf("app answer %s: %v", body, err)
	}
	top := app.Top
	if top.State != "established" || top.NPrefixes != 3 || len(top.TopPrefixes) != 1 {
		t.Fatalf("bgpTopPrefixes: %s", body)
	}
	first := top.TopPrefixes[0]
	if first["prefix"] != "192.168.0.0/24" || first["aspath"] != "65001-64666-64555" || first["parentprefix"] != "192.168.0.0/16" || first["nexthop"] != "127.0.0.2" {
		t.Errorf("top entry %v: want 192.168.0.0/24, path 65001-64666-64555, parent 192.168.0.0/16, next hop 127.0.0.2", first)
	}
	v := first["value"].(float64)
	if app.Flow <= 0 || math.Abs(v-app.Flow) > 0.25*app.Flow {
		t.Errorf("prefix value %.0f bytes/s, the flow definition's %.0f: they should agree within 25%%", v, app.Flow)
	}
	if math.Abs(top.ValuePercentCoverage-100) > 0.01 {
		t.Errorf("coverage %.2f%%: all the flood goes to the one prefix", top.ValuePercentCoverage)
	}
	if !app.Copied {
		t.Errorf("bgpAddRoute refused the bgpTopPrefixes entry %v (active-routes hands entries on as they are)", first)
	}
	t.Logf("bgpTopPrefixes %s: %.0f bytes/s, flow definition %.0f bytes/s", first["prefix"], v, app.Flow)

	// The REST answer: by source, 10.0.0.0/8 carries it.
	var src struct{ TopPrefixes []map[string]any }
	e.get(t, "/bgp/topprefixes/127.0.0.2/json?direction=source&maxPrefixes=5", &src)
	if len(src.TopPrefixes) != 1 || src.TopPrefixes[0]["prefix"] != "10.0.0.0/8" || src.TopPrefixes[0]["aspath"] != "65001-64444" {
		t.Errorf("/bgp/topprefixes by source: %+v", src.TopPrefixes)
	}
	var v6 struct {
		NPrefixes   int
		TopPrefixes []any
	}
	e.get(t, "/bgp/topprefixes6/127.0.0.2/json", &v6)
	if v6.NPrefixes != 0 || len(v6.TopPrefixes) != 0 {
		t.Errorf("/bgp/topprefixes6: %+v, want no IPv6 prefixes", v6)
	}
	for q, want := range map[string]string{"direction=up": "direction", "maxPrefixes=-1": "maxPrefixes", "minvalue=3": "unknown parameter", "includeCovered=maybe": "includeCovered"} {
		if code, msg := e.do(t, "GET", "/bgp/topprefixes/127.0.0.2/json?"+q, ""); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("?%s: %d %s, want 400 naming %s", q, code, msg, want)
		}
	}
	if code, _ := e.do(t, "GET", "/bgp/topprefixes/127.0.0.9/json", ""); code != 404 {
		t.Errorf("unknown router: %d, want 404", code)
	}
}
