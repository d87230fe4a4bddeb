package topology

import (
	"net/netip"
	"strings"
	"testing"
)

// A leaf-spine pair as the Mininet and Ryu articles build them: two
// switches, one inter-switch link, hosts on the other ports.
const fabric = `{
 nodes: {
  s1: {agent:'10.0.0.1', dpid:'0000000000000001', ports:{'s1-eth1':{ifindex:'11', ofport:'1'}, 's1-eth2':{ifindex:12, ofport:2}}},
  s2: {agent:'10.0.0.2', ports:{'s2-eth1':{ifindex:'21'}, 's2-eth2':{ifindex:'22'}}}
 },
 links: {'s1-s2': {node1:'s1', port1:'s1-eth2', node2:'s2', port2:'s2-eth1'}}
}`

func TestLookupsAndEdgeCore(t *testing.T) {
	topo, err := Parse([]byte(fabric))
	if err != nil {
		t.Fatal(err)
	}
	var s Store
	if s.IsSet() {
		t.Fatal("set before Set")
	}
	if err := s.Set(topo); err != nil {
		t.Fatal(err)
	}
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if p, ok := s.InterfaceToPort(a1, "12"); !ok || p.Node != "s1" || p.Port != "s1-eth2" || p.OFPort != "2" || p.DPID != "0000000000000001" {
		t.Errorf("InterfaceToPort %+v %v", p, ok)
	}
	if l, ok := s.InterfaceToLink(a2, "21"); !ok || l.LinkName != "s1-s2" || l.LocalNode != "s2" || l.RemoteNode != "s1" || l.RemotePort != "s1-eth2" {
		t.Errorf("InterfaceToLink %+v %v", l, ok)
	}
	if _, ok := s.InterfaceToLink(a1, "11"); ok {
		t.Error("a host port is on a link")
	}
	if !s.Edge(a1, "11") || s.Edge(a1, "12") || !s.Core(a1, "12") || s.Core(a2, "22") || s.Edge(a1, "99") {
		t.Error("edge/core")
	}
	if n := s.NodesForAgent(a2); len(n) != 1 || n[0] != "s2" {
		t.Errorf("NodesForAgent %v", n)
	}
	if ag, ok := s.AgentForNode("s1"); !ok || ag != "10.0.0.1" {
		t.Errorf("AgentForNode %v", ag)
	}
	v := s.Version()
	s.Set(topo)
	if s.Version() != v+1 {
		t.Error("version did not move")
	}
	for body, want := range map[string]string{
		"{nodes:{a:{agent:'x'}}}": "not an IP address",
		"{nodes:{a:{agent:'10.0.0.1', ports:{p:{ifindex:'1'}}}}, links:{l:{node1:'a', port1:'p', node2:'a', port2:'q'}}}": `"q" is not one of them`,
		"{links:{l:{node1:'a', port1:'p', node2:'b'}}}":                                                                   "node2 and port2 are both needed",
	} {
		if _, err := Parse([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}
