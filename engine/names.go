package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// The names agents give themselves and their ports, as their sFlow says:
// host_descr's hostname (at the physical-entity data source, class 2) and
// port_name's ifName (at each interface). A topology given as links only
// (sFlow-RT's topology.php) names nodes and ports this way, and package
// topology maps them to agents and ifIndexes through this table. Learning
// compares against what the data source last said, so a steady stream of
// the same names takes no lock and allocates nothing; every change bumps
// Version, which tells the topology to map its names again.

type nameTable struct {
	mu      sync.RWMutex
	hosts   map[string]netip.Addr            // host name → agent
	agentOf map[netip.Addr]string            // agent → its host name
	ports   map[netip.Addr]map[string]string // agent → ifName → ifIndex
	ifnames map[netip.Addr]map[string]string // agent → ifIndex → ifName
	version atomic.Int64
}

// setHost records an agent's host name (empty: it no longer says).
func (t *nameTable) setHost(agent netip.Addr, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hosts == nil {
		t.hosts, t.agentOf = map[string]netip.Addr{}, map[netip.Addr]string{}
	}
	if old, ok := t.agentOf[agent]; ok {
		if t.hosts[old] == agent {
			delete(t.hosts, old)
		}
		delete(t.agentOf, agent)
	}
	if name != "" {
		t.hosts[name], t.agentOf[agent] = agent, name
	}
	t.version.Add(1)
}

// setPort records an interface's ifName (empty: forget it).
func (t *nameTable) setPort(agent netip.Addr, ifIndex, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ports == nil {
		t.ports, t.ifnames = map[netip.Addr]map[string]string{}, map[netip.Addr]map[string]string{}
	}
	byIndex := t.ifnames[agent]
	if old, ok := byIndex[ifIndex]; ok && t.ports[agent][old] == ifIndex {
		delete(t.ports[agent], old)
	}
	if name == "" {
		delete(byIndex, ifIndex)
	} else {
		if byIndex == nil {
			byIndex = map[string]string{}
			t.ifnames[agent] = byIndex
			t.ports[agent] = map[string]string{}
		}
		byIndex[ifIndex] = name
		t.ports[agent][name] = ifIndex
	}
	t.version.Add(1)
}

// forget drops everything an agent said (it aged out or was evicted).
func (t *nameTable) forget(agent netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, host := t.agentOf[agent]
	_, ports := t.ifnames[agent]
	if !host && !ports {
		return
	}
	if name, ok := t.agentOf[agent]; ok && t.hosts[name] == agent {
		delete(t.hosts, name)
	}
	delete(t.agentOf, agent)
	delete(t.ports, agent)
	delete(t.ifnames, agent)
	t.version.Add(1)
}

// AgentNamed returns the agent whose host_descr gives this host name.
func (e *Engine) AgentNamed(host string) (netip.Addr, bool) {
	e.names.mu.RLock()
	defer e.names.mu.RUnlock()
	a, ok := e.names.hosts[host]
	return a, ok
}

// IfIndexNamed returns the ifIndex of the agent's interface with this
// ifName (port_name).
func (e *Engine) IfIndexNamed(agent netip.Addr, ifName string) (string, bool) {
	e.names.mu.RLock()
	defer e.names.mu.RUnlock()
	i, ok := e.names.ports[agent.Unmap()][ifName]
	return i, ok
}

// IfName returns the ifName an agent gives an interface.
func (e *Engine) IfName(agent netip.Addr, ifIndex string) (string, bool) {
	e.names.mu.RLock()
	defer e.names.mu.RUnlock()
	n, ok := e.names.ifnames[agent.Unmap()][ifIndex]
	return n, ok
}

// NamesVersion changes whenever a learned host or port name does.
func (e *Engine) NamesVersion() int64 { return e.names.version.Load() }
