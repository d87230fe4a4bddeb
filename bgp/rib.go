package bgp

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/flow"
	"github.com/gaissmai/bart"
)

// RIB holds the routes one router sent, for the bgp flow keys'
// longest-prefix matches. A full table shares few distinct attribute sets
// between a million prefixes, so each set is kept once (interned, counted)
// and the tries hold pointers to it.
type RIB struct {
	mu     sync.RWMutex
	v4, v6 bart.Table[*entry]
	intern map[string]*entry
	key    []byte // scratch for intern keys, under mu
	// paths holds every path of the prefixes a router sent several of
	// (ADD-PATH, bgpAddNeighbor's multipath), by path identifier; the
	// tries hold the best of them. Empty without ADD-PATH.
	paths map[netip.Prefix][]path

	// Traffic per prefix (traffic.go): the maps under mu, the counts
	// atomic. Learned counts the prefixes added and removed, per family.
	traffic        [2]map[netip.Prefix]*counter // [Destination], [Source]
	total          [2]counter                   // all counted traffic, [0] IPv4, [1] IPv6
	smooth         atomic.Uint64                // float64 bits: bgpAddSource's t
	frames         atomic.Bool                  // bgpAddSource's value is frames
	added, removed [2]uint64                    // under mu
}

// entry is an interned attribute set and how many prefixes point at it.
type entry struct {
	flow.BGPRoute
	refs int
}

// path is one of a prefix's paths (ADD-PATH).
type path struct {
	id uint32
	e  *entry
}

// NewRIB returns an empty RIB.
func NewRIB() *RIB {
	return &RIB{intern: map[string]*entry{}, paths: map[netip.Prefix][]path{}, traffic: [2]map[netip.Prefix]*counter{{}, {}}}
}

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

// Lookup returns the route of the longest prefix that covers a (nil when
// none does). It takes a read lock and allocates nothing.
func (r *RIB) Lookup(a netip.Addr) *flow.BGPRoute {
	r.mu.RLock()
	rt := r.lookupLocked(a)
	r.mu.RUnlock()
	return rt
}

func (r *RIB) lookupLocked(a netip.Addr) *flow.BGPRoute {
	var e *entry
	var ok bool
	if a.Is4() || a.Is4In6() {
		e, ok = r.v4.Lookup(a.Unmap())
	} else {
		e, ok = r.v6.Lookup(a)
	}
	if !ok {
		return nil
	}
	return &e.BGPRoute
}

// LookupPrefix returns the longest prefix that covers a and its route.
func (r *RIB) LookupPrefix(a netip.Addr) (netip.Prefix, *flow.BGPRoute, bool) {
	a = a.Unmap()
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := &r.v6
	if a.Is4() {
		t = &r.v4
	}
	p, e, ok := t.LookupPrefixLPM(netip.PrefixFrom(a, a.BitLen()))
	if !ok {
		return netip.Prefix{}, nil, false
	}
	return p, &e.BGPRoute, true
}

// Change is one announcement (Route set) or withdrawal (Route nil). ID is
// the path identifier (RFC 7911), 0 without ADD-PATH.
type Change struct {
	Prefix netip.Prefix
	Route  *flow.BGPRoute
	ID     uint32
}

// Apply makes a batch of changes under one write lock; the caller keeps
// batches short so that lookups wait little (bgp.go applies at most
// applyBatch at a time).
func (r *RIB) Apply(cs []Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		p := c.Prefix.Masked()
		t := &r.v6
		if p.Addr().Is4() {
			t = &r.v4
		}
		if ps, ok := r.paths[p]; ok || c.ID != 0 {
			r.applyPathLocked(t, p, ps, ok, c)
			continue
		}
		if c.Route == nil {
			if old, ok := t.Get(p); ok {
				t.Delete(p)
				r.release(old)
				r.removed[family(p)]++
			}
			continue
		}
		e := r.internLocked(c.Route)
		if old, ok := t.Get(p); ok {
			if old == e {
				e.refs-- // the same attributes again
				continue
			}
			r.release(old)
		} else {
			r.added[family(p)]++
		}
		t.Insert(p, e)
	}
}

// applyPathLocked changes one path of a prefix that has several (or
// gets a second): every path holds a reference to its attribute set, and
// the trie points at the best one.
func (r *RIB) applyPathLocked(t *bart.Table[*entry], p netip.Prefix, ps []path, multi bool, c Change) {
	old, inTrie := t.Get(p)
	if !multi && inTrie {
		ps = []path{{0, old}} // a path without identifier was there: it is path 0
	}
	i := slices.IndexFunc(ps, func(x path) bool { return x.id == c.ID })
	if c.Route == nil {
		if i < 0 {
			return
		}
		r.release(ps[i].e)
		ps = slices.Delete(ps, i, i+1)
	} else {
		e := r.internLocked(c.Route)
		if i >= 0 {
			r.release(ps[i].e)
			ps[i].e = e
		} else {
			ps = append(ps, path{c.ID, e})
		}
	}
	if len(ps) == 0 {
		delete(r.paths, p)
		t.Delete(p)
		r.removed[family(p)]++
		return
	}
	if !inTrie {
		r.added[family(p)]++
	}
	r.paths[p] = ps
	t.Insert(p, bestPath(ps))
}

// bestPath is the path the lookups without a next-hop choice take: the
// highest local preference, then the shortest AS path, the lowest MED,
// the lowest path identifier (RFC 4271 9.1.2.2, as far as the attributes
// kept here go).
func bestPath(ps []path) *entry {
	b := ps[0]
	for _, x := range ps[1:] {
		switch {
		case x.e.LocalPref != b.e.LocalPref:
			if x.e.LocalPref > b.e.LocalPref {
				b = x
			}
		case len(x.e.ASPath) != len(b.e.ASPath):
			if len(x.e.ASPath) < len(b.e.ASPath) {
				b = x
			}
		case x.e.MED != b.e.MED:
			if x.e.MED < b.e.MED {
				b = x
			}
		case x.id < b.id:
			b = x
		}
	}
	return b.e
}

// LookupHop is Lookup choosing, among the paths of a prefix that has
// several, the one whose next hop has the MAC address mac in hops
// (bgpSetNextHops); the best path when none has. It allocates nothing.
func (r *RIB) LookupHop(a netip.Addr, mac uint64, hops map[netip.Addr]uint64) *flow.BGPRoute {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.paths) == 0 || len(hops) == 0 {
		return r.lookupLocked(a)
	}
	a = a.Unmap()
	t := &r.v6
	if a.Is4() {
		t = &r.v4
	}
	p, e, ok := t.LookupPrefixLPM(netip.PrefixFrom(a, a.BitLen()))
	if !ok {
		return nil
	}
	for _, x := range r.paths[p] {
		if m, ok := hops[x.e.NextHop]; ok && m == mac {
			return &x.e.BGPRoute
		}
	}
	return &e.BGPRoute
}

// Paths returns the routes of a prefix (one without ADD-PATH), the best
// first.
func (r *RIB) Paths(p netip.Prefix) []flow.BGPRoute {
	p = p.Masked()
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := &r.v6
	if p.Addr().Is4() {
		t = &r.v4
	}
	best, ok := t.Get(p)
	if !ok {
		return nil
	}
	out := []flow.BGPRoute{best.BGPRoute}
	for _, x := range r.paths[p] {
		if x.e != best {
			out = append(out, x.e.BGPRoute)
		}
	}
	return out
}

// Clear drops every route (the session closed).
func (r *RIB) Clear() {
	r.mu.Lock()
	r.removed[0] += uint64(r.v4.Size())
	r.removed[1] += uint64(r.v6.Size())
	r.v4, r.v6 = bart.Table[*entry]{}, bart.Table[*entry]{}
	r.intern = map[string]*entry{}
	r.paths = map[netip.Prefix][]path{}
	r.traffic = [2]map[netip.Prefix]*counter{{}, {}}
	r.mu.Unlock()
}

// Count returns the IPv4 and IPv6 prefixes held.
func (r *RIB) Count() (v4, v6 int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.v4.Size(), r.v6.Size()
}

// Attributes returns the distinct attribute sets held.
func (r *RIB) Attributes() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.intern)
}

// Each calls fn for every IPv4 (v6 false) or IPv6 prefix, under the read
// lock: fn must not call back into the RIB.
func (r *RIB) Each(v6 bool, fn func(netip.Prefix, *flow.BGPRoute) bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t := &r.v4
	if v6 {
		t = &r.v6
	}
	for p, e := range t.All() {
		if !fn(p, &e.BGPRoute) {
			return
		}
	}
}

func (r *RIB) release(e *entry) {
	if e.refs--; e.refs <= 0 {
		delete(r.intern, string(r.keyOf(&e.BGPRoute)))
	}
}

func (r *RIB) internLocked(rt *flow.BGPRoute) *entry {
	k := r.keyOf(rt)
	if e, ok := r.intern[string(k)]; ok {
		e.refs++
		return e
	}
	e := &entry{BGPRoute: *rt, refs: 1}
	r.intern[string(k)] = e
	return e
}

// keyOf encodes the attributes into r.key (reused).
func (r *RIB) keyOf(rt *flow.BGPRoute) []byte {
	k := append(r.key[:0], byte(rt.NextHop.BitLen()/8))
	k, _ = rt.NextHop.AppendBinary(k)
	k = binary.BigEndian.AppendUint32(k, rt.LocalPref)
	k = binary.BigEndian.AppendUint32(k, rt.MED)
	k = binary.BigEndian.AppendUint16(k, uint16(len(rt.ASPath)))
	for _, as := range rt.ASPath {
		k = binary.BigEndian.AppendUint32(k, as)
	}
	for _, c := range rt.Communities {
		k = binary.BigEndian.AppendUint32(k, c)
	}
	r.key = k
	return k
}
