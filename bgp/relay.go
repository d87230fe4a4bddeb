package bgp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// GoBGP keeps every path a router sends in its Adj-RIB-In, about 430
// bytes a route, and has no setting to keep none (docs/bgp.md). So the
// routers' TCP sessions end here, not in GoBGP: flowrt listens on
// bgp.port (and dials the active neighbors), and relays each session to
// GoBGP over loopback, from an address of 127.254.0.0/16 that stands for
// the router (GoBGP tells its peers apart by address). Every message goes
// through unchanged — OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, what
// GoBGP announces — so GoBGP still runs the finite-state machine, the
// capabilities, the timers and the error handling. One kind is taken out:
// a well-formed UPDATE of IPv4 or IPv6 unicast routes, once the session is
// up, goes to the router's RIB here and not to GoBGP, which so stores none
// of them. In its place GoBGP gets a KEEPALIVE (at most one a second), so
// that its hold timer sees the router alive while a table pours in.
// Anything else, and any UPDATE that GoBGP's own parser or validator
// refuses, goes to GoBGP as it came, for GoBGP to handle as it would.

// innerAddr is the loopback address GoBGP sees for the neighbor with tag n.
func innerAddr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 254, byte(n >> 8), byte(n)})
}

// session is one router's TCP session relayed to GoBGP.
type session struct {
	s      *Speaker
	n      *Neighbor
	router net.Conn
	inner  net.Conn

	opened       chan struct{} // closed once GoBGP's OPEN is read
	mu           sync.Mutex    // the OPENs, read by both directions
	ours, theirs *bgp.BGPOpen
	opt          *bgp.MarshallingOption
	rfs          map[bgp.Family]bgp.BGPAddPathMode
	isEBGP       bool
	loopback     bool // both ends on 127/8: GoBGP then allows loopback next hops
}

// listenLocked opens bgp.port for the routers.
func (s *Speaker) listenLocked(addrs []string) error {
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			for _, l := range s.listeners {
				l.Close()
			}
			s.listeners = nil
			return err
		}
		s.listeners = append(s.listeners, l)
		go s.acceptLoop(l)
	}
	return nil
}

func (s *Speaker) acceptLoop(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("BGP accept failed", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		s.mu.Lock()
		n := s.neighbors[ap.Addr().Unmap()]
		s.mu.Unlock()
		if n == nil {
			s.log.Warn("BGP connection from an address that is not a neighbor, closed: add it with bgpAddNeighbor", "from", c.RemoteAddr())
			c.Close()
			continue
		}
		go s.relay(n, c)
	}
}

// dialLoop connects to an active neighbor's router whenever it has no
// session, every 5 seconds, until the neighbor is removed.
func (s *Speaker) dialLoop(ctx context.Context, n *Neighbor) {
	port := n.Options.Port
	if port == 0 {
		port = 179
	}
	addr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(port))
	d := net.Dialer{Timeout: 5 * time.Second}
	if len(s.cfg.Addresses) == 1 { // bgp.hostname names one address: connect from it
		if a, err := netip.ParseAddr(s.cfg.Addresses[0]); err == nil && a.Is4() == n.Addr.Is4() && !a.IsUnspecified() {
			d.LocalAddr = &net.TCPAddr{IP: a.AsSlice()}
		}
	}
	for {
		if !n.relaying.Load() {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				go s.relay(n, c)
			} else if ctx.Err() == nil {
				s.log.Debug("BGP neighbor does not answer", "router", n.Addr, "addr", addr, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// relay runs one session: the router's connection to GoBGP's, from the
// neighbor's inner address.
func (s *Speaker) relay(n *Neighbor, router net.Conn) {
	if !n.relaying.CompareAndSwap(false, true) {
		s.log.Warn("BGP connection from a router that already has a session, closed", "router", n.Addr, "from", router.RemoteAddr())
		router.Close()
		return
	}
	defer n.relaying.Store(false)
	s.mu.Lock()
	innerPort, gone := s.innerPort, s.neighbors[n.Addr] != n || s.closed
	s.mu.Unlock()
	if gone {
		router.Close()
		return
	}
	// GoBGP closes a connection that comes while the peer is idle (just
	// added, or after a session ended, for its idle hold time): the
	// router's connection waits here for it instead.
	for deadline := time.Now().Add(15 * time.Second); n.State() == "idle"; {
		if time.Now().After(deadline) {
			s.log.Warn("BGP session not relayed: GoBGP's peer stayed idle", "router", n.Addr)
			router.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: n.inner.AsSlice()}, Timeout: 5 * time.Second}
	inner, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(innerPort)))
	if err != nil {
		s.log.Warn("BGP session not relayed to GoBGP", "router", n.Addr, "err", err)
		router.Close()
		return
	}
	ss := &session{s: s, n: n, router: router, inner: inner, isEBGP: n.AS != n.PeerAS, opened: make(chan struct{})}
	if l, ok := netip.ParseAddrPort(router.LocalAddr().String()); ok == nil {
		r, _ := netip.ParseAddrPort(router.RemoteAddr().String())
		ss.loopback = l.Addr().Unmap().Is4() && l.Addr().Unmap().IsLoopback() && r.Addr().Unmap().Is4() && r.Addr().Unmap().IsLoopback()
	}
	s.trackConn(router, true)
	done := make(chan struct{})
	go func() {
		ss.fromGoBGP()
		router.Close()
		inner.Close()
		close(done)
	}()
	ss.fromRouter()
	router.Close()
	inner.Close()
	<-done
	s.trackConn(router, false)
	// What this session put in the RIB goes with it (GoBGP's peer event
	// clears it too, but may come before the last UPDATE was applied).
	n.RIB.Clear()
}

// trackConn keeps the routers' connections, so that Close can end them.
func (s *Speaker) trackConn(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// readMessage reads one BGP message, header and body. A header that is not
// a BGP header is returned with its error: the caller passes it on and
// then relays bytes blindly, so that GoBGP answers it as it would.
func readMessage(r *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:bgp.BGP_HEADER_LENGTH]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	for _, b := range buf[:16] {
		if b != 0xff {
			return buf, errBadHeader
		}
	}
	l := int(binary.BigEndian.Uint16(buf[16:18]))
	if l < bgp.BGP_HEADER_LENGTH {
		return buf, errBadHeader
	}
	if cap(buf) < l {
		nb := make([]byte, l, max(l, bgp.BGP_MAX_MESSAGE_LENGTH))
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:l]
	if _, err := io.ReadFull(r, buf[bgp.BGP_HEADER_LENGTH:]); err != nil {
		return nil, err
	}
	return buf, nil
}

var errBadHeader = errors.New("not a BGP message header")

var keepaliveMsg = func() []byte {
	b, _ := bgp.NewBGPKeepAliveMessage().Serialize()
	return b
}()

// fromGoBGP passes what GoBGP sends to the router, noting its OPEN.
func (ss *session) fromGoBGP() {
	r := bufio.NewReaderSize(ss.inner, 64<<10)
	buf := make([]byte, bgp.BGP_MAX_MESSAGE_LENGTH)
	for {
		m, err := readMessage(r, buf)
		if err != nil {
			if m != nil {
				ss.router.Write(m)
				io.Copy(ss.router, r)
			}
			return
		}
		if m[18] == bgp.BGP_MSG_OPEN {
			if msg, err := bgp.ParseBGPMessage(m); err == nil {
				ss.mu.Lock()
				first := ss.ours == nil
				ss.ours = msg.Body.(*bgp.BGPOpen)
				ss.negotiateLocked()
				ss.mu.Unlock()
				if first {
					close(ss.opened)
				}
			}
		}
		if _, err := ss.router.Write(m); err != nil {
			return
		}
		buf = m[:cap(m)]
	}
}

// fromRouter passes what the router sends to GoBGP, but for the unicast
// UPDATEs, which go to the RIB.
func (ss *session) fromRouter() {
	r := bufio.NewReaderSize(ss.router, 256<<10)
	w := bufio.NewWriterSize(ss.inner, 16<<10)
	buf := make([]byte, bgp.BGP_MAX_MESSAGE_LENGTH)
	var keepalive bool // the router's KEEPALIVE after its OPEN: the session is up
	lastSent := time.Now()
	var batch []Change
	flush := func() error {
		if len(batch) > 0 {
			ss.n.RIB.Apply(batch)
			ss.s.updates.Add(uint64(len(batch)))
			batch = batch[:0]
		}
		return w.Flush()
	}
	defer flush()
	for {
		m, err := readMessage(r, buf)
		if err != nil {
			if m != nil {
				flush()
				ss.inner.Write(m)
				io.Copy(ss.inner, r)
			}
			return
		}
		buf = m[:cap(m)]
		switch m[18] {
		case bgp.BGP_MSG_OPEN:
			if msg, err := bgp.ParseBGPMessage(m); err == nil {
				ss.mu.Lock()
				ss.theirs = msg.Body.(*bgp.BGPOpen)
				ss.negotiateLocked()
				ss.mu.Unlock()
			}
		case bgp.BGP_MSG_KEEPALIVE:
			ss.mu.Lock()
			keepalive = ss.theirs != nil
			ss.mu.Unlock()
		case bgp.BGP_MSG_UPDATE:
			if keepalive && ss.waitOpened() {
				if ss.take(m, &batch) {
					if len(batch) >= applyBatch || r.Buffered() == 0 {
						if err := flush(); err != nil {
							return
						}
					}
					if time.Since(lastSent) >= time.Second {
						if _, err := w.Write(keepaliveMsg); err != nil {
							return
						}
						lastSent = time.Now()
					}
					continue
				}
			}
		}
		if err := flush(); err != nil {
			return
		}
		if _, err := w.Write(m); err != nil {
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
		lastSent = time.Now()
	}
}

// negotiateLocked works out, once both OPENs are seen, how the router's
// UPDATEs are encoded (RFC 4760 families, RFC 6793 4-byte AS, RFC 7911
// ADD-PATH, RFC 8654 extended messages), as GoBGP does for its own
// decoding.
func (ss *session) negotiateLocked() {
	if ss.ours == nil || ss.theirs == nil {
		return
	}
	type caps struct {
		fams     map[bgp.Family]bool
		addPath  map[bgp.Family]bgp.BGPAddPathMode
		as4, ext bool
	}
	read := func(o *bgp.BGPOpen) caps {
		c := caps{fams: map[bgp.Family]bool{}, addPath: map[bgp.Family]bgp.BGPAddPathMode{}}
		for _, p := range o.OptParams {
			op, ok := p.(*bgp.OptionParameterCapability)
			if !ok {
				continue
			}
			for _, cp := range op.Capability {
				switch v := cp.(type) {
				case *bgp.CapMultiProtocol:
					c.fams[v.CapValue] = true
				case *bgp.CapFourOctetASNumber:
					c.as4 = true
				case *bgp.CapAddPath:
					for _, t := range v.Tuples {
						c.addPath[t.Family] = t.Mode
					}
				case *bgp.CapExtendedMessage:
					c.ext = true
				}
			}
		}
		if len(c.fams) == 0 {
			c.fams[bgp.RF_IPv4_UC] = true // RFC 4760: no capability, IPv4 unicast
		}
		return c
	}
	us, them := read(ss.ours), read(ss.theirs)
	rfs := map[bgp.Family]bgp.BGPAddPathMode{}
	for f := range us.fams {
		if !them.fams[f] {
			continue
		}
		mode := bgp.BGP_ADD_PATH_NONE
		if us.addPath[f]&bgp.BGP_ADD_PATH_RECEIVE != 0 && them.addPath[f]&bgp.BGP_ADD_PATH_SEND != 0 {
			mode |= bgp.BGP_ADD_PATH_RECEIVE
		}
		if us.addPath[f]&bgp.BGP_ADD_PATH_SEND != 0 && them.addPath[f]&bgp.BGP_ADD_PATH_RECEIVE != 0 {
			mode |= bgp.BGP_ADD_PATH_SEND
		}
		rfs[f] = mode
	}
	ss.rfs = rfs
	ss.opt = &bgp.MarshallingOption{AddPath: rfs, Use2ByteAS: !(us.as4 && them.as4), ExtendedMessage: us.ext && them.ext}
}

// waitOpened waits for GoBGP's OPEN, which it sends as soon as the relay
// connects: a router may send its first UPDATE before that OPEN has come
// through, and the UPDATE cannot be read without it.
func (ss *session) waitOpened() bool {
	select {
	case <-ss.opened:
		return true
	default:
	}
	select {
	case <-ss.opened:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// take puts a unicast UPDATE into the batch and reports whether it did;
// an UPDATE it does not take goes to GoBGP.
func (ss *session) take(m []byte, batch *[]Change) bool {
	ss.mu.Lock()
	opt, rfs := ss.opt, ss.rfs
	ss.mu.Unlock()
	var hd bgp.BGPHeader
	if opt == nil || opt.Use2ByteAS || hd.DecodeFromBytes(m) != nil {
		// A router without 4-byte AS numbers (RFC 6793) sends AS4_PATH
		// in some UPDATEs, which GoBGP merges: all of its UPDATEs go to
		// GoBGP, so that none overtakes another.
		return false
	}
	msg, err := bgp.ParseBGPBody(&hd, m[bgp.BGP_HEADER_LENGTH:], opt)
	if err != nil {
		// Malformed: GoBGP decides (RFC 7606 treat-as-withdraw or
		// attribute discard, or a NOTIFICATION). Its prefixes leave the
		// RIB now, so that a later UPDATE taken here is not overtaken by
		// GoBGP's answer; what GoBGP still accepts comes back through it.
		if msg != nil {
			ss.withdrawAll(msg.Body.(*bgp.BGPUpdate), batch)
		}
		return false
	}
	u := msg.Body.(*bgp.BGPUpdate)
	if eor, _ := u.IsEndOfRib(); eor {
		return false // GoBGP follows End-of-RIB (graceful restart)
	}
	var reach *bgp.PathAttributeMpReachNLRI
	var unreach *bgp.PathAttributeMpUnreachNLRI
	for _, a := range u.PathAttributes {
		switch v := a.(type) {
		case *bgp.PathAttributeMpReachNLRI:
			reach = v
		case *bgp.PathAttributeMpUnreachNLRI:
			unreach = v
		case *bgp.PathAttributeAs4Path, *bgp.PathAttributeAs4Aggregator:
			return false // a 2-byte-AS router: GoBGP merges AS4_PATH (RFC 6793)
		}
	}
	unicast := func(afi uint16, safi uint8) bool {
		f := bgp.NewFamily(afi, safi)
		return f == bgp.RF_IPv4_UC || f == bgp.RF_IPv6_UC
	}
	if (reach != nil && !unicast(reach.AFI, reach.SAFI)) || (unreach != nil && !unicast(unreach.AFI, unreach.SAFI)) {
		return false // Flowspec and other families: GoBGP's
	}
	if ok, err := bgp.ValidateUpdateMsg(u, rfs, ss.isEBGP, false, ss.loopback); !ok || err != nil {
		ss.withdrawAll(u, batch) // as for a malformed one above
		return false
	}
	withdraw := func(ns []bgp.PathNLRI) {
		for _, p := range ns {
			if pfx, ok := nlriPrefix(p.NLRI); ok {
				*batch = append(*batch, Change{Prefix: pfx, ID: p.ID})
			}
		}
	}
	withdraw(u.WithdrawnRoutes)
	if unreach != nil {
		withdraw(unreach.Value)
	}
	if len(u.NLRI) > 0 || (reach != nil && len(reach.Value) > 0) {
		route := routeOf(u.PathAttributes)
		announce := func(ns []bgp.PathNLRI) {
			for _, p := range ns {
				if pfx, ok := nlriPrefix(p.NLRI); ok {
					*batch = append(*batch, Change{Prefix: pfx, Route: route, ID: p.ID})
				}
			}
		}
		if len(u.NLRI) > 0 {
			nh := route.NextHop
			if reach != nil {
				// routeOf took the MP_REACH next hop; the IPv4 NLRI go with NEXT_HOP.
				for _, a := range u.PathAttributes {
					if v, ok := a.(*bgp.PathAttributeNextHop); ok {
						nh = v.Value
					}
				}
				r4 := *route
				r4.NextHop = nh
				route4 := &r4
				for _, p := range u.NLRI {
					if pfx, ok := nlriPrefix(p.NLRI); ok {
						*batch = append(*batch, Change{Prefix: pfx, Route: route4, ID: p.ID})
					}
				}
			} else {
				announce(u.NLRI)
			}
		}
		if reach != nil {
			announce(reach.Value)
		}
	}
	return true
}

// withdrawAll puts a withdrawal of every prefix an UPDATE names into the
// batch.
func (ss *session) withdrawAll(u *bgp.BGPUpdate, batch *[]Change) {
	add := func(ns []bgp.PathNLRI) {
		for _, p := range ns {
			if pfx, ok := nlriPrefix(p.NLRI); ok {
				*batch = append(*batch, Change{Prefix: pfx, ID: p.ID})
			}
		}
	}
	add(u.WithdrawnRoutes)
	add(u.NLRI)
	for _, a := range u.PathAttributes {
		switch v := a.(type) {
		case *bgp.PathAttributeMpReachNLRI:
			add(v.Value)
		case *bgp.PathAttributeMpUnreachNLRI:
			add(v.Value)
		}
	}
}
