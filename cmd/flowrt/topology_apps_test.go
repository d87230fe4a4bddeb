package main_test

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
)

// fabricApp calls the topology and location functions the way InMon's
// topology, trace-flow, heatmap and fabric apps do: every second before a
// topology exists (TOPOLOGY, EDGE, CORE must answer, empty), and from its
// REST handler.
const fabricApp = `setFlow('pairs', {keys:'macsource,macdestination', value:'frames'});
var errors = 0;
setIntervalHandler(function() {
  try { metric('TOPOLOGY', 'sum:ifinoctets'); table('TOPOLOGY', 'ifname'); activeFlows('EDGE', 'pairs', 5); }
  catch(e) { errors++; }
});
setHttpHandler(function(req) {
  var q = function(k) { return req.query[k] && req.query[k][0]; };
  switch(req.path[0]) {
  case 'empty': return {errors: errors, metric: metric('TOPOLOGY', 'sum:ifinoctets')[0].metricN,
    table: table('EDGE', 'ifname').length, flows: activeFlows('CORE', 'pairs', 5).length,
    edge: activeFlows('ALL', 'pairs', 5, 0, 'edge').length, dump: dump('CORE', 'ALL').length};
  case 'mac': return topologyLocateHostMac(q('mac'));
  case 'ip': return topologyLocateHostIP(q('ip'));
  case 'macs': return q('agent') ? topologyLocatedHostMacs(q('agent'), q('ifindex')) : topologyLocatedHostMacs();
  case 'node': return {agent: topologyAgentForNode(q('node')), nodes: topologyNodeNames()};
  case 'link': return topologyInterfaceToLink(q('agent'), q('ifindex'));
  case 'port': return topologyInterfaceToPort(q('agent'), q('ifindex'));
  case 'ends': return topologyLinkToInterfaces(q('link'));
  default: throw 'not_found';
  }
});
`

// TestLinksOnlyTopologyAndHostLocation: the topology PUT as containerlab's
// topo.py sends it (links only, node and port names), three switches
// describing themselves with host_descr and port_name over UDP, two hosts
// exchanging frames across the spine. The app must find each host at the
// leaf port it is plugged into — not at the spine or uplink ports its frames
// also came in on — by agent, ifIndex, node and port; and a switch that
// appears after the topology was set is mapped when its counters arrive.
func TestLinksOnlyTopologyAndHostLocation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fabric", "scripts", "fabric.js")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(fabricApp), 0o644); err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, "-Dapp.dir="+dir)
	app := func(path string, v any) {
		t.Helper()
		e.get(t, "/app/fabric/scripts/fabric.js/"+path, v)
	}
	time.Sleep(1500 * time.Millisecond) // the interval handler runs with no topology
	var empty map[string]int
	app("empty/json", &empty)
	for k, v := range empty {
		if v != 0 {
			t.Errorf("with no topology, %s = %d, want 0 (%v)", k, v, empty)
		}
	}
	for _, path := range []string{"/metric/TOPOLOGY/ifinoctets/json", "/table/EDGE/ifname/json", "/activeflows/CORE/pairs/json"} {
		if code, body := e.do(t, "GET", path, ""); code != 200 {
			t.Errorf("GET %s with no topology: %d %s", path, code, body)
		}
	}

	a := netip.MustParseAddr
	leaf1 := &synth.Switch{Agent: a("10.0.0.11"), Name: "leaf1", Ports: map[string]uint32{"swp1": 5, "swp3": 7}}
	// h2's port on leaf2 is a member of LAG 100 (ifIndex of the bond).
	leaf2 := &synth.Switch{Agent: a("10.0.0.12"), Name: "leaf2", Ports: map[string]uint32{"swp1": 15, "swp3": 17},
		LAG: map[uint32]uint32{17: 100}, Partner: [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}}
	spine := &synth.Switch{Agent: a("10.0.0.21"), Name: "spine1", Ports: map[string]uint32{"swp1": 31, "swp2": 32, "swp3": 33}}
	leaf3 := &synth.Switch{Agent: a("10.0.0.13"), Name: "leaf3", Ports: map[string]uint32{"swp1": 25, "swp3": 27}}
	conn, err := net.Dial("udp", e.sflow)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out := func(b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the loopback socket buffer is not the subject
	}
	for _, sw := range []*synth.Switch{leaf1, leaf2, spine} {
		out(sw.Counters(1000))
	}
	topo := `{"links":{
	  "link1":{"node1":"leaf1","port1":"swp1","node2":"spine1","port2":"swp1"},
	  "link2":{"node1":"leaf2","port1":"swp1","node2":"spine1","port2":"swp2"},
	  "link3":{"node1":"leaf3","port1":"swp1","node2":"spine1","port2":"swp3"}}}`
	if code, body := e.do(t, "PUT", "/topology/json", topo); code != 204 {
		t.Fatalf("PUT of a links-only topology: %d %s", code, body)
	}
	h1 := synth.Frame{SrcMAC: [6]byte{0x0a, 0, 0, 0, 0, 1}, DstMAC: [6]byte{0x0a, 0, 0, 0, 0, 2}, Src: a("10.1.0.1"), Dst: a("10.1.0.2")}
	h2 := synth.Frame{SrcMAC: h1.DstMAC, DstMAC: h1.SrcMAC, Src: h1.Dst, Dst: h1.Src, VLAN: 100}
	for range 5 {
		out(leaf1.Sample(h1, 7, 5, 2000)) // h1 → h2: in at leaf1 swp3, through the spine, out at leaf2 swp3
		out(spine.Sample(h1, 31, 32, 2000))
		out(leaf2.Sample(h1, 15, 17, 2000))
		out(leaf2.Sample(h2, 17, 15, 2000)) // and back
		out(spine.Sample(h2, 32, 31, 2000))
		out(leaf1.Sample(h2, 5, 7, 2000))
	}
	type place struct {
		MAC, Agent, IfIndex, Node, Port string
		VLAN                            int
	}
	locate := func(path string) []place {
		var raw []map[string]any
		app(path, &raw)
		var out []place
		for _, m := range raw {
			s := func(k string) string { v, _ := m[k].(string); return v }
			v, _ := m["vlan"].(float64)
			out = append(out, place{s("mac"), s("agent"), s("ifindex"), s("node"), s("port"), int(v)})
		}
		return out
	}
	want1 := []place{{"0A0000000001", "10.0.0.11", "7", "leaf1", "swp3", 0}}
	want2 := []place{{"0A0000000002", "10.0.0.12", "17", "leaf2", "swp3", 100}}
	waitFor(t, 5*time.Second, "h1 located", func() bool { return len(locate("mac/json?mac=0A0000000001")) > 0 })
	for path, want := range map[string][]place{
		"mac/json?mac=0A0000000001":      want1,
		"mac/json?mac=0a:00:00:00:00:02": want2,
		"ip/json?ip=10.1.0.2":            want2,
		"ip/json?ip=10.1.0.1":            want1,
		"mac/json?mac=0A00000000FF":      nil,
	} {
		if got := locate(path); !slices.Equal(got, want) {
			t.Errorf("%s = %+v, want %+v", path, got, want)
		}
	}
	var raw []map[string]any
	app("mac/json?mac=0A0000000002", &raw)
	if len(raw) != 1 || raw[0]["agg_attachedaggid"] != "100" || raw[0]["agg_partneropersystemid"] != "021122334455" {
		t.Errorf("h2's place on a LAG member: %v, want agg_attachedaggid 100, agg_partneropersystemid 021122334455", raw)
	}
	raw = nil
	app("mac/json?mac=0A0000000001", &raw)
	if _, ok := raw[0]["agg_attachedaggid"]; len(raw) != 1 || ok {
		t.Errorf("h1's place (no LAG): %v", raw)
	}
	var macs []string
	app("macs/json", &macs)
	if !slices.Equal(macs, []string{"0A0000000001", "0A0000000002"}) {
		t.Errorf("topologyLocatedHostMacs() = %v", macs)
	}
	app("macs/json?agent=10.0.0.12&ifindex=17", &macs)
	if !slices.Equal(macs, []string{"0A0000000002"}) {
		t.Errorf("topologyLocatedHostMacs(leaf2, 17) = %v", macs)
	}
	app("macs/json?agent=10.0.0.21&ifindex=31", &macs)
	if len(macs) != 0 {
		t.Errorf("MACs located at a spine port: %v", macs)
	}

	var link struct{ LinkName, LocalNode, LocalPort, RemoteNode, RemotePort string }
	app("link/json?agent=10.0.0.21&ifindex=32", &link)
	if link.LinkName != "link2" || link.LocalNode != "spine1" || link.LocalPort != "swp2" || link.RemoteNode != "leaf2" {
		t.Errorf("topologyInterfaceToLink(spine1, 32) = %+v", link)
	}
	var port struct{ Node, Port, IfIndex string }
	app("port/json?agent=10.0.0.11&ifindex=7", &port)
	if port.Node != "leaf1" || port.Port != "swp3" || port.IfIndex != "7" {
		t.Errorf("topologyInterfaceToPort(leaf1, 7) = %+v (an edge port of a learned node)", port)
	}
	var ends []struct{ Node, Port, Agent, IfIndex string }
	app("ends/json?link=link1", &ends)
	if len(ends) != 2 || ends[0].Agent != "10.0.0.11" || ends[0].IfIndex != "5" || ends[1].Agent != "10.0.0.21" || ends[1].IfIndex != "31" {
		t.Errorf("topologyLinkToInterfaces(link1) = %+v", ends)
	}
	// CORE: the four uplink data sources; EDGE: the two host ports and the
	// spine's port towards leaf3, which is on a link whose other end is not
	// mapped yet… it is on a link, so core.
	count := func(token string) map[string]bool {
		var rows []struct{ Agent, DataSource string }
		e.get(t, "/dump/"+token+"/ifspeed/json", &rows)
		got := map[string]bool{}
		for _, r := range rows {
			got[r.Agent+"/"+r.DataSource] = true
		}
		return got
	}
	if got := count("CORE"); len(got) != 5 || !got["10.0.0.11/5"] || !got["10.0.0.21/33"] || got["10.0.0.11/7"] {
		t.Errorf("CORE data sources %v", got)
	}
	if got := count("EDGE"); len(got) != 2 || !got["10.0.0.11/7"] || !got["10.0.0.12/17"] {
		t.Errorf("EDGE data sources %v", got)
	}

	// leaf3 appears after the topology was set.
	var node struct {
		Agent any
		Nodes []string
	}
	app("node/json?node=leaf3", &node)
	if node.Agent != nil || !slices.Equal(node.Nodes, []string{"leaf1", "leaf2", "leaf3", "spine1"}) {
		t.Errorf("leaf3 before its counters: %+v", node)
	}
	out(leaf3.Counters(1000))
	waitFor(t, 5*time.Second, "leaf3 mapped", func() bool {
		app("node/json?node=leaf3", &node)
		return node.Agent == "10.0.0.13"
	})
	app("link/json?agent=10.0.0.13&ifindex=25", &link)
	if link.LinkName != "link3" || link.RemoteNode != "spine1" || link.RemotePort != "swp3" {
		t.Errorf("topologyInterfaceToLink(leaf3, 25) = %+v", link)
	}
	// The document stays as it was given.
	var doc map[string]json.RawMessage
	e.get(t, "/topology/json", &doc)
	if !strings.Contains(string(doc["links"]), `"link3"`) || strings.Contains(string(doc["nodes"]), "10.0.0") {
		t.Errorf("GET /topology/json = %s", doc)
	}
	if code, body := e.do(t, "GET", "/app/fabric/scripts/fabric.js/mac/json?mac=zz", ""); code != 500 || !strings.Contains(body, "not a MAC address") {
		t.Errorf("a bad MAC: %d %s", code, body)
	}
}
