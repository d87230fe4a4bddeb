package engine

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

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
	b.ReportAllocs()
	for b.Loop() {
		e.located.learnSample(&w.s, e.topo, 1_700_000_000_000)
	}
}
