package bgp

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/birdtest"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

var topAgent = netip.MustParseAddr("192.0.2.50")

// burst feeds rounds of samples in one go (well inside one tick) so that
// the smoothed values keep the proportions fed.
func burst(sp *Speaker, rounds int, per map[string]int, src netip.Addr) {
	smp := &flow.Sample{Agent: topAgent, SamplingRate: 10, FrameLength: 1000}
	rec := &sflow.SampledIPv4{Src: src}
	smp.IPv4 = rec
	dsts := map[netip.Addr]int{}
	for a, n := range per {
		dsts[netip.MustParseAddr(a)] = n
	}
	for range rounds {
		for d, n := range dsts {
			rec.Dst = d
			for range n {
				sp.CountSample(smp)
			}
		}
	}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.01*math.Abs(want) }

// TestTopPrefixesFromBird: BIRD sends a table; samples attributed to it
// are counted against BIRD's prefixes, and bgpTopPrefixes ranks them with
// BIRD's attributes, the proportions fed and the covered-prefix options.
func TestTopPrefixesFromBird(t *testing.T) {
	birdtest.Need(t)
	const n = 200
	port := freeTCP(t)
	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	statics := generatedStatics(n) +
		"  route 10.250.0.0/16 blackhole { bgp_path.prepend(64999); };\n" +
		"  route 10.250.3.0/24 blackhole { bgp_path.prepend(64998); bgp_path.prepend(64997); };\n"
	birdtest.Start(t, birdtest.Config(port, statics))
	opens := make(chan struct{}, 4)
	nb, err := sp.AddNeighbor(birdAddr, 65000, flowrtAddr, Options{PeerAS: 65001}, "t", func() { opens <- struct{}{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-opens:
	case <-time.After(30 * time.Second):
		t.Fatal("no session with BIRD within 30 s")
	}
	waitUntil(t, 30*time.Second, "BIRD's table", func() bool { v4, _ := nb.RIB.Count(); return v4 == n+2 })
	nb.RIB.SetCounting(1, false)
	sp.AddSource(topAgent, nb, nb)

	// Per round: 3 samples to 10.0.0.77, 2 to 10.250.3.9 (the /24 inside
	// the /16), 1 to 10.0.1.77, 1 to 10.250.7.1 (the /16 only), 1 that no
	// route covers; all from 10.0.5.77.
	per := map[string]int{"10.0.0.77": 3, "10.250.3.9": 2, "10.0.1.77": 1, "10.250.7.1": 1, "203.0.113.1": 1}
	burst(sp, 2000, per, generatedAddr(5))
	var top *Top
	waitUntil(t, 5*time.Second, "a tick", func() bool {
		top, err = sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 10, IncludeCovered: true})
		return err == nil && top.ValueTotal > 0
	})
	if top.State != "established" || top.NPrefixes != n+2 || top.LearnedAdded != n+2 || top.LearnedRemoved != 0 {
		t.Errorf("state %q, %d prefixes, %d added, %d removed; want established, %d, %d, 0", top.State, top.NPrefixes, top.LearnedAdded, top.LearnedRemoved, n+2, n+2)
	}
	unit := top.ValueTotal / 8 // one sample per round
	want := []struct {
		prefix, aspath, parent string
		share                  float64
	}{
		{"10.0.0.0/24", "65001-64600-64700", "", 3},
		{"10.250.3.0/24", "65001-64997-64998", "10.250.0.0/16", 2},
		{"10.0.1.0/24", "65001-64601-64701", "", 1},
		{"10.250.0.0/16", "65001-64999", "", 1},
	}
	if len(top.Prefixes) != len(want) {
		t.Fatalf("%d prefixes listed, want %d: %+v", len(top.Prefixes), len(want), top.Prefixes)
	}
	for i, w := range want {
		g := top.Prefixes[i]
		// Equal values are ranked by prefix: 10.0.1.0/24 before 10.250.0.0/16.
		if g.Prefix.String() != w.prefix || g.Route["aspath"] != w.aspath || !near(g.Value, w.share*unit) ||
			g.Route["nexthop"] != birdAddr.String() || (w.parent == "") == g.Parent.IsValid() || (w.parent != "" && g.Parent.String() != w.parent) {
			t.Errorf("entry %d: %s path %v next hop %v value %.1f parent %v; want %s path %s next hop %s value %.1f parent %q",
				i, g.Prefix, g.Route["aspath"], g.Route["nexthop"], g.Value, g.Parent, w.prefix, w.aspath, birdAddr, w.share*unit, w.parent)
		}
	}
	if j := top.JSON(); !near(j["valuePercentCoverage"].(float64), 100*7.0/8) {
		t.Errorf("coverage %v%%, want 87.5%% (the unrouted eighth is in the total only)", j["valuePercentCoverage"])
	}

	top2, _ := sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 2, IncludeCovered: true})
	if len(top2.Prefixes) != 2 || !near(top2.ValueCovered, 5*unit) {
		t.Errorf("maxPrefixes 2: %d listed covering %.1f, want 2 covering %.1f", len(top2.Prefixes), top2.ValueCovered, 5*unit)
	}
	nocov, _ := sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 10})
	for _, p := range nocov.Prefixes {
		if p.Prefix.String() == "10.250.3.0/24" {
			t.Errorf("includeCovered false still lists the covered 10.250.3.0/24")
		}
	}
	if len(nocov.Prefixes) != 3 {
		t.Errorf("includeCovered false: %d listed, want 3", len(nocov.Prefixes))
	}
	pruned, _ := sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 10, IncludeCovered: true, PruneCovered: true})
	folded := false
	for _, p := range pruned.Prefixes {
		folded = folded || (p.Prefix.String() == "10.250.0.0/16" && near(p.Value, 3*unit))
	}
	if len(pruned.Prefixes) != 3 || !folded {
		t.Errorf("pruneCovered: %+v; want the /24 folded into 10.250.0.0/16 (same next hop), value %.1f", pruned.Prefixes, 3*unit)
	}
	src, _ := sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 10, Direction: Source, IncludeCovered: true})
	if len(src.Prefixes) != 1 || src.Prefixes[0].Prefix.String() != "10.0.5.0/24" || !near(src.Prefixes[0].Value, top.ValueTotal) {
		t.Errorf("by source: %+v; want 10.0.5.0/24 with all %.1f", src.Prefixes, top.ValueTotal)
	}
	min, _ := sp.TopPrefixes(birdAddr, TopOptions{MaxPrefixes: 10, MinValue: 1.5 * unit, IncludeCovered: true})
	if len(min.Prefixes) != 2 {
		t.Errorf("minValue %.1f: %d listed, want 2", 1.5*unit, len(min.Prefixes))
	}
	if v6, _ := sp.TopPrefixes(birdAddr, TopOptions{IPv6: true, MaxPrefixes: 10}); len(v6.Prefixes) != 0 || v6.ValueTotal != 0 {
		t.Errorf("IPv6 answer has IPv4 traffic: %+v", v6)
	}

	// Pushed counts follow bgpAddRoute and bgpRemoveRoute.
	if err := sp.AddRoute(birdAddr, map[string]any{"prefix": "198.51.100.0/24", "nexthop": "192.0.2.1", "value": 5.0, "parentprefix": "198.51.0.0/16"}, "t"); err != nil {
		t.Fatal(err)
	}
	if ok, err := sp.RemoveRoute(birdAddr, "198.51.100.0/24"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if tp, _ := sp.TopPrefixes(birdAddr, TopOptions{}); tp.PushedAdded != 1 || tp.PushedRemoved != 1 || len(tp.Prefixes) != 0 {
		t.Errorf("pushed %d added %d removed, %d listed; want 1, 1 and none (maxPrefixes 0)", tp.PushedAdded, tp.PushedRemoved, len(tp.Prefixes))
	}

}

// TestCountSampleAllocatesNothing: once a prefix has its counter, a
// sample allocates nothing.
func TestCountSampleAllocatesNothing(t *testing.T) {
	sp := New(Config{})
	defer sp.Close()
	nb := &Neighbor{RIB: fullRIB(1000)}
	sp.AddSource(topAgent, nb, nb)
	smp := &flow.Sample{Agent: topAgent, SamplingRate: 100, FrameLength: 1500, IPv4: &sflow.SampledIPv4{Src: addr4(3), Dst: addr4(7)}}
	sp.CountSample(smp)
	if a := testing.AllocsPerRun(1000, func() { sp.CountSample(smp) }); a != 0 {
		t.Errorf("%v allocations per sample, want 0", a)
	}
}

// TestSmoothingAndFrames: the tick's smoothing over t, and bgpAddSource's
// value (bytes: frame length × sampling rate; frames: the sampling rate).
// The neighbor is not the speaker's, so only the test ticks its RIB.
func TestSmoothingAndFrames(t *testing.T) {
	sp := New(Config{})
	defer sp.Close()
	nb := &Neighbor{RIB: fullRIB(1000)}
	sp.AddSource(topAgent, nb, nb)
	dst := netip.PrefixFrom(addr4(7), 24).Masked()
	smp := &flow.Sample{Agent: topAgent, SamplingRate: 100, FrameLength: 1500, IPv4: &sflow.SampledIPv4{Src: addr4(3), Dst: addr4(7)}}
	for _, c := range []struct {
		t      float64
		frames bool
		per    float64
	}{{1, false, 150000}, {10, false, 150000}, {2, true, 100}} {
		nb.RIB.Clear()
		nb.RIB = fullRIB(1000)
		sp.AddSource(topAgent, nb, nb)
		nb.RIB.SetCounting(c.t, c.frames)
		for range 10 {
			sp.CountSample(smp)
		}
		nb.RIB.tick(1)
		a := 1 - math.Exp(-1/c.t)
		got := nb.RIB.traffic[Destination][dst].value()
		if want := 10 * c.per * a; !near(got, want) {
			t.Errorf("t=%v frames=%v: %.2f after one tick, want %.2f", c.t, c.frames, got, want)
		}
		nb.RIB.tick(1) // nothing more: the value decays by e^(-1/t)
		if got2, want := nb.RIB.traffic[Destination][dst].value(), got*(1-a); !near(got2, want) {
			t.Errorf("t=%v: %.2f after a quiet tick, want %.2f", c.t, got2, want)
		}
		if tot := nb.RIB.total[0].value(); !near(tot, got*(1-a)) {
			t.Errorf("t=%v: total %.2f, want %.2f", c.t, tot, got*(1-a))
		}
	}
}

// BenchmarkCountSample is bgpTopPrefixes' per-sample cost (two
// longest-prefix matches and two counters) in a 1,000,000-prefix RIB.
func BenchmarkCountSample(b *testing.B) {
	const n = 1_000_000
	sp := New(Config{})
	defer sp.Close()
	nb := &Neighbor{RIB: fullRIB(n)}
	sp.AddSource(topAgent, nb, nb)
	rec := &sflow.SampledIPv4{}
	smp := &flow.Sample{Agent: topAgent, SamplingRate: 100, FrameLength: 1500, IPv4: rec}
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = addr4((i * 7919) % n)
	}
	for i := range addrs {
		rec.Src, rec.Dst = addrs[i], addrs[(i+1)%len(addrs)]
		sp.CountSample(smp)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		rec.Src, rec.Dst = addrs[i&4095], addrs[(i+1)&4095]
		sp.CountSample(smp)
	}
}

// TestPruneCoveredChain: a /26 inside a /24 inside a /16, all with the same
// next hop, folds into the /16 with the sum of the three.
func TestPruneCoveredChain(t *testing.T) {
	nh := netip.MustParseAddr("192.0.2.9")
	p16, p24, p26 := netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.1.2.0/24"), netip.MustParsePrefix("10.1.2.64/26")
	list := []TopPrefix{
		{Prefix: p26, Parent: p24, Value: 5, nexthop: nh},
		{Prefix: p24, Parent: p16, Value: 3, nexthop: nh},
		{Prefix: p16, Value: 1, nexthop: nh},
		{Prefix: netip.MustParsePrefix("10.9.0.0/24"), Value: 4, nexthop: nh},
	}
	out := pruneCovered(list)
	if len(out) != 2 || out[0].Prefix != p16 || out[0].Value != 9 || out[1].Value != 4 {
		t.Errorf("pruned %+v; want 10.1.0.0/16 with 9, then 10.9.0.0/24 with 4", out)
	}
}
