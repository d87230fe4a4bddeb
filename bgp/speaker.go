// Package bgp is flowrt's embedded BGP speaker (sFlow-RT's bgp.start): it
// peers with routers through GoBGP, keeps what each router sends in a RIB
// for the bgp flow keys, and announces the black-hole routes and Flowspec
// rules that scripts add (docs/bgp.md).
package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// DefaultPort is sFlow-RT's bgp.port: above 1023, so no privilege is needed.
const DefaultPort = 1179

// Config is the speaker's bgp.* properties.
type Config struct {
	Port      int      // bgp.port (0: DefaultPort)
	Addresses []string // bgp.hostname: addresses to listen on (default every address)
	Logger    *slog.Logger
}

// Speaker is the embedded BGP speaker. GoBGP starts with the first
// neighbor, since a BGP speaker needs an AS and router ID before it can
// listen, and sFlow-RT takes both from bgpAddNeighbor.
type Speaker struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	srv       *server.BgpServer
	cancel    context.CancelFunc
	globalAS  uint32
	globalID  netip.Addr
	neighbors map[netip.Addr]*Neighbor
	nextTag   uint32
	items     map[string]*item // what scripts announce, by key (announce.go)
	closed    bool
	assigned  bool          // the global policies are assigned (policy.go)
	stop      chan struct{} // ends the traffic ticks (traffic.go)

	// The routers' sessions end here and are relayed to GoBGP (relay.go).
	listeners []net.Listener
	innerPort int                      // GoBGP's loopback listener
	inner     map[netip.Addr]*Neighbor // by the address GoBGP sees
	conns     map[net.Conn]struct{}    // the routers' connections

	sources   atomic.Pointer[map[netip.Addr]source] // bgpAddSource (sources.go)
	edge      atomic.Pointer[source]                // bgpAddSource('EDGE', …): every other agent
	nextHops  atomic.Pointer[map[netip.Addr]uint64] // bgpSetNextHops (nexthops.go)
	hopsOwner string                                // under mu
	updates   atomic.Uint64                         // prefixes received, all routers
}

// Neighbor is a router flowrt peers with.
type Neighbor struct {
	Addr    netip.Addr
	AS      uint32 // flowrt's AS on this session
	PeerAS  uint32 // the router's (the same: iBGP, unless options.peeras)
	ID      netip.Addr
	Options Options
	RIB     *RIB

	tag         uint32     // large community that marks what is announced to it (policy.go)
	inner       netip.Addr // the address GoBGP knows it by (relay.go)
	relaying    atomic.Bool
	stopDial    context.CancelFunc // an active neighbor's dial loop
	established atomic.Bool
	state       atomic.Value // string: the session's FSM state, "idle" … "established"
	// Routes announced to it and withdrawn (bgpTopPrefixes' pushed counts),
	// under the speaker's mu.
	pushedAdded, pushedRemoved uint64
	// OnOpen and OnClose are told when the session comes up and goes down
	// (the scripts' openHandler and closeHandler); they must not block.
	onOpen, onClose func()
	owner           string
}

// Established reports whether the session is up.
func (n *Neighbor) Established() bool { return n.established.Load() }

// State is the session's state in lower case: idle, connect, active,
// opensent, openconfirm or established.
func (n *Neighbor) State() string {
	if v, ok := n.state.Load().(string); ok {
		return v
	}
	return "idle"
}

// New returns a speaker; it listens once a neighbor is added.
func New(cfg Config) *Speaker {
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Speaker{cfg: cfg, log: cfg.Logger.With("component", "bgp"), neighbors: map[netip.Addr]*Neighbor{}, items: map[string]*item{},
		inner: map[netip.Addr]*Neighbor{}, conns: map[net.Conn]struct{}{}}
	empty := map[netip.Addr]source{}
	s.sources.Store(&empty)
	s.stop = make(chan struct{})
	go s.tickLoop(s.stop)
	return s
}

// Port is the TCP port the speaker listens on.
func (s *Speaker) Port() int { return s.cfg.Port }

// ErrClosed is returned once the speaker has stopped.
var ErrClosed = errors.New("the BGP speaker has stopped")

// startLocked starts GoBGP with the first neighbor's AS and router ID.
func (s *Speaker) startLocked(as uint32, id netip.Addr) error {
	if s.srv != nil {
		if id != s.globalID {
			s.log.Warn("GoBGP keeps one router ID: this neighbor's is not used", "asked", id, "used", s.globalID)
		}
		return nil
	}
	addrs := s.cfg.Addresses
	if len(addrs) == 0 {
		addrs = []string{"0.0.0.0", "::"}
	}
	if err := s.listenLocked(addrs); err != nil {
		return fmt.Errorf("BGP cannot listen on port %d (%v): is another speaker running? Choose another with -Dbgp.port", s.cfg.Port, err)
	}
	srv := server.NewBgpServer(server.LoggerOption(slog.New(quieter{s.log.Handler()}), nil))
	go srv.Serve()
	var err error
	for range 5 { // a free loopback port for GoBGP, which takes a number
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			break
		}
		s.innerPort = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if err = srv.StartBgp(context.Background(), &api.StartBgpRequest{Global: &api.Global{
			Asn: as, RouterId: id.String(), ListenPort: int32(s.innerPort), ListenAddresses: []string{"127.0.0.1"}}}); err == nil {
			break
		}
	}
	if err != nil {
		srv.Stop()
		s.closeListenersLocked()
		return fmt.Errorf("starting GoBGP on loopback: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = srv.WatchEvent(ctx, server.WatchEventMessageCallbacks{OnPathUpdate: s.received, OnPeerUpdate: s.peerEvent},
		server.WatchUpdate(false, "", ""), server.WatchPeer())
	if err != nil {
		cancel()
		srv.Stop()
		s.closeListenersLocked()
		return fmt.Errorf("watching BGP updates: %w", err)
	}
	s.srv, s.cancel, s.globalAS, s.globalID = srv, cancel, as, id
	s.log.Info("BGP speaker listening", "port", s.cfg.Port, "addresses", addrs, "as", as, "router_id", id)
	return nil
}

// AddNeighbor peers with the router at addr (replacing a neighbor of that
// address). onOpen and onClose may be nil.
func (s *Speaker) AddNeighbor(addr netip.Addr, as uint32, id netip.Addr, o Options, owner string, onOpen, onClose func()) (*Neighbor, error) {
	if !addr.IsValid() {
		return nil, errors.New("the neighbor's address is not an IP address")
	}
	if as == 0 {
		return nil, errors.New("the AS must be 1 to 4294967295")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if !id.IsValid() {
		id = s.globalID
		if !id.IsValid() {
			id = DefaultRouterID()
		}
	}
	if !id.Is4() {
		return nil, fmt.Errorf("router ID %q: must be an IPv4 address (dotted quad)", id)
	}
	if err := s.startLocked(as, id); err != nil {
		return nil, err
	}
	if old := s.neighbors[addr]; old != nil {
		s.removeLocked(old)
	}
	peerAS := as
	if o.PeerAS != 0 {
		peerAS = o.PeerAS
	}
	s.nextTag++
	for s.inner[innerAddr(s.nextTag)] != nil || s.nextTag&0xffff == 0 {
		s.nextTag++
	}
	n := &Neighbor{Addr: addr.Unmap(), AS: as, PeerAS: peerAS, ID: id, Options: o, RIB: NewRIB(), tag: s.nextTag,
		inner: innerAddr(s.nextTag), onOpen: onOpen, onClose: onClose, owner: owner}
	s.neighbors[n.Addr], s.inner[n.inner] = n, n
	if err := s.setPoliciesLocked(); err != nil {
		delete(s.neighbors, n.Addr)
		delete(s.inner, n.inner)
		return nil, err
	}
	if err := s.srv.AddPeer(context.Background(), &api.AddPeerRequest{Peer: peerConfig(n)}); err != nil {
		delete(s.neighbors, n.Addr)
		delete(s.inner, n.inner)
		s.setPoliciesLocked()
		return nil, fmt.Errorf("neighbor %s: %w", addr, err)
	}
	if o.Active {
		ctx, cancel := context.WithCancel(context.Background())
		n.stopDial = cancel
		go s.dialLoop(ctx, n)
	}
	s.log.Info("BGP neighbor added", "router", n.Addr, "as", as, "peer_as", peerAS, "passive", !o.Active,
		"ipv6", o.IPv6, "flowspec", o.FlowSpec, "flowspec6", o.FlowSpec6, "multipath", o.Multipath)
	return n, nil
}

func peerConfig(n *Neighbor) *api.Peer {
	fam := func(afi api.Family_Afi, safi api.Family_Safi) *api.AfiSafi {
		a := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: afi, Safi: safi}, Enabled: true}}
		if n.Options.Multipath && safi == api.Family_SAFI_UNICAST {
			a.AddPaths = &api.AddPaths{Config: &api.AddPathsConfig{Receive: true}}
		}
		return a
	}
	afs := []*api.AfiSafi{fam(api.Family_AFI_IP, api.Family_SAFI_UNICAST)}
	if n.Options.IPv6 {
		afs = append(afs, fam(api.Family_AFI_IP6, api.Family_SAFI_UNICAST))
	}
	if n.Options.FlowSpec {
		afs = append(afs, fam(api.Family_AFI_IP, api.Family_SAFI_FLOW_SPEC_UNICAST))
	}
	if n.Options.FlowSpec6 {
		afs = append(afs, fam(api.Family_AFI_IP6, api.Family_SAFI_FLOW_SPEC_UNICAST))
	}
	// GoBGP waits for the relay (relay.go), which connects from n.inner.
	t := &api.Transport{PassiveMode: true}
	p := &api.Peer{Conf: &api.PeerConf{NeighborAddress: n.inner.String(), PeerAsn: n.PeerAS, LocalAsn: n.AS},
		Transport: t, AfiSafis: afs}
	if n.Options.HoldTime != 0 {
		p.Timers = &api.Timers{Config: &api.TimersConfig{HoldTime: uint64(n.Options.HoldTime), KeepaliveInterval: uint64(n.Options.HoldTime / 3),
			ConnectRetry: 5}}
	}
	return p
}

// RemoveNeighbor ends the session with the router and forgets its RIB and
// what was announced to it.
func (s *Speaker) RemoveNeighbor(addr netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.neighbors[addr.Unmap()]
	if n == nil {
		return false
	}
	s.removeLocked(n)
	s.setPoliciesLocked()
	return true
}

func (s *Speaker) removeLocked(n *Neighbor) {
	delete(s.neighbors, n.Addr)
	delete(s.inner, n.inner)
	if n.stopDial != nil {
		n.stopDial()
	}
	s.dropRouterLocked(n)
	if err := s.srv.DeletePeer(context.Background(), &api.DeletePeerRequest{Address: n.inner.String()}); err != nil {
		s.log.Warn("BGP neighbor not deleted", "router", n.Addr, "err", err)
	}
	n.RIB.Clear()
	n.established.Store(false)
	s.dropSources(n)
	s.log.Info("BGP neighbor removed", "router", n.Addr)
}

// DefaultRouterID is the router ID when a script gives none (InMon's
// active-routes leaves it unset): the first IPv4 address of this host that
// is not a loopback one, else 127.0.0.1.
func DefaultRouterID() netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
				return ip.Unmap()
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// Neighbor returns the neighbor of that address.
func (s *Speaker) Neighbor(addr netip.Addr) (*Neighbor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.neighbors[addr.Unmap()]
	return n, ok
}

// Neighbors returns the neighbors.
func (s *Speaker) Neighbors() []*Neighbor {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Neighbor, 0, len(s.neighbors))
	for _, n := range s.neighbors {
		out = append(out, n)
	}
	return out
}

// RemoveOwner removes the neighbors a script added and withdraws what it
// announced (the script stopped).
func (s *Speaker) RemoveOwner(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hopsOwner == owner {
		s.nextHops.Store(nil)
		s.hopsOwner = ""
	}
	if s.srv == nil {
		return
	}
	s.withdrawOwnerLocked(owner)
	changed := false
	for _, n := range s.neighbors {
		if n.owner == owner {
			s.removeLocked(n)
			changed = true
		}
	}
	if changed {
		s.setPoliciesLocked()
	}
}

// Close withdraws everything and stops GoBGP (the engine stops).
func (s *Speaker) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.stop)
	if s.srv == nil {
		return
	}
	s.closeListenersLocked()
	for _, n := range s.neighbors {
		if n.stopDial != nil {
			n.stopDial()
		}
	}
	for k := range s.items {
		delete(s.items, k)
	}
	if err := s.srv.DeletePath(apiutil.DeletePathRequest{DeleteAll: true}); err != nil {
		s.log.Warn("BGP routes not withdrawn before stopping", "err", err)
	}
	s.cancel()
	s.srv.Stop() // ends the sessions (a Cease to each router, through the relay)
	for c := range s.conns {
		c.Close()
	}
	s.log.Info("BGP speaker stopped")
}

// peerEvent follows sessions: a session that comes up calls the open
// handler (which re-announces, as ddos-protect does); one that goes down
// empties the router's RIB and forgets what was announced to it.
func (s *Speaker) peerEvent(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
	if ev.Type != apiutil.PEER_EVENT_STATE {
		return
	}
	s.mu.Lock()
	n := s.inner[ev.Peer.State.NeighborAddress.Unmap()]
	if n == nil {
		s.mu.Unlock()
		return
	}
	addr := n.Addr
	up := ev.Peer.State.SessionState == bgp.BGP_FSM_ESTABLISHED
	n.state.Store(strings.ToLower(strings.TrimPrefix(ev.Peer.State.SessionState.String(), "BGP_FSM_")))
	was := n.established.Swap(up)
	var call func()
	switch {
	case up && !was:
		s.log.Info("BGP session established", "router", addr, "router_id", ev.Peer.State.RouterID)
		call = n.onOpen
	case !up && was:
		s.log.Warn("BGP session closed: the router's routes are dropped and what was announced to it forgotten",
			"router", addr, "state", ev.Peer.State.SessionState.String(), "reason", ev.Peer.State.DisconnectMessage)
		n.RIB.Clear()
		s.dropRouterLocked(n)
		call = n.onClose
	}
	s.mu.Unlock()
	if call != nil {
		call()
	}
}

// applyBatch bounds how many changes one write lock covers, so that a
// router sending a full table cannot hold the lookups of the collector's
// workers for long.
const applyBatch = 512

// received puts into the routers' RIBs the routes that reached GoBGP: those
// the relay passed on rather than took (relay.go).
func (s *Speaker) received(paths []*apiutil.Path, _ time.Time) {
	var batch []Change
	var rib *RIB
	flush := func() {
		if len(batch) > 0 && rib != nil {
			rib.Apply(batch)
			s.updates.Add(uint64(len(batch)))
		}
		batch = batch[:0]
	}
	var last netip.Addr
	for _, p := range paths {
		if p.Family != bgp.RF_IPv4_UC && p.Family != bgp.RF_IPv6_UC {
			continue // flowspec from the router is not kept
		}
		pa := p.PeerAddress.Unmap()
		if pa != last || rib == nil {
			flush()
			last, rib = pa, nil
			s.mu.Lock()
			if n := s.inner[pa]; n != nil {
				rib = n.RIB
			}
			s.mu.Unlock()
		}
		if rib == nil {
			continue
		}
		pfx, ok := nlriPrefix(p.Nlri)
		if !ok {
			continue
		}
		c := Change{Prefix: pfx, ID: p.RemoteID}
		if !p.Withdrawal {
			c.Route = routeOf(p.Attrs)
		}
		batch = append(batch, c)
		if len(batch) >= applyBatch {
			flush()
		}
	}
	flush()
}

// Received returns how many prefixes (announced or withdrawn) routers sent.
func (s *Speaker) Received() uint64 { return s.updates.Load() }

func nlriPrefix(n bgp.NLRI) (netip.Prefix, bool) {
	switch v := n.(type) {
	case *bgp.IPAddrPrefix:
		return v.Prefix, v.Prefix.IsValid()
	}
	p, err := netip.ParsePrefix(n.String())
	return p, err == nil
}

// routeOf takes what the flow keys read from a path's attributes.
func routeOf(attrs []bgp.PathAttributeInterface) *flow.BGPRoute {
	r := &flow.BGPRoute{}
	for _, a := range attrs {
		switch v := a.(type) {
		case *bgp.PathAttributeNextHop:
			r.NextHop = v.Value
		case *bgp.PathAttributeMpReachNLRI:
			r.NextHop = v.Nexthop
		case *bgp.PathAttributeAsPath:
			for _, seg := range v.Value {
				r.ASPath = append(r.ASPath, seg.GetAS()...)
			}
		case *bgp.PathAttributeCommunities:
			r.Communities = append([]uint32(nil), v.Value...)
		case *bgp.PathAttributeLocalPref:
			r.LocalPref = v.Value
		case *bgp.PathAttributeMultiExitDisc:
			r.MED = v.Value
		}
	}
	return r
}

func parseUint32(s, what string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q: not a number from 0 to 4294967295", what, s)
	}
	return uint32(n), nil
}

func (s *Speaker) closeListenersLocked() {
	for _, l := range s.listeners {
		l.Close()
	}
	s.listeners = nil
}
