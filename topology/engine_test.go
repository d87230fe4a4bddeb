package topology_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/topology"
)

// TestTokensAndLinkKey: two synthetic agents, each with ports 1 and 2; port
// 2 of each is on the inter-switch link. EDGE selects port 1 data sources,
// CORE port 2, aggMode=edge/core likewise, and link:inputifindex names the
// link for samples taken on port 2.
func TestTokensAndLinkKey(t *testing.T) {
	e := engine.New(engine.Config{})
	var topo topology.Store
	topology.Register(e.Compiler(), &topo)
	e.SetTopology(&topo)
	if sel, err := e.ParseAgents("EDGE"); err != nil || len(e.Dump(sel, []string{"ALL"}, nil, time.Now())) != 0 {
		t.Errorf("EDGE with no topology: %v", err)
	}
	tp, err := topology.Parse([]byte(`{nodes:{
	  a:{agent:'10.255.0.1', ports:{p1:{ifindex:'1'}, p2:{ifindex:'2'}}},
	  b:{agent:'10.255.0.2', ports:{p1:{ifindex:'1'}, p2:{ifindex:'2'}}}},
	 links:{ab:{node1:'a', port1:'p2', node2:'b', port2:'p2'}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Set(tp); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"pairs": "{keys:'ipsource,ipdestination', value:'frames', n:20}",
		"links": "{keys:'link:inputifindex', value:'frames'}",
	} {
		spec, _ := flow.ParseSpec([]byte(body))
		if err := e.Define(name, spec); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := synth.New(synth.Config{Agents: 3, Ports: 2, Flows: 40, Seed: 1})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	for range 300 {
		b, _ := g.Datagram(nil, 1000)
		w.Process(b, src, now)
	}
	count := func(token string) (n int, agents map[string]bool, dss map[string]bool) {
		sel, err := e.ParseAgents(token)
		if err != nil {
			t.Fatal(err)
		}
		agents, dss = map[string]bool{}, map[string]bool{}
		for _, p := range e.Dump(sel, []string{"pairs"}, nil, now) {
			n++
			agents[p.Agent], dss[p.DataSource] = true, true
		}
		return
	}
	if n, ag, _ := count("ALL"); n != 6 || len(ag) != 3 {
		t.Errorf("ALL: %d data sources of %d agents", n, len(ag))
	}
	if n, ag, _ := count("TOPOLOGY"); n != 4 || ag["10.255.0.3"] {
		t.Errorf("TOPOLOGY: %d data sources, agents %v", n, ag)
	}
	if n, _, ds := count("EDGE"); n != 2 || !ds["1"] || ds["2"] {
		t.Errorf("EDGE: %d data sources %v", n, ds)
	}
	if n, _, ds := count("CORE"); n != 2 || !ds["2"] || ds["1"] {
		t.Errorf("CORE: %d data sources %v", n, ds)
	}
	for mode, ds := range map[string]string{"edge": "1", "core": "2"} {
		fl, err := e.ActiveFlows(engine.AllAgents, "pairs", 100, 0, mode, now)
		if err != nil || len(fl) == 0 {
			t.Fatalf("aggMode %s: %v %v", mode, fl, err)
		}
		for _, f := range fl {
			if f.DataSource != ds || f.Agent == "10.255.0.3" {
				t.Errorf("aggMode %s returned %+v", mode, f)
			}
		}
	}
	links, _ := e.ActiveFlows(engine.AllAgents, "links", 10, 0, "sum", now)
	if len(links) != 1 || links[0].Key != "ab" {
		t.Errorf("link:inputifindex flows %+v, want ab", links)
	}
}

// TestLinksOnlyFollowsTheAgents: a links-only topology is mapped from the
// switches' own host_descr and port_name, and follows them: a switch that
// renumbers a port (swp1 from ifIndex 5 to 6) and one that changes its
// hostname are mapped again at their next counter sample; one that goes
// silent past agent.timeout is unmapped.
func TestLinksOnlyFollowsTheAgents(t *testing.T) {
	e := engine.New(engine.Config{AgentTimeout: time.Minute})
	var topo topology.Store
	topo.SetNamer(e)
	topology.Register(e.Compiler(), &topo)
	e.SetTopology(&topo)
	tp, err := topology.Parse([]byte(`{links:{l1:{node1:'leaf1', port1:'swp1', node2:'spine1', port2:'swp9'}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Set(tp); err != nil {
		t.Fatal(err)
	}
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	leaf := &synth.Switch{Agent: netip.MustParseAddr("10.0.0.1"), Name: "leaf1", Ports: map[string]uint32{"swp1": 5, "swp2": 7}}
	spine := &synth.Switch{Agent: netip.MustParseAddr("10.0.0.2"), Name: "spine1", Ports: map[string]uint32{"swp9": 19}}
	feed := func(sw *synth.Switch) {
		b, err := sw.Counters(1000)
		if err != nil {
			t.Fatal(err)
		}
		w.Process(b, src, now)
	}
	feed(leaf)
	feed(spine)
	link := func(agent, ifIndex string) string {
		l, _ := topo.InterfaceToLink(netip.MustParseAddr(agent), ifIndex)
		return l.LinkName + ">" + l.RemoteNode + "/" + l.RemotePort
	}
	if got := link("10.0.0.1", "5"); got != "l1>spine1/swp9" {
		t.Errorf("leaf1 ifIndex 5: %q", got)
	}
	if got := link("10.0.0.2", "19"); got != "l1>leaf1/swp1" {
		t.Errorf("spine1 ifIndex 19: %q", got)
	}
	if !topo.Edge(netip.MustParseAddr("10.0.0.1"), "7") || topo.Edge(netip.MustParseAddr("10.0.0.1"), "5") {
		t.Error("leaf1: swp2 (7) should be an edge port, swp1 (5) not")
	}
	v := topo.Version()
	leaf.Ports = map[string]uint32{"swp1": 6, "swp2": 7}
	feed(leaf)
	if got := link("10.0.0.1", "6"); got != "l1>spine1/swp9" {
		t.Errorf("after renumbering swp1 to 6: %q", got)
	}
	if topo.Version() != v {
		t.Error("learning names changed the document's version")
	}
	spine.Name = "spine1-new"
	feed(spine)
	if _, ok := topo.AgentForNode("spine1"); ok {
		t.Error("spine1 still mapped after its agent renamed itself")
	}
	now = now.Add(2 * time.Minute)
	feed(spine) // spine stays, leaf goes silent
	e.Sweep(now)
	if a, ok := topo.AgentForNode("leaf1"); ok {
		t.Errorf("leaf1 still mapped to %s after agent.timeout", a)
	}
}
