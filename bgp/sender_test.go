package bgp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// rawPeer is a minimal BGP sender for benchmarks and flood tests: it opens
// a session to the speaker and writes UPDATE messages as fast as TCP takes
// them, so that what is measured is flowrt's side (a real daemon paces
// itself). Messages are built with GoBGP's packet library.
type rawPeer struct {
	conn net.Conn
	w    *bufio.Writer
}

func dialRaw(t testing.TB, from netip.Addr, port int, as uint32) *rawPeer {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
	c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{conn: c, w: bufio.NewWriterSize(c, 1<<20)}
	caps := []bgp.ParameterCapabilityInterface{bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC), bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(as)}
	open, err := bgp.NewBGPOpenMessage(23456, 240, from, []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
	if err != nil {
		t.Fatal(err)
	}
	p.send(t, open)
	p.send(t, bgp.NewBGPKeepAliveMessage())
	p.w.Flush()
	// Read the speaker's OPEN and KEEPALIVE, then drain whatever comes.
	r := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		m := readMsg(t, r)
		if m.Header.Type == bgp.BGP_MSG_NOTIFICATION {
			t.Fatalf("the speaker refused the session: %v", m.Body)
		}
	}
	go io.Copy(io.Discard, r)
	return p
}

func readMsg(t testing.TB, r *bufio.Reader) *bgp.BGPMessage {
	hdr := make([]byte, 19)
	if _, err := io.ReadFull(r, hdr); err != nil {
		t.Fatalf("reading from the speaker: %v", err)
	}
	n := int(binary.BigEndian.Uint16(hdr[16:18]))
	b := make([]byte, n)
	copy(b, hdr)
	if _, err := io.ReadFull(r, b[19:]); err != nil {
		t.Fatal(err)
	}
	m, err := bgp.ParseBGPMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (p *rawPeer) send(t testing.TB, m *bgp.BGPMessage) {
	b, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.w.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (p *rawPeer) close() { p.w.Flush(); p.conn.Close() }

// table4 announces n IPv4 prefixes (/24s from 1.0.0.0 on), perUpdate to an
// UPDATE sharing one attribute set, with distinct AS paths every update
// (as a full table has some hundreds of thousands of distinct ones).
func (p *rawPeer) table4(t testing.TB, n, perUpdate int, nexthop netip.Addr) {
	for i := 0; i < n; i += perUpdate {
		var nlri []bgp.PathNLRI
		for j := i; j < min(i+perUpdate, n); j++ {
			a := uint32(1<<24) + uint32(j)<<8
			pfx, _ := bgp.NewIPAddrPrefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24))
			nlri = append(nlri, bgp.PathNLRI{NLRI: pfx})
		}
		nh, _ := bgp.NewPathAttributeNextHop(nexthop)
		attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
			bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ,
				[]uint32{65001, 3356, uint32(64600 + (i/perUpdate)%300), uint32(100000 + i/perUpdate)})}),
			nh, bgp.NewPathAttributeCommunities([]uint32{65001<<16 | uint32(i%1000)})}
		p.send(t, bgp.NewBGPUpdateMessage(nil, attrs, nlri))
	}
	p.w.Flush()
}

// table6 is table4 for IPv6 (/48s under 2001:db8::/32's neighbours).
func (p *rawPeer) table6(t testing.TB, n, perUpdate int, nexthop netip.Addr) {
	for i := 0; i < n; i += perUpdate {
		var nlri []bgp.PathNLRI
		for j := i; j < min(i+perUpdate, n); j++ {
			var b [16]byte
			b[0], b[1], b[2], b[3], b[4], b[5] = 0x2a, 0x00, byte(j>>24), byte(j>>16), byte(j>>8), byte(j)
			pfx, _ := bgp.NewIPAddrPrefix(netip.PrefixFrom(netip.AddrFrom16(b), 48))
			nlri = append(nlri, bgp.PathNLRI{NLRI: pfx})
		}
		mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, nlri, nexthop)
		if err != nil {
			t.Fatal(err)
		}
		attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
			bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ,
				[]uint32{65001, 6939, uint32(200000 + i/perUpdate)})}), mp}
		p.send(t, bgp.NewBGPUpdateMessage(nil, attrs, nil))
	}
	p.w.Flush()
}

func addr4(i int) netip.Addr {
	a := uint32(1<<24) + uint32(i)<<8 + 9
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// rawSession is a speaker on a free port of 127.0.0.1 with the raw sender
// as its neighbor (AS 65001 at birdAddr), the session up; the test's
// cleanup closes both. onClose may be nil.
func rawSession(t testing.TB, o Options, onClose func()) (*Speaker, *Neighbor, *rawPeer) {
	t.Helper()
	port := freeTCP(t)
	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	t.Cleanup(sp.Close)
	o.PeerAS = 65001
	nb, err := sp.AddNeighbor(birdAddr, 65000, flowrtAddr, o, "t", nil, onClose)
	if err != nil {
		t.Fatal(err)
	}
	p := dialRaw(t, birdAddr, port, 65001)
	t.Cleanup(p.close)
	waitUntil(t, 10*time.Second, "session", nb.Established)
	return sp, nb, p
}
