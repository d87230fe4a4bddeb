package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

// testServer is an API over an engine fed 20 s of synthetic traffic from two
// agents; the API's clock is the traffic's.
func testServer(t *testing.T, readonly bool) *httptest.Server {
	t.Helper()
	e := engine.New(engine.Config{})
	for name, body := range map[string]string{
		"pairs":  "{keys:'ipsource,ipdestination', value:'bytes', n:10}",
		"proto":  "{keys:'ipprotocol', value:'frames', values:['bytes']}",
		"total":  "{value:'frames'}",
		"uports": "{keys:'icmpunreachableport', value:'frames', log:true, flowStart:true}",
	} {
		spec, err := flow.ParseSpec([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Define(name, spec); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := synth.New(synth.Config{Agents: 2, Ports: 2, Flows: 50, SamplingRate: 10, Seed: 11})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	for i := range 2000 {
		up := uint32(i*10) + 1000
		if i%500 == 0 {
			dgs, _ := g.Counters(nil, up)
			for _, d := range dgs {
				w.Process(d, src, now)
			}
		}
		d, _ := g.Datagram(nil, up)
		w.Process(d, src, now)
		now = now.Add(10 * time.Millisecond)
	}
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	topo := &topology.Store{}
	topology.Register(e.Compiler(), topo)
	e.SetTopology(topo)
	m := threshold.New(e, 100)
	m.Set("busy", threshold.Spec{Metric: "pairs", Value: 1, ByFlow: true, Timeout: 60})
	m.Check(now)
	srv := httptest.NewServer(New(e, Config{Version: "test", ReadOnly: readonly, Thresholds: m, Groups: groups, Maps: maps, Topology: topo, Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	srv := testServer(t, false)
	for _, c := range []struct {
		method, path, body string
		status             int
		contains           []string
	}{
		{"GET", "/version", "", 200, []string{"test"}},
		{"GET", "/status", "", 200, []string{"OK"}},
		{"GET", "/analyzer/json", "", 200, []string{`"sFlowDatagramsReceived": 2008`, `"sFlowAgents": 2`}},
		{"GET", "/agents/json?agent=10.255.0.1", "", 200, []string{`"10.255.0.1"`, `"sFlowDatagramsLost": 0`}},
		{"GET", "/agents/json?agent=bogus", "", 400, []string{"not an agent address"}},
		{"GET", "/metrics/json", "", 200, []string{`"ifinoctets"`, `"pairs"`, `"total"`}},
		{"GET", "/metric/10.255.0.1/json", "", 200, []string{`"1.ifinoctets"`, `"1.pairs"`}},
		{"GET", "/metric/10.9.9.9/json", "", 404, []string{"no agent"}},
		{"GET", "/metric/ALL/sum:total,max:ifinoctets,med:ifinoctets/json", "", 200,
			[]string{`"metricName": "sum:total"`, `"metricN": 4`, `"quartiles"`}},
		{"GET", "/metric/ALL/mean:total/json", "", 400, []string{`unknown aggregation "mean"`}},
		{"GET", "/metric/TOPOLOGY/ifinoctets/json", "", 200, []string{`"metricN": 0`}},
		{"GET", "/metric/ALL/ifinoctets/json?ifspeed=10000000000&iftype=ethernet*", "", 200, []string{`"metricN": 4`}},
		{"GET", "/metric/ALL/ifinoctets/json?ifspeed=1", "", 200, []string{`"metricN": 0`}},
		{"GET", "/table/ALL/ifindex,sort:ifinoctets:-2/json", "", 200, []string{`"metricName": "ifindex"`}},
		{"GET", "/table/ALL/ifindex,sort:ifinoctets:x/json", "", 400, []string{"bad row count"}},
		{"GET", "/dump/ALL/ifinoctets;pairs/json", "", 200, []string{`"topKeys"`, `"metricName": "ifinoctets"`}},
		{"GET", "/dump/10.255.0.2/ALL/json", "", 200, []string{`"iftype"`, `"ethernetCsmacd"`}},
		{"GET", "/flow/json", "", 200, []string{`"pairs"`, `"keys": "ipsource,ipdestination"`}},
		{"GET", "/flow/pairs/json", "", 200, []string{`"n": 10`, `"t": 2`, `"fs": ","`}},
		{"GET", "/flow/nope/json", "", 404, []string{`no flow definition named "nope"`}},
		{"PUT", "/flow/x/json", "{keys:'ipsource', value:'frames', filter:'ipprotocol=6&'}", 400, []string{"expected a comparison"}},
		{"PUT", "/flow/x/json", "not json", 400, []string{"not a JSON object"}},
		{"PUT", "/flow/a.b/json", "{value:'frames'}", 400, []string{"may only contain"}},
		{"GET", "/activeflows/ALL/pairs/json?maxFlows=3", "", 200, []string{`"key": "10.0.0.0,192.168.0.1"`}},
		{"GET", "/activeflows/ALL/proto/json?aggMode=sum", "", 200, []string{`"values": [`}},
		{"GET", "/activeflows/ALL/pairs/json?maxFlows=x", "", 400, []string{`maxFlows="x"`}},
		{"GET", "/activeflows/ALL/nope/json", "", 404, []string{"no flow definition"}},
		{"GET", "/activeflows/ALL/pairs/html?maxFlows=20&aggMode=sum", "", 200, []string{`<table id="activeflows">`, `href="json?maxFlows=20&amp;aggMode=sum"`}},
		{"GET", "/metric/ALL/sum:total/html", "", 200, []string{"<svg"}},
		{"GET", "/flowvalue/10.255.0.1/1.pairs/json?key=10.0.0.0,192.168.0.1", "", 200, nil},
		{"GET", "/flowvalue/10.255.0.1/1.pairs/json?key=nope", "", 404, []string{"not active"}},
		{"GET", "/flowvalue/10.255.0.1/pairs/json?key=x", "", 400, []string{"<dataSource>.<flow>"}},
		{"GET", "/flowlocations/ALL/pairs/json?key=10.0.0.0,192.168.0.1", "", 200, []string{`"10.255.0.1"`, `"10.255.0.2"`}},
		{"GET", "/flows/json?name=uports&maxFlows=2", "", 200, []string{`"name": "uports"`, `"flowKeys": "udp_3000`}},
		{"GET", "/flowkeys/json", "", 200, []string{`"ipsource"`, `"icmpunreachableport"`}},
		{"GET", "/", "", 200, []string{"flowrt test"}},
		{"GET", "/threshold/json", "", 200, []string{`"busy"`, `"byFlow": true`}},
		{"GET", "/threshold/busy/json", "", 200, []string{`"metric": "pairs"`, `"timeout": 60`}},
		{"GET", "/threshold/nope/json", "", 404, []string{`no threshold named "nope"`}},
		{"PUT", "/threshold/t2/json", "{metric:'total', value:5}", 204, nil},
		{"PUT", "/threshold/t3/json", "{value:5}", 400, []string{"needs a metric"}},
		{"DELETE", "/threshold/t2/json", "", 204, nil},
		{"GET", "/events/json?thresholdID=busy&maxEvents=3", "", 200, []string{`"thresholdID": "busy"`, `"flowKey": "`, `"eventID": 100`}},
		{"GET", "/events/json?thresholdID=other", "", 200, []string{"[]"}},
		{"GET", "/events/json?eventID=x", "", 400, []string{`eventID="x"`}},
		{"GET", "/group/json", "", 200, []string{"{}"}},
		{"PUT", "/group/json", "{external:['0.0.0.0/0','::/0'], private:['10.0.0.0/8']}", 204, nil},
		{"GET", "/group/json", "", 200, []string{`"private": [`, `"10.0.0.0/8"`}},
		{"PUT", "/group/zones/json", `{"a":["10.0.0.0/24"]}`, 204, nil},
		{"PUT", "/group/bad/json", `{"a":["10.0.0.0/99"]}`, 400, []string{`"10.0.0.0/99" is not an address or CIDR`}},
		{"GET", "/groups/json", "", 200, []string{`"zones"`, `"(default)"`, `"prefixes": 3`}},
		{"GET", "/group/zones/json", "", 200, []string{`"10.0.0.0/24"`}},
		{"PUT", "/flow/bygroup/json", "{keys:'sourcegroup,group:ipsource:zones', value:'frames'}", 204, nil},
		{"DELETE", "/group/zones/json", "", 204, nil},
		{"DELETE", "/group/zones/json", "", 404, nil},
		{"PUT", "/map/protos/json", "{udp:['17'], tcp:['6']}", 204, nil},
		{"PUT", "/map/dup/json", "{a:['1'], b:['1']}", 400, []string{"under both"}},
		{"GET", "/map/json", "", 200, []string{`"protos"`}},
		{"GET", "/map/protos/json", "", 200, []string{`"udp": [`}},
		{"DELETE", "/map/protos/json", "", 204, nil},
		{"GET", "/map/protos/json", "", 404, nil},
		{"GET", "/topology/json", "", 200, []string{`"nodes": {}`}},
		{"GET", "/activeflows/ALL/pairs/json?aggMode=edge", "", 200, []string{"[]"}},
		{"GET", "/activeflows/EDGE/pairs/json", "", 200, []string{"[]"}},
		{"GET", "/table/CORE/ifinoctets/json", "", 200, []string{"[]"}},
		{"PUT", "/topology/json", "{nodes:{s1:{agent:'10.255.0.1', ports:{p1:{ifindex:'1'}, p2:{ifindex:'2'}}}, s2:{agent:'10.255.0.2', ports:{p2:{ifindex:'2'}}}}, links:{l:{node1:'s1', port1:'p2', node2:'s2', port2:'p2'}}}", 204, nil},
		{"PUT", "/topology/json", "{nodes:{s1:{agent:'nope'}}}", 400, []string{"not an IP address"}},
		{"GET", "/topology/json", "", 200, []string{`"s1"`, `"ifindex": "1"`}},
		{"GET", "/metric/EDGE/max:ifinoctets/json", "", 200, []string{`"metricN": 1`, `"dataSource": "1"`}},
		{"GET", "/metric/CORE/sum:ifinoctets/json", "", 200, []string{`"metricN": 2`}},
		{"GET", "/activeflows/TOPOLOGY/pairs/json?aggMode=core", "", 200, []string{`"dataSource": "2"`}},
		{"DELETE", "/flow/total/json", "", 204, nil},
		{"DELETE", "/flow/total/json", "", 404, nil},
		{"POST", "/version", "", 405, nil},
	} {
		status, body := call(t, srv, c.method, c.path, c.body)
		if status != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, status, c.status, body)
			continue
		}
		for _, want := range c.contains {
			if !strings.Contains(body, want) {
				t.Errorf("%s %s: %.300s\nlacks %s", c.method, c.path, body, want)
			}
		}
		if status >= 400 && strings.Count(strings.TrimSpace(body), "\n") > 0 {
			t.Errorf("%s %s: error is not one line: %q", c.method, c.path, body)
		}
	}
}

func TestFlowValueMatchesActiveFlows(t *testing.T) {
	srv := testServer(t, false)
	_, body := call(t, srv, "GET", "/activeflows/10.255.0.1/pairs/json?maxFlows=1", "")
	var top []struct {
		Key, DataSource string
		Value           float64
	}
	json.Unmarshal([]byte(body), &top)
	_, body = call(t, srv, "GET", "/flowvalue/10.255.0.1/"+top[0].DataSource+".pairs/json?key="+top[0].Key, "")
	var v float64
	json.Unmarshal([]byte(body), &v)
	if v != top[0].Value {
		t.Errorf("flowvalue %v, activeflows %v", v, top[0].Value)
	}
}

func TestReadOnly(t *testing.T) {
	srv := testServer(t, true)
	for _, m := range []string{"PUT", "DELETE", "POST"} {
		if status, body := call(t, srv, m, "/flow/pairs/json", "{value:'frames'}"); status != 403 || !strings.Contains(body, "read-only") {
			t.Errorf("%s: %d %s", m, status, body)
		}
	}
	if status, _ := call(t, srv, "GET", "/flow/pairs/json", ""); status != 200 {
		t.Errorf("GET in read-only: %d", status)
	}
}
