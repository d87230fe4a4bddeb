package bgp

import (
	"maps"
	"net/netip"

	"github.com/flowrt/flowrt/flow"
)

// source is where an agent's samples find their routes (bgpAddSource):
// the RIB of one router for IPv4 and of one (perhaps another) for IPv6.
type source struct {
	v4, v6 *Neighbor
}

// AddSource attributes the agent's samples to the routers' RIBs (either
// may be nil). Their traffic per prefix is counted as the RIBs'
// SetCounting says (bgpAddSource's t and value).
func (s *Speaker) AddSource(agent netip.Addr, v4, v6 *Neighbor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(*s.sources.Load())
	m[agent.Unmap()] = source{v4, v6}
	s.sources.Store(&m)
}

// RemoveSource ends an attribution.
func (s *Speaker) RemoveSource(agent netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(*s.sources.Load())
	_, ok := m[agent.Unmap()]
	delete(m, agent.Unmap())
	s.sources.Store(&m)
	return ok
}

// dropSources ends the attributions to a removed neighbor (s.mu held).
func (s *Speaker) dropSources(n *Neighbor) {
	m := maps.Clone(*s.sources.Load())
	for a, src := range m {
		if src.v4 == n {
			src.v4 = nil
		}
		if src.v6 == n {
			src.v6 = nil
		}
		if src.v4 == nil && src.v6 == nil {
			delete(m, a)
		} else {
			m[a] = src
		}
	}
	s.sources.Store(&m)
	if e := s.edge.Load(); e != nil && (e.v4 == n || e.v6 == n) {
		ne := *e
		if ne.v4 == n {
			ne.v4 = nil
		}
		if ne.v6 == n {
			ne.v6 = nil
		}
		if ne.v4 == nil && ne.v6 == nil {
			s.edge.Store(nil)
		} else {
			s.edge.Store(&ne)
		}
	}
}

// AddEdgeSource attributes the samples of every agent that has no
// attribution of its own (bgpAddSource's EDGE token).
func (s *Speaker) AddEdgeSource(v4, v6 *Neighbor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.edge.Store(&source{v4, v6})
}

// sourceOf is the agent's attribution, or the EDGE one.
func (s *Speaker) sourceOf(agent netip.Addr) (source, bool) {
	if src, ok := (*s.sources.Load())[agent.Unmap()]; ok {
		return src, true
	}
	if e := s.edge.Load(); e != nil {
		return *e, true
	}
	return source{}, false
}

// Route is the agent's router's longest match for addr. It allocates
// nothing.
func (s *Speaker) Route(agent, addr netip.Addr) (*flow.BGPRoute, uint32, bool) {
	return s.route(agent, addr, nil, false)
}

// RouteSample answers the bgp flow keys (flow.BGPRoutes): the longest
// match for addr (the sample's source address when source) in the RIB of
// the router the sample's agent is attributed to. Among a prefix's paths
// (multipath), the one whose next hop has the sample's destination MAC
// (source MAC for a source address; bgpSetNextHops). It allocates nothing.
func (s *Speaker) RouteSample(smp *flow.Sample, addr netip.Addr, source bool) (*flow.BGPRoute, uint32, bool) {
	return s.route(smp.Agent, addr, smp, source)
}

func (s *Speaker) route(agent, addr netip.Addr, smp *flow.Sample, source bool) (*flow.BGPRoute, uint32, bool) {
	src, ok := s.sourceOf(agent)
	if !ok {
		return nil, 0, false
	}
	n := src.v4
	if addr.Is6() && !addr.Is4In6() {
		n = src.v6
	}
	if n == nil {
		return nil, 0, true
	}
	if !addr.IsValid() {
		return nil, n.PeerAS, true
	}
	if hops := s.nextHops.Load(); hops != nil && len(*hops) > 0 {
		if mac, ok := sampleMAC(smp, source); ok {
			return n.RIB.LookupHop(addr, mac, *hops), n.PeerAS, true
		}
	}
	return n.RIB.Lookup(addr), n.PeerAS, true
}
