package engine

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/packet"
)

// Where hosts attach (sFlow-RT's topologyLocateHostMac, …IP, …IP6 and
// topologyLocatedHostMacs): every flow sample with an Ethernet header says
// that its source MAC came into the agent on the sample's input ifIndex,
// and that the packet's source IP (or an ARP sender's) belongs to that
// MAC. Inter-switch ports of the topology are left out, since every MAC
// that crosses the fabric comes in on them: what is left is the edge port
// the host is plugged into. Without a topology every ingress port counts,
// so a host seen by several switches has several locations.
//
// Memory is bounded and aged: at most Config.MaxHosts MACs and as many IP
// addresses (the least recently seen go first, a batch at a time), each
// MAC with at most maxLocations places; entries no sample renewed for
// Config.AgentTimeout are forgotten. Learning a known MAC at a known place
// updates values in the maps and allocates nothing.

const (
	locShards    = 16
	maxLocations = 4
)

type hostLoc struct {
	agent   netip.Addr
	ifIndex uint32
	vlan    uint16
	seen    int64 // ms
}

type macEntry struct {
	locs [maxLocations]hostLoc
	n    uint8
}

func (m *macEntry) seen() int64 {
	var s int64
	for _, l := range m.locs[:m.n] {
		s = max(s, l.seen)
	}
	return s
}

type ipEntry struct {
	mac  [6]byte
	seen int64
}

type locShard struct {
	mu   sync.Mutex
	macs map[[6]byte]macEntry
	ips  map[[16]byte]ipEntry // by the address's 16 bytes (v4-mapped for IPv4): hashes faster than netip.Addr
}

type locator struct {
	shards  [locShards]locShard
	max     int // per shard, for each of macs and ips
	evicted atomic.Uint64
}

func macShard(m [6]byte) int                     { return int(m[5]^m[4]^m[3]) % locShards }
func ipShard(b [16]byte) int                     { return int(b[15]^b[14]) % locShards }
func (l *locator) limit() int                    { return max(1, l.max) }
func (l *locator) batch() int                    { return max(1, l.limit()/evictBatch) }
func (l *locator) ipsShard(b [16]byte) *locShard { return &l.shards[ipShard(b)] }

// learnSample notes where a flow sample's source host is; topo (may be
// nil) says which ports are inter-switch ports; c is the calling worker's
// cache of what it wrote lately (nil: none).
func (l *locator) learnSample(s *flow.Sample, topo Topology, ms int64, c *locCache) {
	if !s.HasHeader || s.Dropped || s.Input.Format != 0 || s.Input.Value == 0 || s.Input.Internal() {
		return
	}
	eth, ok := s.Packet.Find(packet.Ethernet, 0)
	b := s.Packet.Bytes()
	if !ok || eth.Offset+14 > len(b) {
		return
	}
	mac := [6]byte(b[eth.Offset+6 : eth.Offset+12])
	if mac[0]&1 != 0 || mac == [6]byte{} { // a group or zero source is no host
		return
	}
	if isCore(topo, s.Agent, s.Input.Value) {
		return
	}
	var vlan uint16
	if s.Switch != nil && s.Switch.SrcVLAN < 4096 {
		vlan = uint16(s.Switch.SrcVLAN)
	} else if t, ok := s.Packet.Find(packet.Dot1Q, 0); ok && t.Offset+2 <= len(b) {
		vlan = binary.BigEndian.Uint16(b[t.Offset:]) & 0xfff
	}
	l.learnMACCached(c, mac, hostLoc{agent: s.Agent, ifIndex: s.Input.Value, vlan: vlan, seen: ms})
	if ip, ok := s.SourceAddr(); ok && !ip.IsUnspecified() && !ip.IsMulticast() {
		l.learnIPCached(c, ipKey(ip), mac, ms)
	} else if a, ok := s.Packet.Find(packet.ARP, 0); ok && a.Offset+18 <= len(b) {
		if ip := netip.AddrFrom4([4]byte(b[a.Offset+14 : a.Offset+18])); !ip.IsUnspecified() {
			l.learnIPCached(c, ipKey(ip), [6]byte(b[a.Offset+8:a.Offset+14]), ms)
		}
	}
}

func (l *locator) learnMACCached(c *locCache, mac [6]byte, at hostLoc) {
	if c == nil {
		l.learnMAC(mac, at)
		return
	}
	m := c.mac(mac, &at)
	if m.knows(mac, at) {
		return
	}
	m.mac, m.at = mac, at
	m.until = l.learnMAC(mac, at)
}

func (l *locator) learnIPCached(c *locCache, k [16]byte, mac [6]byte, ms int64) {
	if c == nil {
		l.learnIP(k, mac, ms)
		return
	}
	p := c.ip(k)
	if p.knows(k, mac, ms) {
		return
	}
	p.ip, p.mac = k, mac
	p.until = l.learnIP(k, mac, ms)
}

// fresh is how long a place or address, once written, is not written
// again for the same answer (most samples then only read the map), and
// how long a place is kept at least once written: a MAC seen at more than
// maxLocations places (a router's, without a topology to say which ports
// are inter-switch) keeps its places a second before newer ones take
// their turn, rather than rewriting its entry with every sample.
const fresh = 1000 // ms

// learnMAC notes that mac came in at a place. It returns the time (ms)
// before which the same sample would leave the locator as it is: the
// place is there, fresh, or every place of the MAC's is.
func (l *locator) learnMAC(mac [6]byte, at hostLoc) (until int64) {
	sh := &l.shards[macShard(mac)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.macs[mac]
	if !ok {
		if sh.macs == nil {
			sh.macs = map[[6]byte]macEntry{}
		}
		if len(sh.macs) >= l.limit() {
			l.evictMACs(sh)
		}
	}
	i := -1
	for j := range e.locs[:e.n] {
		if h := &e.locs[j]; h.agent == at.agent && h.ifIndex == at.ifIndex {
			if h.vlan == at.vlan && at.seen-h.seen < fresh {
				return h.seen + fresh
			}
			i = j
			break
		}
	}
	switch {
	case i >= 0:
	case int(e.n) < maxLocations:
		i = int(e.n)
		e.n++
	default: // full: the place seen longest ago goes, if it is not fresh
		i = 0
		for j := range e.locs {
			if e.locs[j].seen < e.locs[i].seen {
				i = j
			}
		}
		if at.seen-e.locs[i].seen < fresh {
			return e.locs[i].seen + fresh
		}
	}
	e.locs[i] = at
	sh.macs[mac] = e
	return at.seen + fresh
}

// learnIP notes that the address keyed k belongs to mac. It returns the
// time (ms) before which the same sample would leave the locator as it is.
func (l *locator) learnIP(k [16]byte, mac [6]byte, ms int64) (until int64) {
	sh := l.ipsShard(k)
	sh.mu.Lock()
	old, ok := sh.ips[k]
	switch {
	case ok && old.mac == mac && ms-old.seen < fresh:
		sh.mu.Unlock()
		return old.seen + fresh
	case !ok:
		if sh.ips == nil {
			sh.ips = map[[16]byte]ipEntry{}
		}
		if len(sh.ips) >= l.limit() {
			l.evictIPs(sh)
		}
	}
	sh.ips[k] = ipEntry{mac: mac, seen: ms}
	sh.mu.Unlock()
	return ms + fresh
}

func (l *locator) evictMACs(sh *locShard) {
	type aged struct {
		k    [6]byte
		seen int64
	}
	list := make([]aged, 0, len(sh.macs))
	for k, e := range sh.macs {
		list = append(list, aged{k, e.seen()})
	}
	n := min(len(list), l.batch())
	oldest(list, n, func(v *aged) int64 { return v.seen })
	for _, v := range list[:n] {
		delete(sh.macs, v.k)
	}
	l.evicted.Add(uint64(n))
}

func (l *locator) evictIPs(sh *locShard) {
	type aged struct {
		k    [16]byte
		seen int64
	}
	list := make([]aged, 0, len(sh.ips))
	for k, e := range sh.ips {
		list = append(list, aged{k, e.seen})
	}
	n := min(len(list), l.batch())
	oldest(list, n, func(v *aged) int64 { return v.seen })
	for _, v := range list[:n] {
		delete(sh.ips, v.k)
	}
	l.evicted.Add(uint64(n))
}

// sweep forgets places, MACs and addresses not seen since cutoff (ms).
func (l *locator) sweep(cutoff int64) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, e := range sh.macs {
			kept := e
			kept.n = 0
			for _, h := range e.locs[:e.n] {
				if h.seen >= cutoff {
					kept.locs[kept.n] = h
					kept.n++
				}
			}
			switch {
			case kept.n == 0:
				delete(sh.macs, k)
			case kept.n != e.n:
				sh.macs[k] = kept
			}
		}
		for k, e := range sh.ips {
			if e.seen < cutoff {
				delete(sh.ips, k)
			}
		}
		sh.mu.Unlock()
	}
}

// HostLocation is a place a host was seen coming in: the agent and the input
// ifIndex of its samples, with the VLAN they carried (0: none said).
type HostLocation struct {
	MAC      string `json:"mac"`
	Agent    string `json:"agent"`
	IfIndex  string `json:"ifindex"`
	VLAN     int    `json:"vlan,omitempty"`
	LastSeen int64  `json:"lastSeen"` // ms
}

// ParseMAC reads a MAC address as sFlow-RT's apps write it: 12 hex digits,
// optionally separated by ':' or '-', either case.
func ParseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	s = strings.NewReplacer(":", "", "-", "", ".", "").Replace(s)
	if len(s) != 12 {
		return m, false
	}
	if _, err := hex.Decode(m[:], []byte(s)); err != nil {
		return m, false
	}
	return m, true
}

func macString(m [6]byte) string { return string(packet.AppendMAC(nil, m[:])) }

// isCore reports whether the topology (if any) says an agent's ifIndex is
// on an inter-switch link.
func isCore(topo Topology, agent netip.Addr, ifIndex uint32) bool {
	return topo != nil && topo.IsSet() && topo.CoreIfIndex(agent, ifIndex)
}

// LocateMAC lists the edge ports a MAC was seen coming in on, most
// recently seen first.
func (e *Engine) LocateMAC(mac [6]byte) []HostLocation {
	sh := &e.located.shards[macShard(mac)]
	sh.mu.Lock()
	m, ok := sh.macs[mac]
	sh.mu.Unlock()
	out := []HostLocation{}
	if !ok {
		return out
	}
	s := macString(mac)
	for _, h := range m.locs[:m.n] {
		if isCore(e.topo, h.agent, h.ifIndex) {
			continue // the topology changed since it was learned
		}
		out = append(out, HostLocation{MAC: s, Agent: h.agent.String(), IfIndex: strconv.FormatUint(uint64(h.ifIndex), 10),
			VLAN: int(h.vlan), LastSeen: h.seen})
	}
	slices.SortStableFunc(out, func(a, b HostLocation) int { return int(b.LastSeen - a.LastSeen) })
	return out
}

// LocateIP lists where the host with this IP (v4 or v6) address attaches:
// the locations of the MAC its packets last came from.
func (e *Engine) LocateIP(ip netip.Addr) []HostLocation {
	k := ipKey(ip)
	sh := e.located.ipsShard(k)
	sh.mu.Lock()
	en, ok := sh.ips[k]
	sh.mu.Unlock()
	if !ok {
		return []HostLocation{}
	}
	return e.LocateMAC(en.mac)
}

// LocatedMACs lists the MACs located at edge ports (sorted), or, given an
// agent and ifIndex, those located there.
func (e *Engine) LocatedMACs(agent netip.Addr, ifIndex string) []string {
	var want uint32
	if agent.IsValid() {
		v, err := strconv.ParseUint(ifIndex, 10, 32)
		if err != nil {
			return []string{}
		}
		agent, want = agent.Unmap(), uint32(v)
	}
	out := []string{}
	for i := range e.located.shards {
		sh := &e.located.shards[i]
		sh.mu.Lock()
		for mac, m := range sh.macs {
			for _, h := range m.locs[:m.n] {
				if (!agent.IsValid() || (h.agent == agent && h.ifIndex == want)) && !isCore(e.topo, h.agent, h.ifIndex) {
					out = append(out, macString(mac))
					break
				}
			}
		}
		sh.mu.Unlock()
	}
	slices.Sort(out)
	return out
}
