package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// item is one NLRI that scripts announce (a route's prefix or a Flowspec
// rule) and, for each router it is announced to, what was asked. GoBGP
// holds one path per NLRI, so the path carries the tags of every router
// that asked for it (policy.go) and the attributes of the latest ask.
type item struct {
	key      string
	flowspec bool
	family   bgp.Family
	nlri     bgp.NLRI
	claims   map[*Neighbor]*claim
	latest   *claim
	live     bool // GoBGP holds a path for it
}

type claim struct {
	owner string
	attrs []bgp.PathAttributeInterface
	spec  map[string]any // as the script gave it, for listings
	seq   uint64
}

// InputError is a malformed route or Flowspec rule (the script's mistake,
// where the other errors are the router's state).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

var errNoNeighbor = errors.New("no such BGP neighbor: add it with bgpAddNeighbor first")

// ErrNotEstablished is returned for an announcement to a router whose
// session is down: the script's openHandler announces again when it is up.
var ErrNotEstablished = errors.New("the BGP session with the router is not established")

// AddRoute announces a route to the router (RTBH: nexthop a black-hole
// address, communities 65535:666).
func (s *Speaker) AddRoute(router netip.Addr, spec map[string]any, owner string) error {
	r, err := ParseRoute(spec)
	if err != nil {
		return &InputError{err}
	}
	return s.add(router, "route "+r.Prefix.String(), r.family(), r.nlri, r.attrs, spec, owner, false)
}

// RemoveRoute withdraws a route from the router; false when it was not
// announced.
func (s *Speaker) RemoveRoute(router netip.Addr, prefix string) (bool, error) {
	p, err := parsePrefix(prefix)
	if err != nil {
		return false, &InputError{err}
	}
	return s.remove(router, "route "+p.String())
}

// AddFlow announces a Flowspec rule to the router.
func (s *Speaker) AddFlow(router netip.Addr, spec map[string]any, owner string) error {
	f, err := ParseFlowSpec(spec)
	if err != nil {
		return &InputError{err}
	}
	return s.add(router, "flow "+f.Key, f.Family, f.NLRI, f.Attrs, spec, owner, true)
}

// RemoveFlow withdraws the Flowspec rule of that match from the router.
func (s *Speaker) RemoveFlow(router netip.Addr, spec map[string]any) (bool, error) {
	key, err := FlowKey(spec)
	if err != nil {
		return false, &InputError{err}
	}
	return s.remove(router, "flow "+key)
}

var seq uint64

func (s *Speaker) add(router netip.Addr, key string, fam bgp.Family, nlri bgp.NLRI, attrs []bgp.PathAttributeInterface, spec map[string]any, owner string, flowspec bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.neighbors[router.Unmap()]
	if n == nil {
		return errNoNeighbor
	}
	if err := n.supports(fam); err != nil {
		return err
	}
	if !n.established.Load() {
		return ErrNotEstablished
	}
	it := s.items[key]
	if it == nil {
		it = &item{key: key, flowspec: flowspec, family: fam, nlri: nlri, claims: map[*Neighbor]*claim{}}
		s.items[key] = it
	}
	seq++
	c := &claim{owner: owner, attrs: attrs, spec: spec, seq: seq}
	old := it.claims[n]
	it.claims[n] = c
	if err := s.publishLocked(it); err != nil {
		if old == nil {
			delete(it.claims, n)
		} else {
			it.claims[n] = old
		}
		s.publishLocked(it)
		return err
	}
	if old == nil && !flowspec {
		n.pushedAdded++
	}
	return nil
}

func (n *Neighbor) supports(f bgp.Family) error {
	switch f {
	case bgp.RF_IPv6_UC:
		if !n.Options.IPv6 {
			return fmt.Errorf("IPv6 to router %s: its neighbor was added without the ipv6 option", n.Addr)
		}
	case bgp.RF_FS_IPv4_UC:
		if !n.Options.FlowSpec {
			return fmt.Errorf("IPv4 Flowspec to router %s: its neighbor was added without the flowspec option", n.Addr)
		}
	case bgp.RF_FS_IPv6_UC:
		if !n.Options.FlowSpec6 {
			return fmt.Errorf("IPv6 Flowspec to router %s: its neighbor was added without the flowspec6 option", n.Addr)
		}
	}
	return nil
}

func (s *Speaker) remove(router netip.Addr, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.neighbors[router.Unmap()]
	if n == nil {
		return false, errNoNeighbor
	}
	it := s.items[key]
	if it == nil || it.claims[n] == nil {
		return false, nil
	}
	delete(it.claims, n)
	if !it.flowspec {
		n.pushedRemoved++
	}
	return true, s.publishLocked(it)
}

// publishLocked makes GoBGP's path for the item match its claims.
func (s *Speaker) publishLocked(it *item) error {
	if len(it.claims) == 0 {
		delete(s.items, it.key)
		if !it.live {
			return nil
		}
		it.live = false
		// GoBGP checks the next hop unless the path says it is a withdrawal.
		err := s.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{{Family: it.family, Nlri: it.nlri, Withdrawal: true}}})
		if err != nil {
			return fmt.Errorf("withdrawing %s: %w", it.key, err)
		}
		return nil
	}
	it.latest = nil
	for _, c := range it.claims {
		if it.latest == nil || c.seq > it.latest.seq {
			it.latest = c
		}
	}
	var tags []*bgp.LargeCommunity
	for n := range it.claims {
		tags = append(tags, bgp.NewLargeCommunity(tagAS, tagData, n.tag))
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].LocalData2 < tags[j].LocalData2 })
	attrs := slices.Clone(it.latest.attrs)
	attrs = append(attrs, bgp.NewPathAttributeLargeCommunities(tags))
	_, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{{Family: it.family, Nlri: it.nlri, Attrs: attrs}}})
	if err != nil {
		return fmt.Errorf("announcing %s: %w", it.key, err)
	}
	it.live = true
	return nil
}

// dropRouterLocked forgets what was announced to a router (its session
// closed or it was removed).
func (s *Speaker) dropRouterLocked(n *Neighbor) {
	for _, it := range s.items {
		if it.claims[n] != nil {
			delete(it.claims, n)
			if !it.flowspec {
				n.pushedRemoved++
			}
			if err := s.publishLocked(it); err != nil {
				s.log.Warn("BGP announcement not updated", "item", it.key, "err", err)
			}
		}
	}
}

// withdrawOwnerLocked withdraws what one script announced.
func (s *Speaker) withdrawOwnerLocked(owner string) {
	n := 0
	for _, it := range s.items {
		changed := false
		for r, c := range it.claims {
			if c.owner == owner {
				delete(it.claims, r)
				if !it.flowspec {
					r.pushedRemoved++
				}
				changed = true
				n++
			}
		}
		if changed {
			if err := s.publishLocked(it); err != nil {
				s.log.Warn("BGP announcement not withdrawn", "item", it.key, "err", err)
			}
		}
	}
	if n > 0 {
		s.log.Info("BGP announcements of a stopped script withdrawn", "script", owner, "withdrawn", n)
	}
}

// Announced lists what is announced to the router: routes (flowspec
// false) or Flowspec rules, each as the script gave it.
func (s *Speaker) Announced(router netip.Addr, flowspec bool) ([]map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.neighbors[router.Unmap()]
	if n == nil {
		return nil, errNoNeighbor
	}
	var keys []string
	for k, it := range s.items {
		if it.flowspec == flowspec && it.claims[n] != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.items[k].claims[n].spec)
	}
	return out, nil
}

// Count is bgpRouteCount (flowspec false) or bgpFlowCount: how many are
// announced to the router (-1 for an unknown router).
func (s *Speaker) Count(router netip.Addr, flowspec bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.neighbors[router.Unmap()]
	if n == nil {
		return -1
	}
	c := 0
	for _, it := range s.items {
		if it.flowspec == flowspec && it.claims[n] != nil {
			c++
		}
	}
	return c
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("prefix %q: not an address/length such as 192.0.2.0/24 or 2001:db8::/32", s)
		}
		if p != p.Masked() {
			return p, fmt.Errorf("prefix %q: has bits set past its length (%s?)", s, p.Masked())
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-map[bool]int{true: 96, false: 0}[p.Addr().Is4In6()]), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix %q: not an address or address/length", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
