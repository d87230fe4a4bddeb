package bgp

import (
	"net/netip"
	"testing"

	"github.com/flowrt/flowrt/flow"
)

// fullRIB is a RIB of n IPv4 /24s with an attribute set per 20 (as
// BenchmarkFullTable's peer sends them).
func fullRIB(n int) *RIB {
	r := NewRIB()
	var cs []Change
	for i := range n {
		a := addr4(i)
		cs = append(cs, Change{Prefix: netip.PrefixFrom(a, 24).Masked(),
			Route: &flow.BGPRoute{NextHop: birdAddr, ASPath: []uint32{65001, 3356, uint32(100000 + i/20)}, Communities: []uint32{65001<<16 | uint32(i/20%1000)}}})
		if len(cs) == applyBatch {
			r.Apply(cs)
			cs = cs[:0]
		}
	}
	r.Apply(cs)
	return r
}

// BenchmarkLookup is the longest-prefix match one bgp key makes per sample
// in a 1,000,000-prefix RIB: it must stay well under 150 ns and allocate
// nothing.
func BenchmarkLookup(b *testing.B) {
	const n = 1_000_000
	r := fullRIB(n)
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = addr4((i * 7919) % n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if r.Lookup(addrs[i&4095]) == nil {
			b.Fatal("no route")
		}
	}
}

// BenchmarkRouteKey is what a definition with one bgp key pays per
// sample through the Speaker (agent → router → RIB).
func BenchmarkRouteKey(b *testing.B) {
	const n = 1_000_000
	sp := New(Config{})
	nb := &Neighbor{Addr: birdAddr, PeerAS: 65001, RIB: fullRIB(n)}
	agent := netip.MustParseAddr("192.0.2.10")
	sp.AddSource(agent, nb, nil)
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = addr4((i * 7919) % n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if r, _, _ := sp.Route(agent, addrs[i&4095]); r == nil {
			b.Fatal("no route")
		}
	}
}

// BenchmarkRIBMemory is the RIB's own heap per prefix (without GoBGP's
// Adj-RIB-In) for 1,000,000 IPv4 /24s.
func BenchmarkRIBMemory(b *testing.B) {
	for range b.N {
		b.ReportMetric(ribBytesPerRoute(1_000_000), "rib-bytes/route")
	}
}
