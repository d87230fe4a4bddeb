package engine

import (
	"maps"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

// TestLocateLearnsBoundedAndAges: each host is found at the port its
// frames came in on; the MACs kept never exceed MaxHosts however many are
// seen (a MAC flood), the most recently seen stay; and places not renewed
// for agent.timeout are forgotten. Learning hosts already known allocates
// nothing.
func TestLocateLearnsBoundedAndAges(t *testing.T) {
	e := New(Config{MaxHosts: 16 * 8}) // 8 per shard
	w := e.NewWorker()
	sw := &synth.Switch{Agent: netip.MustParseAddr("10.0.0.1"), Name: "sw1"}
	now := time.Unix(1_700_000_000, 0)
	mac := func(i int) [6]byte { return [6]byte{0x0a, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)} }
	frame := func(i int) []byte {
		b, err := sw.Sample(synth.Frame{SrcMAC: mac(i), DstMAC: mac(0), Src: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}),
			Dst: netip.MustParseAddr("10.9.9.9"), VLAN: uint16(i%4000 + 1)}, uint32(i%48+1), 99, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := 1; i <= 50; i++ {
		w.Process(frame(i), src, now)
	}
	for _, i := range []int{1, 17, 50} {
		got := e.LocateMAC(mac(i))
		if len(got) != 1 || got[0].Agent != "10.0.0.1" || got[0].IfIndex != strconv.Itoa(i%48+1) || got[0].VLAN != i%4000+1 {
			t.Errorf("host %d located at %+v, want 10.0.0.1 ifindex %d vlan %d", i, got, i%48+1, i%4000+1)
		}
		if ip := e.LocateIP(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)})); len(ip) != 1 || ip[0].MAC != macString(mac(i)) {
			t.Errorf("10.1.0.%d located at %+v", i, ip)
		}
	}
	if n := len(e.LocatedMACs(netip.Addr{}, "")); n != 50 {
		t.Errorf("%d MACs located, want 50", n)
	}
	if m := e.LocatedMACs(netip.MustParseAddr("10.0.0.1"), "2"); len(m) != 2 || m[0] != macString(mac(1)) || m[1] != macString(mac(49)) {
		t.Errorf("MACs at ifindex 2: %v", m)
	}

	// Steady state: the same 50 hosts again allocate nothing.
	dgs := make([][]byte, 50)
	for i := range dgs {
		dgs[i] = frame(i + 1)
	}
	i := 0
	if a := testing.AllocsPerRun(500, func() { w.Process(dgs[i%50], src, now); i++ }); a != 0 {
		t.Errorf("learning known hosts allocates %.2f times per datagram", a)
	}

	// A flood of 20,000 MACs, a second later: the table stays within its bound.
	later := now.Add(time.Second)
	for i := 1000; i < 21000; i++ {
		w.Process(frame(i), src, later)
	}
	if n := len(e.LocatedMACs(netip.Addr{}, "")); n > 16*8 || n < 16*7 {
		t.Errorf("%d MACs kept after a flood, bound %d", n, 16*8)
	}
	if got := e.LocateMAC(mac(20999)); len(got) != 1 {
		t.Errorf("the most recent MAC of the flood was evicted: %+v", got)
	}
	if e.located.evicted.Load() == 0 {
		t.Error("no eviction counted")
	}
	e.Sweep(later.Add(e.cfg.AgentTimeout + time.Second))
	if n := len(e.LocatedMACs(netip.Addr{}, "")); n != 0 {
		t.Errorf("%d MACs left after agent.timeout", n)
	}
}

// BenchmarkLocateLearn measures what host location adds to each flow
// sample: known hosts at known places (the steady state).
//
//	go test ./engine -run '^$' -bench LocateLearn -benchmem
func BenchmarkLocateLearn(b *testing.B) {
	e := New(Config{})
	w := e.NewWorker()
	g, _ := synth.New(synth.Config{Agents: 4, Ports: 8, Flows: 200, Seed: 3})
	d, _ := g.Datagram(nil, 1000)
	w.Process(d, src, time.Unix(1_700_000_000, 0))
	w.s.Agent = netip.MustParseAddr("10.255.0.1") // the last sample of the datagram, as flowSample left it
	for _, c := range []struct {
		name  string
		cache *locCache
	}{{"locator", nil}, {"worker-cache", new(locCache)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.located.learnSample(&w.s, e.topo, 1_700_000_000_000, c.cache)
			}
		})
	}
}

// TestLocateCacheWritesAsWithout: a worker's cache of what the locator
// answered it (locate_cache.go) leaves the locator holding exactly what it
// holds without one — every place and address, with the same last-seen
// times — over 30 s of traffic, so that entries cross the 1 s freshness
// many times: 400 hosts on four switches, a tenth of them also seen at a
// second port, one moving between six ports (more than a MAC keeps), one
// whose VLAN changes with every frame, interleaved with the benchmarks'
// synthetic mix (one MAC behind every port of six agents). The cacheless
// locator is fed the same samples from the engine's sample hook.
func TestLocateCacheWritesAsWithout(t *testing.T) {
	e := New(Config{})
	var bare locator
	bare.max = e.located.max
	learned := 0
	e.SetSampleHook(func(s *flow.Sample, ms int64) {
		bare.learnSample(s, nil, ms, nil)
		learned++
	})
	g, err := synth.New(synth.Config{Agents: 6, Ports: 12, Flows: 3000, Zipf: 1.1, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var sws [4]synth.Switch
	for i := range sws {
		sws[i] = synth.Switch{Agent: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})}
	}
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	for i := range 20_000 {
		now := start.Add(time.Duration(i) * 1500 * time.Microsecond)
		up := uint32(now.Sub(start).Milliseconds()) + 1000
		h := (i * 7919) % 400 // hosts in a scattered order
		sw, port, vlan := h%4, uint32(h%48+1), uint16(h%100+1)
		switch {
		case h == 7: // moves among six ports
			j := i / 400 % 6
			sw, port = j%4, uint32(j+1)
		case h == 13: // its VLAN changes with every frame
			vlan = uint16(i%3 + 1)
		case h%10 == 0 && i%2 == 1: // also seen at a second port
			sw, port = (sw+1)%4, port+100
		}
		f := synth.Frame{SrcMAC: [6]byte{0x02, 0, 0, 0, byte(h >> 8), byte(h)}, DstMAC: [6]byte{0x02, 0xff, 0, 0, 0, 1},
			Src: netip.AddrFrom4([4]byte{10, 1, byte(h >> 8), byte(h)}), Dst: netip.MustParseAddr("10.9.9.9"), VLAN: vlan}
		b, err := sws[sw].Sample(f, port, 99, up)
		if err != nil {
			t.Fatal(err)
		}
		w.Process(b, src, now)
		if i%4 == 0 {
			d, err := g.Datagram(nil, up)
			if err != nil {
				t.Fatal(err)
			}
			w.Process(d, src, now)
		}
	}
	if w.loc == nil {
		t.Fatal("the worker kept no cache")
	}
	macs, ips := 0, 0
	for i := range e.located.shards {
		got, want := &e.located.shards[i], &bare.shards[i]
		if !maps.Equal(got.macs, want.macs) {
			t.Errorf("shard %d: %d MACs with the cache, %d without, or their places differ", i, len(got.macs), len(want.macs))
			for k, v := range want.macs {
				if got.macs[k] != v {
					t.Logf("  %x: with %+v\n  without %+v", k, got.macs[k], v)
				}
			}
		}
		if !maps.Equal(got.ips, want.ips) {
			t.Errorf("shard %d: %d addresses with the cache, %d without, or their MACs or times differ", i, len(got.ips), len(want.ips))
		}
		macs += len(want.macs)
		ips += len(want.ips)
	}
	if macs < 400 || ips < 400 {
		t.Fatalf("only %d MACs and %d addresses learned from %d samples: the traffic does not exercise the locator", macs, ips, learned)
	}
	if m := e.LocateMAC([6]byte{0x02, 0, 0, 0, 0, 7}); len(m) != maxLocations {
		t.Errorf("the moving host is at %d places, want %d", len(m), maxLocations)
	}
	t.Logf("%d samples, %d MACs, %d addresses: identical with and without the cache", learned, macs, ips)
}
