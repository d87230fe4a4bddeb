package flow

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
)

// sampleOf makes a Sample from the first flow sample of a synthetic
// datagram whose only flow is of the given protocol.
func sampleOf(t testing.TB, p synth.Proto) *Sample {
	t.Helper()
	g, err := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplesPerDgram: 1, SamplingRate: 100, Mix: []synth.Proto{p}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.Datagram(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var d sflow.Datagram
	if err := sflow.Decode(b, &d); err != nil {
		t.Fatal(err)
	}
	var rc sflow.RecordCache
	smp := d.Samples[0]
	s := &Sample{Agent: d.Agent, DataSource: "1", SourceIndex: smp.SourceIndex, SamplingRate: smp.SamplingRate,
		Input: smp.Input, Output: smp.Output}
	v, err := rc.Decode(smp.Format, smp.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	h := v.(*sflow.SampledHeader)
	s.FrameLength, s.Stripped, s.HasHeader = h.FrameLength, h.Stripped, true
	s.Packet.Decode(h.Protocol, append([]byte(nil), h.Header...))
	return s
}

func keyValue(t *testing.T, s *Sample, expr string) (string, bool) {
	t.Helper()
	e, err := NewCompiler().Key(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	b, ok := e.AppendValue(s, nil)
	return string(b), ok
}

func TestKeysAndFunctions(t *testing.T) {
	dns := sampleOf(t, synth.DNS)
	unreach := sampleOf(t, synth.Unreachable)
	for _, c := range []struct {
		s    *Sample
		expr string
		want string
		ok   bool
	}{
		{dns, "dnsqname", "host0.example0.com.", true},
		{dns, "suffix:dnsqname:.:2", "example0.com.", true},
		{dns, "prefix:dnsqname:.:1", "host0", true},
		{dns, "dnsqtypename", "ANY(255)", true},
		{dns, "agent", "10.255.0.1", true},
		{dns, "inputifindex", "1", true},
		{dns, "direction", "ingress", true},
		{dns, "stack", "eth.ip.udp.dns", true},
		{dns, "first:stack:.:ip6:ip", "ip", true},
		{dns, "or:ip6source:ipsource", "10.0.0.0", true},
		{dns, "ip6source", "", false},
		{dns, "null:ip6source", "null", true},
		{dns, "null:ip6source:none", "none", true},
		{dns, "mask:ipdestination:16", "192.168.0.0", true},
		{dns, "range:udpdestinationport:1:1023", "true", true},
		{dns, "range:udpsourceport:1:1023", "false", true},
		{dns, "eq:ipsource:ipdestination", "false", true},
		{dns, `concat:-:ipsource:udpdestinationport`, "10.0.0.0-53", true},
		{dns, "if:[first:stack:.:ip:ip6]:ip:ipsource:ip6source", "10.0.0.0", true},
		{dns, "if:ipprotocol:6:tcp:other", "other", true},
		{dns, "bits:udpsourceport:0xff00", "1024", true},
		{unreach, "icmpunreachableport", "udp_30000", true},
		{unreach, "ipdestination", "10.0.0.0", true},
	} {
		got, ok := keyValue(t, c.s, c.expr)
		if ok != c.ok || got != c.want {
			t.Errorf("%s = %q, %v; want %q, %v", c.expr, got, ok, c.want, c.ok)
		}
	}
}

func TestKeyErrorsNameTheToken(t *testing.T) {
	c := NewCompiler()
	for expr, want := range map[string]string{
		"ipsorce":                 `"ipsorce": unknown flow key`,
		"sufix:dnsqname:.:2":      `unknown key function "sufix"`,
		"suffix:dnsqname:.":       "usage suffix",
		"mask:ipsource:x":         `mask bits "x"`,
		"or:[ipsource:ip6source":  "'[' without ']'",
		"group:ipsource:external": `unknown key function "group"`,
	} {
		_, err := c.Key(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %s", expr, err, want)
		}
	}
}

func TestFilters(t *testing.T) {
	dns := sampleOf(t, synth.DNS)
	tcp := sampleOf(t, synth.TCP)
	c := NewCompiler()
	long := []string{}
	for i := range 16000 {
		long = append(long, "x"+strings.Repeat("y", i%7)+".example.")
	}
	long = append(long, "host0.example0.com.")
	for _, f := range []struct {
		filter string
		s      *Sample
		want   bool
	}{
		{"dnsqr=false&dnsqtype=255", dns, true},
		{"dnsqr=false&dnsqtype=1", dns, false},
		{"dnsqr=true|dnsqtype=255", dns, true},
		{"ipprotocol=6,17", dns, true},
		{"ipprotocol!=6", dns, true},
		{"(ipprotocol=6|ipprotocol=1)&dnsqr=false", dns, false},
		{"tcpflags~....1..0.", tcp, true}, // ACK, not SYN
		{"tcpflags~.......1.", tcp, false},
		{"dnsqname~^host[0-9]+\\.", dns, true},
		{"dnsqname!~example", dns, false},
		{"vxlanvni=null", dns, true},
		{"vxlanvni!=null", dns, false},
		{"ipsource=10.0.0.0&ipdestination=192.168.0.1", dns, true},
		{`dnsqname="` + strings.Join(long, ",") + `"`, dns, true},
		{`dnsqname="` + strings.Join(long[:100], ",") + `"`, dns, false},
		{"range:udpdestinationport:53=true", dns, true},
	} {
		flt, err := c.Filter(f.filter)
		if err != nil {
			t.Fatalf("%.60s: %v", f.filter, err)
		}
		var buf []byte
		if got := flt.Match(f.s, &buf); got != f.want {
			t.Errorf("%.60s: %v, want %v", f.filter, got, f.want)
		}
	}
	for src, want := range map[string]string{
		"ipprotocol":         "no operator",
		"ipprotocol=6&":      "expected a comparison",
		"(ipprotocol=6":      "expected ')'",
		"ipsorce=1":          "unknown flow key",
		"dnsqname~(":         "bad regular expression",
		"ipprotocol=":        "missing value",
		`dnsqname="a.com.,b`: "unterminated",
	} {
		_, err := c.Filter(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %s", src, err, want)
		}
	}
}

func TestParseSpecSeedForms(t *testing.T) {
	s, err := ParseSpec([]byte("{keys:'ipdestination,icmpunreachableport', value:'frames', t:20, log:true, flowStart:true}"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 2 || s.Value != "frames" || s.T != 20 || !s.Log || !s.FlowStart || s.N != DefaultN || s.FS != "," || s.ActiveTimeout != 60 {
		t.Errorf("spec %+v", s)
	}
	s, err = ParseSpec([]byte(`{"keys":["ipsource","if:[first:stack:.:ip:ip6]:ip:ipsource:ip6source"],"value":"bytes","n":50,"t":0.01}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 2 || s.N != 50 || s.T != 0.01 {
		t.Errorf("array keys: %+v", s)
	}
	// Beyond sFlow-RT's limits: clamped when stored, each change noted.
	stored, notes := s.Stored()
	if stored.N != MaxN || stored.T != MinT || len(notes) != 2 || !strings.Contains(notes[0], "n: 50 is above 20") ||
		!strings.Contains(notes[1], "stored as 0.1") {
		t.Errorf("stored %+v, notes %q", stored, notes)
	}
	if _, notes := (Spec{Value: "frames", N: 20, T: 600, IPFIX: []string{"10.0.0.1"}}).Stored(); len(notes) != 0 {
		t.Errorf("at the limits, with IPFIX collectors: notes %q", notes)
	}
	for body, want := range map[string]string{
		"{keys:'ipsource'}":                           "needs a value",
		"{keys:'ipsource', value:frames}":             "strings need quotes",
		"{keys:'a', value:'frames', x:1}":             `unknown flow definition attribute "x"`,
		"{value:'frames', t:0}":                       "t: 0 is out of range: the smoothing time constant in seconds, 0.1 to 600",
		"{value:'frames', t:-2}":                      "t: -2 is out of range",
		"{value:'frames', n:0}":                       "n: 0 is out of range: the number of largest flows kept per data source, 1 to 20",
		"{value:'frames', n:-5}":                      "n: -5 is out of range",
		"{value:'frames', n:2.5}":                     "n",
		"{value:'frames', activeTimeout:0}":           "activeTimeout: 0 is out of range",
		"{value:'frames', activeTimeout:1e9}":         "activeTimeout: 1000000000 is out of range",
		"{value:'frames', fs:''}":                     "fs: the separator between key values must not be empty",
		"{value:'frames', aggMode:'total'}":           `aggMode: "total" is not one of max, sum, avg, edge, core or AGENT`,
		"{value:'frames', keys:'ipsource', n:'five'}": `n: "five" is not a number`,
		"{value:'frames', t:'2s'}":                    `t: "2s" is not a number`,
		"{value:'frames', n:'2.5'}":                   "n: got number 2.5, want a whole number",
		"{keys:'ipsource,dnsqname', value:'bytes', ipfixCollectors:['127.0.0.1']}":         `ipfixCollectors: key "dnsqname" has no IPFIX element`,
		"{keys:'ipsource', value:'frames', values:['fcs'], ipfixCollectors:['127.0.0.1']}": `ipfixCollectors: value "fcs" has no IPFIX element`,
		"{keys:'ipsource', value:'frames', flowStart:true, ipfixCollectors:['127.0.0.1']}": "flowStart:true",
		"{keys:'ipsource', value:'frames', ipfixCollectors:['127.0.0.1:0']}":               `port "0" is not 1 to 65535`,
		"{keys:'ipsource', value:'frames', ipfixCollectors:['a b']}":                       "not a host or host:port",
	} {
		if _, err := ParseSpec([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}

// TestSmoothing checks the documented formula: a steady rate r converges
// to r; after the flow stops its value decays by e every t seconds; epochs
// (landmark moves) do not disturb it.
func TestSmoothing(t *testing.T) {
	c := NewCompiler()
	d, err := c.Define("f", Spec{Value: "frames", T: 2})
	if err != nil {
		t.Fatal(err)
	}
	var lim Limits
	lim.MaxFlows = 100
	tb := NewTable(d, 1, &lim)
	const rate = 1000.0                  // per second
	now := int64(1_700_000_000_000 - 50) // just before an epoch boundary for t=2 (every 200 s)
	for range 2000 {                     // 20 s: a sample worth 10 frames every 10 ms
		g, ep := d.Factor(now)
		tb.Add([]byte("k"), rate/100, nil, now, g, ep)
		now += 10
	}
	now -= 10
	v, ok := tb.ValueOf("k", now)
	if !ok || math.Abs(v-rate)/rate > 0.01 {
		t.Fatalf("steady rate: %v, want %v within 1%%", v, rate)
	}
	later, _ := tb.ValueOf("k", now+2000)
	if r := later / v; math.Abs(r-math.Exp(-1)) > 0.001 {
		t.Errorf("after t the value is %.4f of before, want 1/e", r)
	}
}

func TestTablePoolAndGlobalLimit(t *testing.T) {
	c := NewCompiler()
	d, _ := c.Define("f", Spec{Keys: Names{"ipsource"}, Value: "frames", N: 5})
	var lim Limits
	lim.MaxFlows = 1000
	tb := NewTable(d, 1, &lim)
	now := int64(1_700_000_000_000)
	g, ep := d.Factor(now)
	// One heavy flow, then a flood of unique small ones.
	for range 50 {
		tb.Add([]byte("heavy"), 1, nil, now, g, ep)
	}
	for i := range 10_000 {
		tb.Add([]byte(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()), 1, nil, now, g, ep)
	}
	if tb.Len() > MinPool {
		t.Errorf("table holds %d flows, pool is %d", tb.Len(), MinPool)
	}
	if lim.Flows.Load() != int64(tb.Len()) || lim.Evicted.Load() == 0 {
		t.Errorf("limits: flows %d (table %d), evicted %d", lim.Flows.Load(), tb.Len(), lim.Evicted.Load())
	}
	top := tb.Top(nil, 1, now)
	if len(top) != 1 || top[0].Key != "heavy" {
		t.Errorf("the heavy flow was evicted: top %+v", top)
	}
	tb.Clear()
	if lim.Flows.Load() != 0 {
		t.Errorf("after Clear %d flows are counted", lim.Flows.Load())
	}
}

func TestEvalAllocatesNothing(t *testing.T) {
	s := sampleOf(t, synth.DNS)
	c := NewCompiler()
	d, err := c.Define("f", Spec{Keys: Names{"ipsource", "suffix:dnsqname:.:2", "mask:ipdestination:24"}, Value: "bytes",
		Filter: "dnsqr=false&ipprotocol=17,6"})
	if err != nil {
		t.Fatal(err)
	}
	var sc Scratch
	d.Eval(s, &sc)
	if n := testing.AllocsPerRun(100, func() { d.Eval(s, &sc) }); n != 0 {
		t.Errorf("Eval allocates %v times", n)
	}
	// A numeric key as the value, and extra values, with no filter.
	d2, err := c.Define("g", Spec{Keys: Names{"ipprotocol"}, Value: "ipbytes", Values: Names{"udpbytes", "frames"}})
	if err != nil {
		t.Fatal(err)
	}
	var sc2 Scratch
	d2.Eval(s, &sc2)
	if n := testing.AllocsPerRun(100, func() { d2.Eval(s, &sc2) }); n != 0 {
		t.Errorf("Eval with a numeric value allocates %v times", n)
	}
	if v, ok := d.Eval(s, &sc); !ok || string(sc.Key) != "10.0.0.0,example0.com.,192.168.0.0" || v != float64(s.FrameLength)*100 {
		t.Errorf("Eval = %v %v key %q", v, ok, sc.Key)
	}
}

// FuzzFilter compiles arbitrary filters and key expressions: they are
// accepted or rejected with an error, never a panic, and a compiled one
// evaluates on real samples without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{"dnsqr=false&dnsqtype=255", "tcpflags~....1..1.", "(ipprotocol=6|ipprotocol=17)&ipsource!=10.0.0.1",
		`dnsqname="a.,b.,c."`, "vxlanvni!=null", "range:ipfragoffset:1=true", "suffix:dnsqname:.:2=example.com.",
		"if:[first:stack:.:ip:ip6]:ip:ipsource:ip6source~^10\\.", "mask:ipsource:8=10.0.0.0", "concat:\\::ipsource:ipprotocol=x"} {
		f.Add(s)
	}
	samples := []*Sample{sampleOf(f, synth.DNS), sampleOf(f, synth.TCP), sampleOf(f, synth.Unreachable), {}}
	c := NewCompiler()
	f.Fuzz(func(t *testing.T, src string) {
		var buf []byte
		if flt, err := c.Filter(src); err == nil {
			for _, s := range samples {
				flt.Match(s, &buf)
			}
		}
		if k, err := c.Key(src); err == nil {
			for _, s := range samples {
				k.AppendValue(s, buf[:0])
			}
		}
	})
}

func TestTransactionKeys(t *testing.T) {
	s := &Sample{HTTP: &HTTP{Method: 2, Status: 200, Duration: 1500, URI: []byte("/index.html?x=1"), Host: []byte("www.example.com")},
		TCPInfo: &sflow.ExtendedTCPInfo{RTT: 2500, Lost: 3}}
	for expr, want := range map[string]string{"httpmethod": "GET", "httpstatus": "200", "httpurl": "http://www.example.com/index.html?x=1",
		"uripath": "/index.html", "httphost": "www.example.com", "duration": "1500", "requests": "1", "tcprtt": "2500", "tcplost": "3",
		"suffix:httphost:.:2": "example.com", "uri:httpurl:host": "www.example.com", "uri:httpurl:path": "/index.html",
		"uri:httpurl:query": "x=1", "uri:httpurl:extension": "html", "uri:httpurl:file": "index.html",
		"uri:httpurl:scheme": "http", "prefix:[uri:httpurl:path]:/:2": "/index.html"} {
		if got, ok := keyValue(t, s, expr); !ok || got != want {
			t.Errorf("%s = %q %v, want %q", expr, got, ok, want)
		}
	}
	if _, ok := keyValue(t, &Sample{}, "requests"); ok {
		t.Error("requests on a packet sample")
	}
}

// TestParseSpecStrings: InMon's apps pass getSystemProperty strings where
// numbers go (ddos-protect's t, heatmap's n) and spell aggMode in capitals.
func TestParseSpecStrings(t *testing.T) {
	s, err := ParseSpec([]byte(`{keys:'ipsource', value:'frames', t:'2', n:' 10 ', activeTimeout:'30', log:'true', aggMode:'AGENT'}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 2 || s.N != 10 || s.ActiveTimeout != 30 || !s.Log || s.AggMode != AggAgent {
		t.Errorf("spec %+v", s)
	}
	// Strict JSON, as a REST body or JSON.stringify gives it.
	s, err = ParseSpec([]byte(`{"keys":"ipsource","value":"bytes","t":"0.5","n":"20","aggMode":"MAX"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 0.5 || s.N != 20 || s.AggMode != "max" {
		t.Errorf("spec %+v", s)
	}
}

// TestRequestsOnDNSPackets: Flow Trend's DNS views count requests on switch
// samples: each sampled DNS message is one request, scaled by the sampling
// rate; other packets are none.
func TestRequestsOnDNSPackets(t *testing.T) {
	c := NewCompiler()
	for body, want := range map[string]string{
		"{keys:'dnsqname', value:'requests', filter:''}":                         "host0.example0.com.",
		"{keys:'or:ipsource:ip6source', value:'requests', filter:'dnsqr=false'}": "10.0.0.0",
	} {
		spec, err := ParseSpec([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Define("dns", spec)
		if err != nil {
			t.Fatal(err)
		}
		var sc Scratch
		s := sampleOf(t, synth.DNS)
		if v, ok := d.Eval(s, &sc); !ok || v != float64(s.SamplingRate) || string(sc.Key) != want {
			t.Errorf("%s on a DNS query: %v %v key %q, want %d requests/sample for %s", body, v, ok, sc.Key, s.SamplingRate, want)
		}
		if _, ok := d.Eval(sampleOf(t, synth.TCP), &sc); ok {
			t.Errorf("%s: a TCP packet counts as a request", body)
		}
	}
}
