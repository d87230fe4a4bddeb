package bgp

import (
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/birdtest"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

var (
	flowrtAddr = netip.MustParseAddr("127.0.0.1")
	birdAddr   = netip.MustParseAddr("127.0.0.2")
)

// TestBirdTableAndMitigation peers with a real BIRD that sends a generated
// table: the RIB holds every prefix with the attributes BIRD sent, and
// longest-prefix matches answer for a sampled address. Then a black-hole
// route and a Flowspec rule are announced and BIRD's tables show them with
// the community, match and action asked; a session reset drops them and
// the open handler announces them again; removal and the script's stop
// withdraw them.
func TestBirdTableAndMitigation(t *testing.T) {
	birdtest.Need(t)
	const n = 20000
	port := freeTCP(t)
	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	statics := generatedStatics(n) +
		"  route 10.250.0.0/16 blackhole { bgp_path.prepend(64999); };\n" +
		"  route 10.250.3.0/24 blackhole { bgp_path.prepend(64998); bgp_path.prepend(64997); };\n"
	b := birdtest.Start(t, birdtest.Config(port, statics))

	blackhole := map[string]any{"prefix": "198.51.100.7", "nexthop": "192.0.2.1", "communities": "65535:666", "localpref": "100"}
	drop := map[string]any{"match": map[string]any{"destination": "198.51.100.7/32", "version": "4", "protocol": "=17", "source-port": "=53"},
		"then": map[string]any{"traffic-rate": 0.0}}
	opens, closes := make(chan struct{}, 10), make(chan struct{}, 10)
	var reannounce atomic.Pointer[func()] // set by the test, called by the open handler
	nb, err := sp.AddNeighbor(birdAddr, 65000, flowrtAddr, Options{PeerAS: 65001, FlowSpec: true}, "test.js",
		func() {
			if f := reannounce.Load(); f != nil {
				(*f)()
			}
			opens <- struct{}{}
		}, func() { closes <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-opens:
	case <-time.After(30 * time.Second):
		t.Fatalf("no session with BIRD within 30 s: %s", b.Cli(t, "show", "protocols", "all", "flowrt"))
	}
	took := waitUntil(t, 60*time.Second, "full table in the RIB", func() bool { v4, _ := nb.RIB.Count(); return v4 == n+2 })
	t.Logf("%d prefixes from BIRD in the RIB %v after the session came up; %d distinct attribute sets", n+2, took, nb.RIB.Attributes())
	if a := adjIn(t, sp, nb, bgp.RF_IPv4_UC); a != 0 {
		t.Errorf("GoBGP's Adj-RIB-In holds %d of BIRD's paths: the relay should have taken them all (relay.go)", a)
	}

	for _, i := range []int{0, 1, 255, 256, 4999, n - 1} {
		r := nb.RIB.Lookup(generatedAddr(i))
		if r == nil {
			t.Fatalf("no route for %s", generatedAddr(i))
		}
		want := []uint32{65001, uint32(64600 + i%50), uint32(64700 + i%7)}
		if !slices.Equal(r.ASPath, want) || !slices.Equal(r.Communities, []uint32{65001<<16 | uint32(i%100)}) || r.NextHop != birdAddr {
			t.Errorf("%s: path %v communities %v next hop %s; want path %v, community 65001:%d, next hop %s",
				generatedAddr(i), r.ASPath, r.Communities, r.NextHop, want, i%100, birdAddr)
		}
	}
	if r := nb.RIB.Lookup(netip.MustParseAddr("10.250.3.9")); r == nil || !slices.Equal(r.ASPath, []uint32{65001, 64997, 64998}) {
		t.Errorf("10.250.3.9 should match 10.250.3.0/24 (path 65001 64997 64998), not the /16: %+v", r)
	}
	if r := nb.RIB.Lookup(netip.MustParseAddr("10.250.4.9")); r == nil || !slices.Equal(r.ASPath, []uint32{65001, 64999}) {
		t.Errorf("10.250.4.9 should match 10.250.0.0/16 (path 65001 64999): %+v", r)
	}
	if r := nb.RIB.Lookup(netip.MustParseAddr("192.0.2.200")); r != nil {
		t.Errorf("192.0.2.200 is in no route BIRD sent, yet matched %+v", r)
	}
	agent := netip.MustParseAddr("192.0.2.10")
	if _, _, ok := sp.Route(agent, generatedAddr(3)); ok {
		t.Fatal("an agent not given to bgpAddSource was attributed")
	}
	sp.AddSource(agent, nb, nil)
	if r, as, ok := sp.Route(agent, generatedAddr(3)); !ok || r == nil || as != 65001 || r.ASPath[2] != 64703 {
		t.Errorf("attributed agent: route %+v AS %d ok %v", r, as, ok)
	}

	announce := func() {
		if err := sp.AddRoute(birdAddr, blackhole, "test.js"); err != nil {
			t.Errorf("AddRoute: %v", err)
		}
		if err := sp.AddFlow(birdAddr, drop, "test.js"); err != nil {
			t.Errorf("AddFlow: %v", err)
		}
	}
	announce()
	hasRoute := func() bool {
		out := b.Show("show", "route", "198.51.100.7/32", "all")
		return strings.Contains(out, "198.51.100.7/32") && strings.Contains(out, "(65535,666)")
	}
	hasFlow := func() bool {
		out := b.Show("show", "route", "table", "flowtab4", "all")
		return strings.Contains(out, "dst 198.51.100.7/32") && strings.Contains(out, "proto 17") &&
			strings.Contains(out, "sport 53") && strings.Contains(out, "(generic, 0x80060000, 0x0)")
	}
	waitUntil(t, 10*time.Second, "black-hole route with 65535:666 at BIRD", hasRoute)
	waitUntil(t, 10*time.Second, "Flowspec drop rule at BIRD", hasFlow)
	if out := b.Show("show", "route", "198.51.100.7/32", "all"); strings.Contains(out, "4200000000") {
		t.Errorf("the routing tag leaked to the router: %s", out)
	}
	if c := sp.Count(birdAddr, false); c != 1 {
		t.Errorf("route count %d, want 1", c)
	}
	if c := sp.Count(birdAddr, true); c != 1 {
		t.Errorf("flow count %d, want 1", c)
	}

	// A reset: the router drops what it had from us; the open handler
	// (as ddos-protect's does) announces it again.
	reannounce.Store(&announce)
	b.Cli(t, "restart", "flowrt")
	select {
	case <-closes:
	case <-time.After(10 * time.Second):
		t.Fatal("no close handler call for the reset")
	}
	select {
	case <-opens:
	case <-time.After(30 * time.Second):
		t.Fatal("the session did not come back")
	}
	waitUntil(t, 10*time.Second, "black-hole route re-announced after the reset", hasRoute)
	waitUntil(t, 10*time.Second, "Flowspec rule re-announced after the reset", hasFlow)
	waitUntil(t, 60*time.Second, "full table again after the reset", func() bool { v4, _ := nb.RIB.Count(); return v4 == n+2 })

	if ok, err := sp.RemoveRoute(birdAddr, "198.51.100.7/32"); !ok || err != nil {
		t.Fatalf("RemoveRoute: %v %v", ok, err)
	}
	if ok, err := sp.RemoveFlow(birdAddr, drop); !ok || err != nil {
		t.Fatalf("RemoveFlow: %v %v", ok, err)
	}
	waitUntil(t, 10*time.Second, "black-hole route withdrawn", func() bool { return !hasRoute() })
	waitUntil(t, 10*time.Second, "Flowspec rule withdrawn", func() bool { return !hasFlow() })

	// What a stopped script announced goes with it.
	announce()
	waitUntil(t, 10*time.Second, "black-hole route announced again", hasRoute)
	sp.RemoveOwner("test.js")
	waitUntil(t, 10*time.Second, "black-hole route withdrawn when its script stopped", func() bool { return !hasRoute() })
	waitUntil(t, 10*time.Second, "Flowspec rule withdrawn when its script stopped", func() bool { return !hasFlow() })
	if _, ok := sp.Neighbor(birdAddr); ok {
		t.Error("the stopped script's neighbor is still there")
	}
}
