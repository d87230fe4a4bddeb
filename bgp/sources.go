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
}

// Route answers the bgp flow keys (flow.BGPRoutes): the agent's router's
// longest match for addr. It allocates nothing.
func (s *Speaker) Route(agent, addr netip.Addr) (*flow.BGPRoute, uint32, bool) {
	src, ok := (*s.sources.Load())[agent.Unmap()]
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
	return n.RIB.Lookup(addr), n.PeerAS, true
}
