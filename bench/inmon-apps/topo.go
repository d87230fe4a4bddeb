package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// sendTopology is the layout of flowrt send's synthetic agents, as the
// Mininet helper would PUT it for a ring of switches: agent i (10.255.0.i)
// is node sw<i> with ports sw<i>-eth1 … sw<i>-eth<ports> at ifIndex 1 …
// ports; its last two ports are inter-switch links to its neighbours in a
// ring, the rest are edge ports. flowrt send's flow samples come in on
// ports 1 … ports, so most ingress samples are at the edge, as the
// topology-aware apps (mininet-dashboard, fabric-metrics, ix-metrics,
// ixp-metrics, topology, trace-flow, ai-metrics) expect.
func sendTopology(agents, ports int) ([]byte, error) {
	if agents < 2 || ports < 3 {
		return nil, fmt.Errorf("a ring topology needs at least 2 agents and 3 ports (have %d, %d)", agents, ports)
	}
	type port struct {
		IfIndex string `json:"ifindex"`
	}
	type node struct {
		Agent string          `json:"agent"`
		Ports map[string]port `json:"ports"`
	}
	type link struct {
		Node1 string `json:"node1"`
		Port1 string `json:"port1"`
		Node2 string `json:"node2"`
		Port2 string `json:"port2"`
	}
	topo := struct {
		Nodes map[string]node `json:"nodes"`
		Links map[string]link `json:"links"`
	}{map[string]node{}, map[string]link{}}
	name := func(i int) string { return fmt.Sprintf("sw%d", i) }
	for i := 1; i <= agents; i++ {
		n := node{Agent: fmt.Sprintf("10.255.%d.%d", i>>8, i&0xff), Ports: map[string]port{}}
		for p := 1; p <= ports; p++ {
			n.Ports[fmt.Sprintf("%s-eth%d", name(i), p)] = port{IfIndex: strconv.Itoa(p)}
		}
		topo.Nodes[name(i)] = n
	}
	// A ring: sw<i>-eth<ports> to sw<i+1>-eth<ports-1>. With two agents,
	// one link (a ring of two would join the same pair twice).
	links := agents
	if agents == 2 {
		links = 1
	}
	for i := 1; i <= links; i++ {
		j := i%agents + 1
		topo.Links[fmt.Sprintf("link%d", i)] = link{Node1: name(i), Port1: fmt.Sprintf("%s-eth%d", name(i), ports),
			Node2: name(j), Port2: fmt.Sprintf("%s-eth%d", name(j), ports-1)}
	}
	return json.Marshal(topo)
}

// sendShape reads -agents and -ports from flowrt send's arguments (flowrt
// send's defaults otherwise).
func sendShape(args []string) (agents, ports int) {
	agents, ports = 4, 8
	for i := 0; i+1 < len(args); i++ {
		n, err := strconv.Atoi(args[i+1])
		if err != nil {
			continue
		}
		switch strings.TrimLeft(args[i], "-") {
		case "agents":
			agents = n
		case "ports":
			ports = n
		}
	}
	return agents, ports
}

func (e *engine) put(path string, body []byte) error {
	req, err := http.NewRequest(http.MethodPut, e.HTTP+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("PUT %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// ixMembers is an IX-F member export (the format ixp-metrics and
// ix-metrics take at members/json) of two members whose router MACs are
// the ones flowrt send's frames carry (02:00:00:00:00:01 sends,
// …:02 receives), so the member matrices have a pair to show.
const ixMembers = `{"version":"1.0","member_list":[
 {"asnum":64500,"name":"Senders","connection_list":[{"vlan_list":[{"ipv4":{"address":"10.0.0.1","mac_addresses":["02:00:00:00:00:01"]}}]}]},
 {"asnum":64501,"name":"Receivers","connection_list":[{"vlan_list":[{"ipv4":{"address":"192.168.0.1","mac_addresses":["02:00:00:00:00:02"]}}]}]}]}`

// appSetup is what some applications need configured before they show
// anything, as their users would PUT it: the IX members.
var appSetup = map[string][][2]string{
	"ixp-metrics": {{"/app/ixp-metrics/scripts/metrics.js/members/json", ixMembers}},
	"ix-metrics":  {{"/app/ix-metrics/scripts/metrics.js/members/json", ixMembers}},
}

// pageActions are what a user does on a page before it shows data, run
// once it has loaded: sflow-test tests the agent typed in and started.
var pageActions = map[string]string{
	"sflow-test": `(function() { $('#switch').typeahead('val', '10.255.0.1'); $('#start').prop('disabled', false).click(); return true; })()`,
}

// extraREST are endpoints no page names (apps without a page, called by
// other programs), as their documentation has clients call them: the
// Prometheus exporter's scrape targets.
var extraREST = map[string][]string{
	"prometheus": {"export.js/statistics/all/ALL/sum:ifinoctets,max:load_one/txt",
		"export.js/flows/ALL/txt?metric=ip_flows&key=ipsource&key=ipdestination&value=bytes"},
}
