package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/birdtest"
)

// ddosBGP is a small mitigation app written for this test the way
// ddos-protect calls the API: it peers with the router, attributes the
// agent's samples to the router's RIB, and on a flood announces a
// black-hole route (RFC 7999 community) and a Flowspec drop rule for the
// target; the open handler re-announces after a session reset, and the
// interval handler withdraws both once the flood has been gone 2 s.
const ddosBGP = `
var router = '127.0.0.2';
var controls = {};
function announce(addr) {
  var ok1 = bgpAddRoute(router, {prefix:addr, nexthop:'192.0.2.1', communities:'65535:666', localpref:'100'});
  var ok2 = bgpAddFlow(router, {match:{destination:addr, version:'4', protocol:'=17'}, then:{'traffic-rate':0}});
  logInfo('announce ' + addr + ' ' + ok1 + ' ' + ok2);
}
function withdraw(addr) {
  bgpRemoveRoute(router, addr);
  bgpRemoveFlow(router, {match:{destination:addr, version:'4', protocol:'=17'}});
}
bgpAddNeighbor(router, 65000, '127.0.0.1', {peeras:65001, flowspec:true},
  function(r) { for (var a in controls) announce(a); },
  function(r) { logInfo('closed ' + r); });
bgpAddSource('10.255.0.1', router);
setFlow('ddos_bgp', {keys:'ipdestination,bgpdestinationas,bgpdestinationaspath', value:'frames', t:2});
setThreshold('ddos_bgp', {metric:'ddos_bgp', value:1000, byFlow:true, timeout:2});
setEventHandler(function(evt) {
  var addr = evt.flowKey.split(',')[0];
  controls[addr] = {seen: Date.now()};
  announce(addr);
}, ['ddos_bgp']);
setIntervalHandler(function() {
  var now = Date.now();
  var top = activeFlows('ALL', 'ddos_bgp', 20, 100, 'sum');
  for (var a in controls) {
    if (top.some(function(f) { return f.key.split(',')[0] === a; })) controls[a].seen = now;
    else if (now - controls[a].seen > 2000) { withdraw(a); delete controls[a]; }
  }
}, 1);
`

// TestBGPMitigationEndToEnd runs flowrt serve with bgp.start=yes, the app
// above and a real BIRD peer: a UDP flood from flowrt send triggers the
// threshold, the event's flow key carries the destination AS and AS path
// from BIRD's routes, BIRD's tables show the black-hole route with
// 65535:666 and the Flowspec drop rule, a session reset re-announces them,
// /bgp/* answers, and when the flood ends both are withdrawn.
func TestBGPMitigationEndToEnd(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	birdtest.Need(t)
	dir := t.TempDir()
	bgpPort := freePort(t, "tcp")
	bird := birdtest.Start(t, birdtest.Config(bgpPort,
		"  route 192.168.0.0/16 blackhole { bgp_path.prepend(64777); bgp_path.prepend(64888); };"))
	birdc := bird.Show
	script := filepath.Join(dir, "ddos_bgp.js")
	os.WriteFile(script, []byte(ddosBGP), 0o644)
	e := startEngine(t, "-Dbgp.start=yes", fmt.Sprintf("-Dbgp.port=%d", bgpPort), "-Dbgp.hostname=127.0.0.1", "-Dscript.file="+script)
	waitFor(t, 30*time.Second, "BGP session with BIRD", func() bool { return strings.Contains(e.logText(), "BGP session established") })
	waitFor(t, 10*time.Second, "BIRD's route in flowrt's RIB", func() bool {
		code, body := e.do(t, "GET", "/bgp/prefix/127.0.0.2/json?address=192.168.0.1", "")
		return code == 200 && strings.Contains(body, `"aspath": "65001-64888-64777"`)
	})

	hasRoute := func() bool {
		out := birdc("show", "route", "192.168.0.1/32", "all")
		return strings.Contains(out, "192.168.0.1/32") && strings.Contains(out, "(65535,666)") && strings.Contains(out, "BGP.next_hop: 192.0.2.1")
	}
	hasFlow := func() bool {
		out := birdc("show", "route", "table", "flowtab4", "all")
		return strings.Contains(out, "dst 192.168.0.1/32") && strings.Contains(out, "proto 17") && strings.Contains(out, "(generic, 0x80060000, 0x0)")
	}
	start := time.Now()
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp",
		"-sampling", "100", "-samples", "1", "-rate", "100", "-duration", "14s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	defer sender.Wait()
	took := waitFor(t, 10*time.Second, "black-hole route at BIRD", hasRoute)
	waitFor(t, 5*time.Second, "Flowspec drop rule at BIRD", hasFlow)
	t.Logf("flood start → black-hole route in BIRD's table: %v (the Flowspec rule by %v)", took, time.Since(start))

	var events []struct{ ThresholdID, FlowKey string }
	e.get(t, "/events/json?maxEvents=10", &events)
	if len(events) == 0 || events[0].FlowKey != "192.168.0.1,64777,65001-64888-64777" {
		t.Errorf("threshold events %+v: want the flow key 192.168.0.1,64777,65001-64888-64777 (destination AS and path from BIRD's route)", events)
	}
	var pushed []string
	e.get(t, "/bgp/routepusher/127.0.0.2/json", &pushed)
	if len(pushed) != 1 || pushed[0] != "192.168.0.1/32" {
		t.Errorf("/bgp/routepusher: %v", pushed)
	}
	var rules []map[string]any
	e.get(t, "/bgp/flowspec/127.0.0.2/json", &rules)
	if len(rules) != 1 || fmt.Sprint(rules[0]["match"]) != "map[destination:192.168.0.1 protocol:=17 version:4]" {
		t.Errorf("/bgp/flowspec: %v", rules)
	}

	// A reset in the middle of the attack: the open handler announces again.
	birdc("restart", "flowrt")
	waitFor(t, 10*time.Second, "the reset seen by flowrt", func() bool { return strings.Contains(e.logText(), "closed 127.0.0.2") })
	waitFor(t, 20*time.Second, "black-hole route re-announced after the reset", hasRoute)
	waitFor(t, 5*time.Second, "Flowspec rule re-announced after the reset", hasFlow)

	// The flood ends (14 s); 2 s later the app withdraws.
	sender.Wait()
	ended := time.Now()
	waitFor(t, 15*time.Second, "black-hole route withdrawn after the flood", func() bool { return !hasRoute() })
	waitFor(t, 5*time.Second, "Flowspec rule withdrawn after the flood", func() bool { return !hasFlow() })
	t.Logf("flood end → both withdrawn: %v", time.Since(ended))

	// Bad input over REST: a clear 4xx.
	if code, msg := e.do(t, "PUT", "/bgp/routepusher/127.0.0.2/10.0.0.0/33/json", `{"nexthop":"192.0.2.1"}`); code != 400 || !strings.Contains(msg, "prefix") {
		t.Errorf("malformed prefix: %d %s", code, msg)
	}
	if code, msg := e.do(t, "PUT", "/bgp/flowspec/127.0.0.2/json", `{"match":{"destination":"10.0.0.1"},"then":{"explode":1}}`); code != 400 || !strings.Contains(msg, "unknown action") {
		t.Errorf("unknown action: %d %s", code, msg)
	}
	if code, _ := e.do(t, "GET", "/bgp/flowspec/127.0.0.9/json", ""); code != 404 {
		t.Errorf("unknown router: %d", code)
	}
}
