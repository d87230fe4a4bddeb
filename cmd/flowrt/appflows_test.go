package main_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// attack sends, over UDP to the engine, a flood at target from n distinct
// sources seen at two ports of one agent (sources alternate between ports
// 1 and 2): each source three UDP packets of random IP length, sampled 1
// in 10. It returns the IP lengths sent.
func attack(t *testing.T, to string, n int, target netip.Addr) []int {
	t.Helper()
	c, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	var sizes []int
	var seq [3]uint32
	var pool [3]uint32
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.255.9.1"), Uptime: 1000}
	flush := func() {
		d.NumSamples = uint32(len(d.Samples))
		seq[0]++
		d.Sequence = seq[0]
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		d.Samples = d.Samples[:0]
		time.Sleep(time.Millisecond) // gentle on the socket buffer
	}
	for round := range 3 {
		for i := range n {
			size := 64 + rng.IntN(1400)
			sizes = append(sizes, size)
			src := netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
			hdr := make([]byte, 14+28)
			copy(hdr[0:], []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0})
			ip := hdr[14:]
			ip[0] = 0x45
			binary.BigEndian.PutUint16(ip[2:], uint16(size))
			ip[8], ip[9] = 64, 17
			s4, d4 := src.As4(), target.As4()
			copy(ip[12:], s4[:])
			copy(ip[16:], d4[:])
			binary.BigEndian.PutUint16(ip[20:], uint16(1024+round))
			binary.BigEndian.PutUint16(ip[22:], 7)
			binary.BigEndian.PutUint16(ip[24:], uint16(size-20))
			rec, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: uint32(size + 18), Stripped: 4, Header: hdr})
			if err != nil {
				t.Fatal(err)
			}
			port := uint32(1 + i%2)
			seq[port]++
			pool[port] += 10
			d.Samples = append(d.Samples, sflow.Sample{Format: sflow.FlowSample, Sequence: seq[port], SourceIndex: port,
				SamplingRate: 10, SamplePool: pool[port], Input: sflow.Interface{Value: port}, Output: sflow.Interface{Value: 9},
				Records: []sflow.Record{rec}})
			if len(d.Samples) == 8 {
				flush()
			}
		}
	}
	if len(d.Samples) > 0 {
		flush()
	}
	return sizes
}

// TestAppFlowDefinitions loads an application that defines its flows and
// thresholds as InMon's DDoS and fabric applications do — settings read
// with getSystemProperty (strings) passed as t, n, value and timeout,
// values 'count:ipsource,avg:ipbytes', aggMode 'AGENT', a threshold named
// with '.' whose filter holds a number, activeFlows with aggMode 'MAX' —
// floods a target from 200 sources over two ports, and checks what the
// application sees against what was sent.
func TestAppFlowDefinitions(t *testing.T) {
	dir := t.TempDir()
	js := `
var flowT = getSystemProperty('ddostest.flow_t') || '2';
var level = getSystemProperty('ddostest.threshold') || '100';
setFlow('attack', {keys:'ipdestination,ipprotocol', value:'frames', values:'count:ipsource,avg:ipbytes',
  filter:'first:stack:.:ip:ip6=ip', aggMode:'AGENT', t:flowT, n:'10'});
setFlow('perport', {keys:'ipdestination', value:'frames', values:['count:ipsource'], t:flowT});
setFlow('attackrec', {keys:'ipdestination', value:'frames', values:['count:ipsource','avg:ipbytes','min:ipbytes','max:ipbytes'],
  log:true, t:'1'});
setThreshold('attack', {metric:'attack', value:'1e12', byFlow:true, timeout:'60'});
setThreshold('fm-2.5G-4-elephant', {metric:'perport', value:1e12, byFlow:true, filter:{ifspeed:[10000000000]}});
var events = [], records = [];
setEventHandler(function(evt) { events.push({key:evt.flowKey, values:evt.values, agent:evt.agent, dataSource:evt.dataSource}); }, ['attack']);
setFlowHandler(function(rec) { records.push({key:rec.flowKeys, values:rec.values}); }, ['attackrec']);
setHttpHandler(function(req) {
  switch(req.path[0]) {
  case 'top': return activeFlows('ALL', 'attack', 5, 0, 'MAX');
  case 'perport': return activeFlows('ALL', 'perport', 5, 0, 'sum');
  case 'locations': return flowLocations('ALL', 'perport', '192.0.2.80');
  case 'fresh': setFlow('fresh', {keys:'ipsource', value:'frames', n:'5'}); return activeFlows('ALL', 'fresh', 5);
  case 'arm': setThreshold('attack', {metric:'attack', value:level, byFlow:true, timeout:'60'}); return true;
  case 'events': return events;
  case 'records': return records;
  case 'refused':
    var out = {};
    [['t', {value:'frames', t:'soon'}], ['ipfix', {keys:'dnsqname', value:'frames', ipfixCollectors:['127.0.0.1']}],
     ['timeout', {metric:'attack', value:10, timeout:'later'}]].forEach(function(c) {
      try { if(c[0] == 'timeout') setThreshold('x', c[1]); else setFlow('x', c[1]); out[c[0]] = 'accepted'; }
      catch(e) { out[c[0]] = String(e); }
    });
    return out;
  default: throw 'not_found';
  }
});
`
	os.MkdirAll(filepath.Join(dir, "ddostest", "scripts"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "ddostest", "scripts", "ddos.js"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, "-Dapp.dir="+dir, "-Dddostest.threshold=100")
	app := func(path string, v any) { e.get(t, "/app/ddostest/scripts/ddos.js/"+path+"/json", v) }

	var status map[string]any
	if code, body := e.do(t, "GET", "/app/ddostest/status", ""); code != 200 {
		t.Fatalf("the application did not load: %d %s\n%s", code, body, e.logText())
	}
	_ = status
	// A flow just defined has no flows yet: [] (the prometheus app's
	// first scrape), not null.
	if code, body := e.do(t, "GET", "/app/ddostest/scripts/ddos.js/fresh/json", ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("activeFlows of a new flow: %d %q, want []", code, body)
	}
	var refused map[string]string
	app("refused", &refused)
	for what, want := range map[string]string{"t": `t: "soon" is not a number`, "ipfix": `key "dnsqname" has no IPFIX element`, "timeout": `timeout: "later" is not a number`} {
		if !strings.Contains(refused[what], want) {
			t.Errorf("setFlow/setThreshold with bad %s: %q, want an exception saying %s", what, refused[what], want)
		}
	}
	var th map[string]any
	e.get(t, "/threshold/fm-2.5G-4-elephant/json", &th)
	if f, _ := json.Marshal(th["filter"]); string(f) != `{"ifspeed":["10000000000"]}` {
		t.Errorf("the threshold's filter is %s, want ifspeed 10000000000 as text", f)
	}
	var fl map[string]any
	e.get(t, "/flow/attack/json", &fl)
	if fl["t"] != 2.0 || fl["n"] != 10.0 || fl["aggMode"] != "agent" || fl["values"] != "count:ipsource,avg:ipbytes" {
		t.Errorf("GET /flow/attack/json = %v", fl)
	}

	target := netip.MustParseAddr("192.0.2.80")
	const sources = 200
	sizes := attack(t, e.sflow, sources, target)
	mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, s := range sizes {
		mean += float64(s) / float64(len(sizes))
		lo, hi = min(lo, float64(s)), max(hi, float64(s))
	}
	type active struct {
		Key        string
		Value      float64
		Values     []float64
		Agent      string
		DataSource string
	}
	var top []active
	deadline := time.Now().Add(5 * time.Second)
	for {
		app("top", &top)
		if len(top) == 1 && top[0].Value > 0 && math.Abs(top[0].Values[0]-sources) < 0.1*sources || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// AGENT pools both ports: one flow at the agent, all 200 sources.
	if len(top) != 1 || top[0].Key != "192.0.2.80,17" || top[0].DataSource != "agent" || top[0].Agent != "10.255.9.1" || len(top[0].Values) != 2 {
		t.Fatalf("activeFlows('ALL','attack',5,0,'MAX') = %+v", top)
	}
	if c := top[0].Values[0]; math.Abs(c-sources) > 3*0.092*sources {
		t.Errorf("count:ipsource = %.1f, want %d within 3 standard errors (9.2%% each)", c, sources)
	} else {
		t.Logf("count:ipsource = %.1f of %d sources", c, sources)
	}
	// The samples came within a few hundred ms: the smoothing weights
	// differ by well under 1% (t = 2 s), so avg is the plain mean to 1%.
	if a := top[0].Values[1]; math.Abs(a-mean) > 0.01*mean {
		t.Errorf("avg:ipbytes = %.2f, the mean of the sampled ipbytes is %.2f", a, mean)
	}
	// Per data source, each port saw half the sources; sum merges the two
	// ports' counts (a sum, not a union: docs/engine.md).
	var per []active
	app("perport", &per)
	if len(per) != 1 || math.Abs(per[0].Values[0]-sources) > 3*0.092*sources {
		t.Errorf("perport (sum of two ports of %d sources each) = %+v", sources/2, per)
	}
	// Where the flow is seen: both ports, each with its own count.
	var locs []active
	app("locations", &locs)
	if len(locs) != 2 || len(locs[0].Values) != 1 || math.Abs(locs[0].Values[0]+locs[1].Values[0]-per[0].Values[0]) > 1e-9 {
		t.Errorf("flowLocations = %+v, want the two ports, their counts adding to %v", locs, per)
	}
	// The REST query agrees, aggMode in capitals, filter applied.
	var rest []active
	e.get(t, "/activeflows/ALL/attack/json?aggMode=MAX&filter=192.0.2.*", &rest)
	if len(rest) != 1 || rest[0].Values[0] != top[0].Values[0] {
		t.Errorf("/activeflows?aggMode=MAX&filter=192.0.2.* = %+v", rest)
	}
	e.get(t, "/activeflows/ALL/attack/json?filter=10.*", &rest)
	if len(rest) != 0 {
		t.Errorf("/activeflows?filter=10.* = %+v, want none", rest)
	}

	// Arm the threshold at the property's level ('100' frames/s): the
	// event carries the values.
	var ok bool
	app("arm", &ok)
	var events []struct {
		Key, Agent, DataSource string
		Values                 []float64
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(events) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		app("events", &events)
	}
	if len(events) != 1 || events[0].Key != "192.0.2.80,17" || events[0].DataSource != "agent" || len(events[0].Values) != 2 ||
		math.Abs(events[0].Values[0]-sources) > 3*0.092*sources || math.Abs(events[0].Values[1]-mean) > 0.01*mean {
		t.Errorf("events = %+v, want one for 192.0.2.80,17 at the agent with [~%d, %.1f]", events, sources, mean)
	}

	// The flow record, when the flow ends (t = 1 s: 4 s without samples),
	// reports the flow's life: the exact mean, extremes and the count.
	var records []struct {
		Key    string
		Values []float64
	}
	deadline = time.Now().Add(12 * time.Second)
	for len(records) < 2 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		app("records", &records)
	}
	if len(records) != 2 {
		t.Fatalf("flow records: %+v, want one per port", records)
	}
	var recCount float64
	for _, r := range records {
		if r.Key != "192.0.2.80" || len(r.Values) != 4 || r.Values[2] < lo || r.Values[3] > hi || r.Values[2] > r.Values[3] {
			t.Errorf("record %+v", r)
		}
		recCount += r.Values[0]
	}
	if math.Abs(recCount-sources) > 3*0.092*sources {
		t.Errorf("the two ports' records count %.1f sources together, want %d", recCount, sources)
	}
	// Each port's mean weighs its own samples; together, by sample count
	// (the same at both ports), they make the mean of all.
	if m := (records[0].Values[1] + records[1].Values[1]) / 2; math.Abs(m-mean) > 1e-6*mean {
		t.Errorf("the records' avg:ipbytes average %.4f, the mean of the sampled ipbytes is %.4f", m, mean)
	}
	if min(records[0].Values[2], records[1].Values[2]) != lo || max(records[0].Values[3], records[1].Values[3]) != hi {
		t.Errorf("records' min/max %v %v, want %v and %v", records[0].Values, records[1].Values, lo, hi)
	}
	// /flows/json carries the same values.
	var logged []struct {
		Name   string
		Values []float64
	}
	e.get(t, "/flows/json?name=attackrec&maxFlows=10", &logged)
	if len(logged) != 2 || len(logged[0].Values) != 4 || logged[0].Values[1] == 0 {
		t.Errorf("/flows/json = %+v", logged)
	}
}

// TestRESTFlowDefinitionStrings: the REST bodies take numbers as strings
// as the JavaScript calls do, refuse what is not a number naming the
// attribute, and answer [] for a flow without flows.
func TestRESTFlowDefinitionStrings(t *testing.T) {
	e := startEngine(t)
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"PUT", "/flow/s/json", `{"keys":"ipsource","value":"frames","t":"2","n":"10","aggMode":"SUM"}`, 204, ""},
		{"GET", "/activeflows/ALL/s/json", "", 200, "[]"},
		{"GET", "/activeflows/ALL/s/json?aggMode=Max", "", 200, "[]"},
		{"GET", "/activeflows/ALL/s/json?filter=10.*", "", 200, "[]"},
		{"GET", "/activeflows/ALL/s/json?aggMode=most", "", 400, `aggMode "most" is not one of`},
		{"PUT", "/flow/s/json", `{"keys":"ipsource","value":"frames","t":"2 s"}`, 400, `t: "2 s" is not a number`},
		{"PUT", "/flow/s/json", `{"keys":"ipsource,dnsqname","value":"frames","ipfixCollectors":["127.0.0.1"]}`, 400, `key "dnsqname" has no IPFIX element`},
		{"PUT", "/flow/v/json", `{"keys":"ipdestination","value":"frames","values":"count:ipsource,avg:ipbytes"}`, 204, ""},
		{"PUT", "/flow/v/json", `{"keys":"ipdestination","value":"frames","values":"avg:nokey"}`, 400, "nokey"},
		{"PUT", "/threshold/fm-2.5G-4-elephant/json", `{"metric":"s","value":"1000","timeout":"60","filter":{"ifspeed":[10000000000]}}`, 204, ""},
		{"GET", "/threshold/fm-2.5G-4-elephant/json", "", 200, `"10000000000"`},
		{"PUT", "/threshold/t1/json", `{"metric":"s","value":"lots"}`, 400, `value: "lots" is not a number`},
		{"PUT", "/threshold/../json", `{"metric":"s","value":1}`, 0, ""},
	} {
		code, body := e.do(t, c.method, c.path, c.body)
		if c.code == 0 {
			if code < 400 {
				t.Errorf("%s %s: %d, want a refusal", c.method, c.path, code)
			}
			continue
		}
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %q, want %d with %q", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	var s map[string]any
	e.get(t, "/flow/s/json", &s)
	if s["t"] != 2.0 || s["n"] != 10.0 || s["aggMode"] != "sum" {
		t.Errorf("GET /flow/s/json = %v", s)
	}
	var th map[string]any
	e.get(t, "/threshold/fm-2.5G-4-elephant/json", &th)
	if th["value"] != 1000.0 || th["timeout"] != 60.0 {
		t.Errorf("GET threshold = %v", th)
	}
}
