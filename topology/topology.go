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
	"strconv"
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

// Validate checks the agents and links. A link may name nodes and ports
// the document does not list (sFlow-RT's links-only form): they are
// learned from the agents' own names (see Namer). A node that lists its
// ports must list the ones its links use.
func (t Topology) Validate() error {
	for name, n := range t.Nodes {
		if n.Agent != "" {
			if _, err := netip.ParseAddr(n.Agent); err != nil {
				return fmt.Errorf("node %q: agent %q is not an IP address", name, n.Agent)
			}
		}
	}
	for name, l := range t.Links {
		for i, end := range [][2]string{{l.Node1, l.Port1}, {l.Node2, l.Port2}} {
			if end[0] == "" || end[1] == "" {
				return fmt.Errorf("link %q: node%d and port%d are both needed", name, i+1, i+1)
			}
			n, ok := t.Nodes[end[0]]
			if !ok || len(n.Ports) == 0 {
				continue
			}
			if _, ok := n.Ports[end[1]]; !ok {
				return fmt.Errorf("link %q: node %q lists its ports and %q is not one of them", name, end[0], end[1])
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

type ifNum struct {
	agent   netip.Addr
	ifIndex uint32
}

// Namer is what the topology asks of the engine for nodes and ports the
// document leaves without agent or ifindex: the agent whose host_descr
// gives a host name and the ifIndex whose port_name gives a port name.
// Version changes whenever what it knows does.
type Namer interface {
	AgentNamed(host string) (netip.Addr, bool)
	IfIndexNamed(agent netip.Addr, ifName string) (string, bool)
	IfName(agent netip.Addr, ifIndex string) (string, bool)
	NamesVersion() int64
}

// index is a topology compiled for lookups.
type index struct {
	topo    Topology // as set
	eff     Topology // with the nodes links imply and what the Namer filled in
	ports   map[ifKey]PortRef
	links   map[ifKey]LinkRef
	core    map[ifNum]bool
	agents  map[netip.Addr][]string // agent → node names
	open    map[netip.Addr]string   // agent → node, for nodes that do not list their ports
	names   int64                   // the Namer's version compiled in
	version int64
}

// Store holds the current topology; lookups read it without locking.
type Store struct {
	mu      sync.Mutex
	cur     atomic.Pointer[index]
	version atomic.Int64
	namer   Namer
}

// SetNamer gives the store the engine's learned names (before any Set).
func (s *Store) SetNamer(n Namer) { s.namer = n }

// Set replaces the topology.
func (s *Store) Set(t Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.compile(t)
	x.version = s.version.Add(1)
	s.cur.Store(x)
	return nil
}

// load returns the compiled topology, compiled again first when the
// agents' names changed since (only then does it allocate).
func (s *Store) load() *index {
	x := s.cur.Load()
	if x == nil || s.namer == nil || x.names == s.namer.NamesVersion() {
		return x
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if x = s.cur.Load(); x.names != s.namer.NamesVersion() {
		y := s.compile(x.topo)
		y.version = x.version // the document did not change
		s.cur.Store(y)
		x = y
	}
	return x
}

// compile builds the lookups, with s.mu held.
func (s *Store) compile(t Topology) *index {
	x := &index{topo: t, ports: map[ifKey]PortRef{}, links: map[ifKey]LinkRef{}, core: map[ifNum]bool{},
		agents: map[netip.Addr][]string{}, open: map[netip.Addr]string{}}
	if s.namer != nil {
		x.names = s.namer.NamesVersion()
	}
	eff := Topology{Nodes: map[string]Node{}, Links: t.Links}
	listed := map[string]bool{}
	for name, n := range t.Nodes {
		n.Ports = maps.Clone(n.Ports)
		listed[name] = len(n.Ports) > 0
		eff.Nodes[name] = n
	}
	for _, l := range t.Links {
		for _, end := range [][2]string{{l.Node1, l.Port1}, {l.Node2, l.Port2}} {
			n := eff.Nodes[end[0]]
			if n.Ports == nil {
				n.Ports = map[string]Port{}
			}
			if _, ok := n.Ports[end[1]]; !ok {
				n.Ports[end[1]] = Port{}
			}
			eff.Nodes[end[0]] = n
		}
	}
	for name, n := range eff.Nodes {
		a, err := netip.ParseAddr(n.Agent)
		if err != nil { // not given: the agent that calls itself by the node's name
			var ok bool
			if s.namer == nil {
				continue
			}
			if a, ok = s.namer.AgentNamed(name); !ok {
				continue
			}
		}
		n.Agent = a.Unmap().String()
		for pname, p := range n.Ports {
			if p.IfIndex == "" && s.namer != nil {
				if i, ok := s.namer.IfIndexNamed(a, pname); ok {
					p.IfIndex = i
					n.Ports[pname] = p
				}
			}
		}
		eff.Nodes[name] = n
	}
	x.eff = eff
	for _, name := range slices.Sorted(maps.Keys(eff.Nodes)) {
		n := eff.Nodes[name]
		a, err := netip.ParseAddr(n.Agent)
		if err != nil {
			continue
		}
		a = a.Unmap()
		x.agents[a] = append(x.agents[a], name)
		if !listed[name] {
			x.open[a] = name
		}
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
			n := eff.Nodes[end[0]]
			a, err := netip.ParseAddr(n.Agent)
			p := n.Ports[end[1]]
			if err != nil || p.IfIndex == "" {
				continue
			}
			other := ends[1-i]
			x.links[ifKey{a.Unmap(), p.IfIndex}] = LinkRef{LinkName: lname, LocalNode: end[0], LocalPort: end[1],
				RemoteNode: other[0], RemotePort: other[1]}
			if v, err := strconv.ParseUint(p.IfIndex, 10, 32); err == nil {
				x.core[ifNum{a.Unmap(), uint32(v)}] = true
			}
		}
	}
	return x
}

// Get returns the topology as it was set (empty when none is set).
func (s *Store) Get() Topology {
	if x := s.cur.Load(); x != nil {
		return x.topo
	}
	return Topology{Nodes: map[string]Node{}, Links: map[string]Link{}}
}

// Effective returns the topology as the lookups see it: every node a link
// names, with the agents and ifIndexes learned from the agents' own names
// filled in where the document left them out.
func (s *Store) Effective() Topology {
	if x := s.load(); x != nil {
		return x.eff
	}
	return Topology{Nodes: map[string]Node{}, Links: map[string]Link{}}
}

// IsSet reports whether a topology has been set.
func (s *Store) IsSet() bool { return s.cur.Load() != nil }

// Version increases with every change of the document.
func (s *Store) Version() int64 { return s.version.Load() }

// InterfaceToPort finds the node port of an agent's interface. For a node
// that does not list its ports, any interface of its agent is one of them,
// named by its ifName when the agent gives one.
func (s *Store) InterfaceToPort(agent netip.Addr, ifIndex string) (PortRef, bool) {
	x := s.load()
	if x == nil {
		return PortRef{}, false
	}
	agent = agent.Unmap()
	if p, ok := x.ports[ifKey{agent, ifIndex}]; ok {
		return p, true
	}
	if node, ok := x.open[agent]; ok && isIfIndex(ifIndex) {
		p := PortRef{Node: node, IfIndex: ifIndex}
		if s.namer != nil {
			p.Port, _ = s.namer.IfName(agent, ifIndex)
		}
		return p, true
	}
	return PortRef{}, false
}

// isIfIndex: an interface data source ("3"), not "2.1" or "internal".
func isIfIndex(ds string) bool {
	_, err := strconv.ParseUint(ds, 10, 32)
	return err == nil
}

// InterfaceToLink finds the inter-switch link an agent's interface is on.
func (s *Store) InterfaceToLink(agent netip.Addr, ifIndex string) (LinkRef, bool) {
	x := s.load()
	if x == nil {
		return LinkRef{}, false
	}
	l, ok := x.links[ifKey{agent.Unmap(), ifIndex}]
	return l, ok
}

// NodesForAgent lists the nodes an agent speaks for.
func (s *Store) NodesForAgent(agent netip.Addr) []string {
	if x := s.load(); x != nil {
		return x.agents[agent.Unmap()]
	}
	return nil
}

// AgentForNode returns a node's agent, given or learned.
func (s *Store) AgentForNode(node string) (string, bool) {
	if x := s.load(); x != nil {
		if n, ok := x.eff.Nodes[node]; ok && n.Agent != "" {
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

// CoreIfIndex is Core for a numeric ifIndex; it allocates nothing.
func (s *Store) CoreIfIndex(agent netip.Addr, ifIndex uint32) bool {
	x := s.load()
	return x != nil && x.core[ifNum{agent.Unmap(), ifIndex}]
}
