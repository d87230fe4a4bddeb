package bgp

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// adjIn counts the paths GoBGP holds in the neighbor's Adj-RIB-In.
func adjIn(t *testing.T, sp *Speaker, n *Neighbor, f bgp.Family) int {
	t.Helper()
	count := 0
	err := sp.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_ADJ_IN, Name: n.inner.String(), Family: f},
		func(_ bgp.NLRI, paths []*apiutil.Path) { count += len(paths) })
	if err != nil {
		t.Fatalf("GoBGP's Adj-RIB-In of %s: %v", n.inner, err)
	}
	return count
}

// TestRelayKeepsRoutesOutOfGoBGP: the routes a router sends reach flowrt's
// RIB and not GoBGP's Adj-RIB-In; withdrawals too; the session is GoBGP's
// (its state, its KEEPALIVEs).
func TestRelayKeepsRoutesOutOfGoBGP(t *testing.T) {
	sp, nb, p := rawSession(t, Options{IPv6: true}, nil)
	p.table4(t, 1000, 20, birdAddr)
	p.table6(t, 100, 20, netip.MustParseAddr("2001:db8::2"))
	waitUntil(t, 10*time.Second, "the table", func() bool { v4, v6 := nb.RIB.Count(); return v4 == 1000 && v6 == 100 })
	if r := nb.RIB.Lookup(addr4(7)); r == nil || r.NextHop != birdAddr || len(r.ASPath) != 4 || r.ASPath[1] != 3356 {
		t.Errorf("route for %v: %+v", addr4(7), r)
	}
	if a4, a6 := adjIn(t, sp, nb, bgp.RF_IPv4_UC), adjIn(t, sp, nb, bgp.RF_IPv6_UC); a4 != 0 || a6 != 0 {
		t.Errorf("GoBGP's Adj-RIB-In holds %d IPv4 and %d IPv6 paths, want none", a4, a6)
	}
	// Withdraw the first 20.
	var gone []bgp.PathNLRI
	for j := range 20 {
		a := uint32(1<<24) + uint32(j)<<8
		pfx, _ := bgp.NewIPAddrPrefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24))
		gone = append(gone, bgp.PathNLRI{NLRI: pfx})
	}
	p.send(t, bgp.NewBGPUpdateMessage(gone, nil, nil))
	p.w.Flush()
	waitUntil(t, 10*time.Second, "the withdrawal", func() bool { v4, _ := nb.RIB.Count(); return v4 == 980 })
	if nb.RIB.Lookup(addr4(7)) != nil {
		t.Errorf("%v still routed after its withdrawal", addr4(7))
	}
	if !nb.Established() || nb.State() != "established" {
		t.Errorf("session %s after the table", nb.State())
	}
}

// TestRelayFeedsGoBGPsHoldTimer: a router that sends UPDATEs and no
// KEEPALIVE for longer than the hold time keeps its session, though GoBGP
// sees none of those UPDATEs (the relay sends it KEEPALIVEs for them).
func TestRelayFeedsGoBGPsHoldTimer(t *testing.T) {
	var closed atomic.Int32
	_, nb, p := rawSession(t, Options{HoldTime: 3}, func() { closed.Add(1) })
	for i := range 16 { // 4 s of UPDATEs, hold time 3 s
		p.table4(t, (i+1)*10, 10, birdAddr)
		time.Sleep(250 * time.Millisecond)
	}
	if !nb.Established() || closed.Load() != 0 {
		t.Fatalf("the session closed while UPDATEs came in (state %s)", nb.State())
	}
	if v4, _ := nb.RIB.Count(); v4 != 160 {
		t.Errorf("%d prefixes in the RIB, want 160", v4)
	}
	// And GoBGP's hold timer still works: with nothing at all for 3 s, the
	// session ends.
	waitUntil(t, 10*time.Second, "the hold timer to expire", func() bool { return !nb.Established() })
	if v4, _ := nb.RIB.Count(); v4 != 0 {
		t.Errorf("%d prefixes kept after the session ended", v4)
	}
}

// TestRelayLeavesMalformedUpdatesToGoBGP: an UPDATE that GoBGP's validator
// refuses (NLRI without the mandatory NEXT_HOP) goes to GoBGP, which
// handles it as it would: RFC 7606's treat-as-withdraw, which takes the
// route the relay had put in the RIB out again, the session staying up.
func TestRelayLeavesMalformedUpdatesToGoBGP(t *testing.T) {
	_, nb, p := rawSession(t, Options{}, nil)
	p.table4(t, 20, 20, birdAddr)
	waitUntil(t, 10*time.Second, "the table", func() bool { v4, _ := nb.RIB.Count(); return v4 == 20 })
	pfx, _ := bgp.NewIPAddrPrefix(netip.PrefixFrom(addr4(3), 24).Masked())
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65001})})}
	p.send(t, bgp.NewBGPUpdateMessage(nil, attrs, []bgp.PathNLRI{{NLRI: pfx}}))
	p.w.Flush()
	waitUntil(t, 10*time.Second, "GoBGP's treat-as-withdraw", func() bool { return nb.RIB.Lookup(addr4(3)) == nil })
	if v4, _ := nb.RIB.Count(); v4 != 19 || !nb.Established() {
		t.Errorf("%d prefixes, session %s: want 19, established", v4, nb.State())
	}
}
