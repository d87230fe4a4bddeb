// Package topology holds the network's layout as sFlow-RT scripts and
// clients describe it (PUT /topology/json, setTopology): nodes (switches,
// each with its sFlow agent and ports with their ifIndex, and optionally
// OpenFlow dpid and port numbers) and links between node ports. From it
// come the lookups the Ryu and Mininet articles use (interface → link,
// interface → port, agent → nodes) and the edge/core split: a port on an
// inter-switch link is a core port, every other port of a node is an edge
// port.
package topology

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/internal/jsobj"
)

// Topology is the JSON document.
type Topology struct {
	Nodes map[string]Node `json:"nodes"`
	Links map[string]Link `json:"links,omitempty"`
}

// Node is a switch or router.
type Node struct {
	Agent string          `json:"agent,omitempty"`
	DPID  string          `json:"dpid,omitempty"`
	Tags  json.RawMessage `json:"tags,omitempty"`
	Ports map[string]Port `json:"ports,omitempty"`
}

// Port is a node's interface.
type Port struct {
	IfIndex string          `json:"ifindex,omitempty"`
	OFPort  string          `json:"ofport,omitempty"`
	DPID    string          `json:"dpid,omitempty"`
	Tags    json.RawMessage `json:"tags,omitempty"`
}

// UnmarshalJSON accepts ifindex and ofport as numbers or strings (scripts
// write both).
func (p *Port) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case float64:
			return fmt.Sprint(int64(v))
		}
		return ""
	}
	p.IfIndex, p.OFPort, p.DPID = str("ifindex"), str("ofport"), str("dpid")
	if t, ok := raw["tags"]; ok {
		p.Tags, _ = json.Marshal(t)
	}
	return nil
}

// Link joins two node ports.
type Link struct {
	Node1 string          `json:"node1"`
	Port1 string          `json:"port1"`
	Node2 string          `json:"node2"`
	Port2 string          `json:"port2"`
	Tags  json.RawMessage `json:"tags,omitempty"`
}

// Parse reads a topology (strict JSON or JavaScript object form) and checks
// that links name nodes and ports that exist.
func Parse(body []byte) (Topology, error) {
	var t Topology
	if err := jsobj.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("topology: %v", err)
	}
	return t, t.Validate()
}

// Validate checks the links and agents.
func (t Topology) Validate() error {
	for name, n := range t.Nodes {
		if n.Agent != "" {
			if _, err := netip.ParseAddr(n.Agent); err != nil {
				return fmt.Errorf("node %q: agent %q is not an IP address", name, n.Agent)
			}
		}
	}
	for name, l := range t.Links {
		for _, end := range [][2]string{{l.Node1, l.Port1}, {l.Node2, l.Port2}} {
			n, ok := t.Nodes[end[0]]
			if !ok {
				return fmt.Errorf("link %q: no node %q", name, end[0])
			}
			if _, ok := n.Ports[end[1]]; !ok {
				return fmt.Errorf("link %q: node %q has no port %q", name, end[0], end[1])
			}
		}
	}
	return nil
}

// PortRef is where an interface sits: its node and port.
type PortRef struct {
	Node    string `json:"node"`
	Port    string `json:"port"`
	IfIndex string `json:"ifindex,omitempty"`
	OFPort  string `json:"ofport,omitempty"`
	DPID    string `json:"dpid,omitempty"`
}

// LinkRef is the link an interface is on, seen from that interface.
type LinkRef struct {
	LinkName   string `json:"linkname"`
	LocalNode  string `json:"localnode"`
	LocalPort  string `json:"localport"`
	RemoteNode string `json:"remotenode"`
	RemotePort string `json:"remoteport"`
}

type ifKey struct {
	agent   netip.Addr
	ifIndex string
}

// index is a topology compiled for lookups.
type index struct {
	topo    Topology
	ports   map[ifKey]PortRef
	links   map[ifKey]LinkRef
	agents  map[netip.Addr][]string // agent → node names
	version int64
}

// Store holds the current topology; lookups read it without locking.
type Store struct {
	mu      sync.Mutex
	cur     atomic.Pointer[index]
	version atomic.Int64
}

// Set replaces the topology.
func (s *Store) Set(t Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	x := &index{topo: t, ports: map[ifKey]PortRef{}, links: map[ifKey]LinkRef{}, agents: map[netip.Addr][]string{}}
	for _, name := range slices.Sorted(maps.Keys(t.Nodes)) {
		n := t.Nodes[name]
		a, err := netip.ParseAddr(n.Agent)
		if err != nil {
			continue
		}
		a = a.Unmap()
		x.agents[a] = append(x.agents[a], name)
		for pname, p := range n.Ports {
			if p.IfIndex == "" {
				continue
			}
			dpid := p.DPID
			if dpid == "" {
				dpid = n.DPID
			}
			x.ports[ifKey{a, p.IfIndex}] = PortRef{Node: name, Port: pname, IfIndex: p.IfIndex, OFPort: p.OFPort, DPID: dpid}
		}
	}
	for lname, l := range t.Links {
		ends := [2][2]string{{l.Node1, l.Port1}, {l.Node2, l.Port2}}
		for i, end := range ends {
			n := t.Nodes[end[0]]
			a, err := netip.ParseAddr(n.Agent)
			p := n.Ports[end[1]]
			if err != nil || p.IfIndex == "" {
				continue
			}
			other := ends[1-i]
			x.links[ifKey{a.Unmap(), p.IfIndex}] = LinkRef{LinkName: lname, LocalNode: end[0], LocalPort: end[1],
				RemoteNode: other[0], RemotePort: other[1]}
		}
	}
	s.mu.Lock()
	x.version = s.version.Add(1)
	s.cur.Store(x)
	s.mu.Unlock()
	return nil
}

// Get returns the topology (empty when none is set).
func (s *Store) Get() Topology {
	if x := s.cur.Load(); x != nil {
		return x.topo
	}
	return Topology{Nodes: map[string]Node{}, Links: map[string]Link{}}
}

// IsSet reports whether a topology has been set.
func (s *Store) IsSet() bool { return s.cur.Load() != nil }

// Version increases with every change.
func (s *Store) Version() int64 { return s.version.Load() }

// InterfaceToPort finds the node port of an agent's interface.
func (s *Store) InterfaceToPort(agent netip.Addr, ifIndex string) (PortRef, bool) {
	x := s.cur.Load()
	if x == nil {
		return PortRef{}, false
	}
	p, ok := x.ports[ifKey{agent.Unmap(), ifIndex}]
	return p, ok
}

// InterfaceToLink finds the inter-switch link an agent's interface is on.
func (s *Store) InterfaceToLink(agent netip.Addr, ifIndex string) (LinkRef, bool) {
	x := s.cur.Load()
	if x == nil {
		return LinkRef{}, false
	}
	l, ok := x.links[ifKey{agent.Unmap(), ifIndex}]
	return l, ok
}

// NodesForAgent lists the nodes an agent speaks for.
func (s *Store) NodesForAgent(agent netip.Addr) []string {
	if x := s.cur.Load(); x != nil {
		return x.agents[agent.Unmap()]
	}
	return nil
}

// AgentForNode returns a node's agent.
func (s *Store) AgentForNode(node string) (string, bool) {
	if x := s.cur.Load(); x != nil {
		if n, ok := x.topo.Nodes[node]; ok && n.Agent != "" {
			return n.Agent, true
		}
	}
	return "", false
}

// HasAgent reports whether an agent belongs to a node of the topology.
func (s *Store) HasAgent(agent netip.Addr) bool { return len(s.NodesForAgent(agent)) > 0 }

// Edge reports whether an agent's data source (an ifIndex) is a port of a
// node that is not on an inter-switch link; Core whether it is on one.
func (s *Store) Edge(agent netip.Addr, dataSource string) bool {
	_, port := s.InterfaceToPort(agent, dataSource)
	_, link := s.InterfaceToLink(agent, dataSource)
	return port && !link
}

// Core: see Edge.
func (s *Store) Core(agent netip.Addr, dataSource string) bool {
	_, link := s.InterfaceToLink(agent, dataSource)
	return link
}
