package bgp

import (
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/packet"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// ethSample is a sampled IPv4 packet with an Ethernet header, from agent.
func ethSample(agent netip.Addr, dstMAC, srcMAC uint64, src, dst netip.Addr) *flow.Sample {
	b := make([]byte, 14+20)
	for i := range 6 {
		b[i] = byte(dstMAC >> (40 - 8*i))
		b[6+i] = byte(srcMAC >> (40 - 8*i))
	}
	b[12], b[13] = 0x08, 0x00
	b[14], b[22], b[23] = 0x45, 64, 17
	b[16], b[17] = 0, 20
	copy(b[26:30], src.AsSlice())
	copy(b[30:34], dst.AsSlice())
	s := &flow.Sample{Agent: agent, HasHeader: true, SamplingRate: 1, FrameLength: 64}
	s.Packet.Decode(packet.HeaderEthernet, b)
	return s
}

// TestMultipathNextHopsFromGoBGPD: gobgpd, as an exchange's route server
// would, sends two paths for one prefix with ADD-PATH (RFC 7911), to a
// neighbor flowrt connects to (active). The RIB keeps both, and with
// bgpSetNextHops the bgp keys take the path whose next hop has the
// sample's destination MAC (source MAC for a source address), the best
// path otherwise. A withdrawn path goes, leaving the other.
func TestMultipathNextHopsFromGoBGPD(t *testing.T) {
	for _, p := range []string{"gobgpd", "gobgp"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (Debian package gobgpd): %v", p, err)
		}
	}
	port, apiPort, ourPort := freeTCP(t), freeTCP(t), freeTCP(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`[global.config]
  as = 65000
  router-id = "127.0.0.4"
  port = %d
  local-address-list = ["127.0.0.4"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      send-max = 8
`, port)
	cli := startGoBGPD(t, dir, conf, "127.0.0.4", apiPort)
	waitUntil(t, 10*time.Second, "gobgpd's API", func() bool { return strings.Contains(cli("global"), "65000") })
	for _, p := range [][]string{{"192.0.2.11", "1", "64511"}, {"192.0.2.12", "2", "64512 64513"}} {
		if out := cli("global", "rib", "add", "-a", "ipv4", "203.0.113.0/24", "nexthop", p[0], "identifier", p[1], "aspath", p[2]); strings.TrimSpace(out) != "" {
			t.Fatalf("gobgp global rib add: %s", out)
		}
	}

	sp := New(Config{Port: ourPort, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	peer := netip.MustParseAddr("127.0.0.4")
	nb, err := sp.AddNeighbor(peer, 65000, flowrtAddr, Options{Active: true, Port: port, Multipath: true}, "t", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pfx := netip.MustParsePrefix("203.0.113.0/24")
	waitUntil(t, 30*time.Second, "both of gobgpd's paths in the RIB", func() bool { return len(nb.RIB.Paths(pfx)) == 2 })
	paths := nb.RIB.Paths(pfx)
	if a := adjIn(t, sp, nb, bgp.RF_IPv4_UC); a != 0 {
		t.Errorf("GoBGP's Adj-RIB-In holds %d paths: the relay should have read the ADD-PATH UPDATEs itself", a)
	}
	if !slices.Equal(paths[0].ASPath, []uint32{64511}) || paths[0].NextHop != netip.MustParseAddr("192.0.2.11") {
		t.Errorf("best path %+v, want 64511 via 192.0.2.11 (the shorter AS path)", paths[0])
	}

	agent, member := netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("198.51.100.9")
	sp.AddEdgeSource(nb, nil) // bgpAddSource('EDGE', …): every agent
	sp.SetNextHops(map[netip.Addr]uint64{netip.MustParseAddr("192.0.2.11"): 0xA1, netip.MustParseAddr("192.0.2.12"): 0xA2}, "t")
	dst := netip.MustParseAddr("203.0.113.5")
	for _, c := range []struct {
		mac  uint64
		want []uint32
	}{{0xA2, []uint32{64512, 64513}}, {0xA1, []uint32{64511}}, {0xEE, []uint32{64511}}} {
		r, as, ok := sp.RouteSample(ethSample(agent, c.mac, 0xB0, member, dst), dst, false)
		if !ok || r == nil || !slices.Equal(r.ASPath, c.want) || as != 65000 {
			t.Errorf("to %v through MAC %X: %+v, want path %v", dst, c.mac, r, c.want)
		}
	}
	// The path back to a source address goes by the source MAC.
	if r, _, _ := sp.RouteSample(ethSample(agent, 0xB0, 0xA2, dst, member), dst, true); r == nil || !slices.Equal(r.ASPath, []uint32{64512, 64513}) {
		t.Errorf("from %v through MAC A2: %+v, want path 64512 64513", dst, r)
	}

	if out := cli("global", "rib", "del", "-a", "ipv4", "203.0.113.0/24", "identifier", "1"); strings.TrimSpace(out) != "" {
		t.Fatalf("gobgp global rib del: %s", out)
	}
	waitUntil(t, 10*time.Second, "the withdrawn path to go", func() bool { return len(nb.RIB.Paths(pfx)) == 1 })
	if r, _, _ := sp.RouteSample(ethSample(agent, 0xA1, 0xB0, member, dst), dst, false); r == nil || !slices.Equal(r.ASPath, []uint32{64512, 64513}) {
		t.Errorf("after the withdrawal, through MAC A1: %+v, want the remaining path 64512 64513", r)
	}
	smp := ethSample(agent, 0xA2, 0xB0, member, dst)
	if a := testing.AllocsPerRun(1000, func() { sp.RouteSample(smp, dst, false) }); a != 0 {
		t.Errorf("%v allocations per lookup, want 0", a)
	}
}
