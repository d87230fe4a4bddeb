package engine

import (
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
)

var src = netip.MustParseAddrPort("127.0.0.1:40000")

// tenDefinitions are the definitions the benchmark and the allocation test
// run: the seeds' ICMP unreachable and DNS ones and common traffic views.
var tenDefinitions = map[string]string{
	"uports":     "{keys:'icmpunreachableport', value:'frames', t:20}",
	"dnsqueries": "{keys:'dnsqtypename', value:'frames', filter:'dnsqr=false', t:20}",
	"dnsqany":    "{keys:'dnsqname', value:'frames', filter:'dnsqr=false&dnsqtype=255', t:20}",
	"dnsqanytot": "{value:'frames', filter:'dnsqr=false&dnsqtype=255', t:20}",
	"pairs":      "{keys:'ipsource,ipdestination', value:'bytes'}",
	"tcp":        "{keys:'ipsource,ipdestination,tcpsourceport,tcpdestinationport', value:'bytes', filter:'ipprotocol=6'}",
	"udp":        "{keys:'ipsource,ipdestination,udpsourceport,udpdestinationport', value:'frames', filter:'ipprotocol=17'}",
	"stack":      "{keys:'stack', value:'frames'}",
	"subnets":    "{keys:'mask:ipsource:24,mask:ipdestination:24', value:'bytes', n:20}",
	"total":      "{value:'bytes'}",
}

// defineAll defines the flows of defs (name → body as PUT), or the ten
// definitions when defs is nil.
func defineAll(t testing.TB, e *Engine, defs map[string]string) {
	t.Helper()
	if defs == nil {
		defs = tenDefinitions
	}
	for name, body := range defs {
		spec, err := flow.ParseSpec([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Define(name, spec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// feed sends n datagrams of g through w, dgPerSec apart in time, with
// counters every 20 s; it returns the time after the last one.
func feed(t testing.TB, w *Worker, g *synth.Generator, start time.Time, n int, dgPerSec float64, skip func(i int) bool) time.Time {
	now := start
	step := time.Duration(float64(time.Second) / dgPerSec)
	nextCounters := start
	for i := range n {
		up := uint32(now.Sub(start).Milliseconds()) + 5000
		if !now.Before(nextCounters) {
			dgs, err := g.Counters(nil, up)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dgs {
				w.Process(d, src, now)
			}
			nextCounters = nextCounters.Add(20 * time.Second)
		}
		b, err := g.Datagram(nil, up)
		if err != nil {
			t.Fatal(err)
		}
		if skip == nil || !skip(i) {
			w.Process(b, src, now)
		}
		now = now.Add(step)
	}
	return now.Add(-step)
}

func TestRatesMatchWhatWasSent(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, nil)
	g, err := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 100, SamplingRate: 100, SamplesPerDgram: 8, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	const dgps = 500.0                             // 4000 samples/s
	end := feed(t, w, g, start, 30_000, dgps, nil) // 60 s: many time constants of t=2 and t=20

	flows, err := e.ActiveFlows(AllAgents, "pairs", 3, 0, "max", end)
	if err != nil {
		t.Fatal(err)
	}
	f0 := g.Flows()[0]
	want := g.Share(0) * 8 * dgps * 100 * float64(f0.Size) // bytes/s
	if len(flows) == 0 || flows[0].Key != f0.Key() {
		t.Fatalf("top flow %+v, want %s", flows, f0.Key())
	}
	// Sampling noise: the flow had ≈ share·240,000 samples; smoothing
	// over t=2 s sees ≈ share·8,000 of them.
	if err := math.Abs(flows[0].Value-want) / want; err > 0.1 {
		t.Errorf("top flow %.0f bytes/s, sent %.0f (%.1f%% off)", flows[0].Value, want, 100*err)
	}
	// Keyless total: all traffic.
	st, err := e.Metric(AllAgents, []string{"sum:total", "sum:ifinoctets"}, nil, end)
	if err != nil {
		t.Fatal(err)
	}
	var all float64
	for i, f := range g.Flows() {
		all += g.Share(i) * 8 * dgps * 100 * float64(f.Size)
	}
	if got := st[0].MetricValue.(float64); math.Abs(got-all)/all > 0.05 {
		t.Errorf("sum:total %.0f, sent %.0f", got, all)
	}
	if got := st[1].MetricValue.(float64); math.Abs(got-all)/all > 0.05 {
		t.Errorf("sum:ifinoctets %.0f, counters say %.0f", got, all)
	}
	info := e.AgentsInfo(AllAgents, end)["10.255.0.1"]
	if info.DatagramsLost != 0 || info.FlowLostSamples != 0 || info.FlowSamples != 240_000 {
		t.Errorf("agent accounting %+v", info)
	}
}

func TestLossAndRestartAccounting(t *testing.T) {
	e := New(Config{})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 2, Flows: 10, SamplesPerDgram: 4, Seed: 3})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	// Lose every 10th flow datagram.
	feed(t, w, g, start, 1000, 100, func(i int) bool { return i%10 == 9 })
	info := e.AgentsInfo(AllAgents, start.Add(10*time.Second))["10.255.0.1"]
	if info.DatagramsLost != 100 && info.DatagramsLost != 99 {
		t.Errorf("lost %d datagrams, want 100 (99 if the last was the lost one)", info.DatagramsLost)
	}
	if info.FlowLostSamples < 350 || info.FlowLostSamples > 400 {
		t.Errorf("lost %d flow samples, want about 400 of 4000", info.FlowLostSamples)
	}
	// A new generator is the same agent restarting: sequence numbers go back.
	g2, _ := synth.New(synth.Config{Agents: 1, Ports: 2, Flows: 10, SamplesPerDgram: 4, Seed: 3})
	feed(t, w, g2, start.Add(20*time.Second), 10, 100, nil)
	info = e.AgentsInfo(AllAgents, start.Add(30*time.Second))["10.255.0.1"]
	if info.Restarts != 1 {
		t.Errorf("restarts %d, want 1", info.Restarts)
	}
}

func TestFlowLogAndExpiry(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, map[string]string{
		"uports": "{keys:'ipdestination,icmpunreachableport', value:'frames', t:2, log:true, flowStart:true}",
		"ends":   "{keys:'ipsource', value:'frames', t:1, log:true}",
	})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 8, SamplesPerDgram: 4, Mix: []synth.Proto{synth.Unreachable}, Seed: 1})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	end := feed(t, w, g, start, 200, 100, nil)
	recs := e.FlowLog().After(t.Context(), -1, 1000, 0, func(r *FlowRecord) bool { return r.Name == "uports" })
	if len(recs) != 8 {
		t.Fatalf("%d flow-start records, want one per flow (8): %+v", len(recs), recs)
	}
	if recs[0].FlowKeys == "" || recs[0].Agent != "10.255.0.1" || recs[len(recs)-1].FlowID >= recs[0].FlowID {
		t.Errorf("records not newest first or incomplete: %+v", recs)
	}
	// After the idle timeout, the "ends" flows end and are logged with their totals.
	e.Sweep(end.Add(5 * time.Second)) // t=1: idle after 4 s
	ended := e.FlowLog().After(t.Context(), -1, 1000, 0, func(r *FlowRecord) bool { return r.Name == "ends" })
	total := 0.0
	for _, r := range ended {
		total += r.Value
	}
	if len(ended) != 8 || total != 200*4*float64(g.Config().SamplingRate) {
		t.Errorf("%d end records totalling %v, want 8 totalling %d", len(ended), total, 200*4*g.Config().SamplingRate)
	}
	if e.Limits().Flows.Load() != 8 { // uports (t=2, idle 8 s) still holds its 8
		t.Errorf("%d flows tracked after expiry, want 8", e.Limits().Flows.Load())
	}
}

func TestProcessAllocatesNothingInSteadyState(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, nil)
	g, _ := synth.New(synth.Config{Agents: 4, Ports: 4, Flows: 200, Seed: 5})
	var dgs [][]byte
	for range 64 {
		b, _ := g.Datagram(nil, 1000)
		dgs = append(dgs, b)
	}
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for range 20 { // learn every agent, data source and flow
		for _, b := range dgs {
			w.Process(b, src, now)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		w.Process(dgs[i%len(dgs)], src, now)
		i++
	})
	if allocs != 0 {
		t.Errorf("Process allocates %.2f times per datagram in steady state", allocs)
	}
}

func TestBadDatagramsAreCountedAndSkipped(t *testing.T) {
	e := New(Config{})
	w := e.NewWorker()
	g, _ := synth.New(synth.Config{Agents: 1, Seed: 1})
	good, _ := g.Datagram(nil, 1000)
	w.Process([]byte{0, 0, 0, 4, 1}, src, time.Now())
	w.Process(good[:len(good)-3], src, time.Now())
	w.Process(good, src, time.Now())
	tot := e.Totals()
	if tot.DecodeErrors["version"] != 1 || tot.DecodeErrors["truncated"]+tot.DecodeErrors["length"] != 1 || tot.Datagrams != 3 {
		t.Errorf("totals %+v", tot)
	}
	if info := e.AgentsInfo(AllAgents, time.Now())["10.255.0.1"]; info.FlowSamples < 8 {
		t.Errorf("the good samples were lost: %+v", info)
	}
}

// runPipeline feeds e's worker 1,024 synthetic datagrams once (tables
// warm), then b.N of them timed, allocations reported; it returns the
// flow samples per datagram.
func runPipeline(b *testing.B, e *Engine) int {
	g, _ := synth.New(synth.Config{Agents: 16, Ports: 16, Flows: 5000, Seed: 9})
	var dgs [][]byte
	for range 1024 {
		d, _ := g.Datagram(nil, 1000)
		dgs = append(dgs, d)
	}
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for _, d := range dgs {
		w.Process(d, src, now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.Process(dgs[i%len(dgs)], src, now)
	}
	return g.Config().SamplesPerDgram
}

// BenchmarkPipeline measures decode → 10 flow definitions → top-N tables,
// per flow sample, on one core.
//
//	go test ./engine -run '^$' -bench Pipeline -benchmem
func BenchmarkPipeline(b *testing.B) {
	e := New(Config{})
	defineAll(b, e, nil)
	samples := runPipeline(b, e)
	b.ReportMetric(float64(b.N*samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
}

// BenchmarkPipelineValues is BenchmarkPipeline's traffic through flows
// with value functions, as ddos-protect defines them (count:ipsource and
// avg:ipbytes, aggMode AGENT; keyed by protocol here so that the agent's
// pooled table holds every flow the traffic has, as the others do: a new
// flow allocates its entry, an update of a known one nothing) and as
// ai-metrics does (a value function as the value, min and max).
//
//	go test ./engine -run '^$' -bench PipelineValues -benchmem
func BenchmarkPipelineValues(b *testing.B) {
	e := New(Config{})
	defineAll(b, e, map[string]string{
		"attack":  "{keys:'ipprotocol', value:'frames', values:'count:ipsource,avg:ipbytes', aggMode:'AGENT', t:'2'}",
		"credits": "{keys:'ipsource', value:'avg:ipbytes', values:['min:ipbytes','max:ipbytes']}",
		"pairs":   "{keys:'ipsource,ipdestination', value:'bytes', values:['frames','count:tcpsourceport']}",
	})
	samples := runPipeline(b, e)
	b.ReportMetric(float64(b.N*samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
}

// BenchmarkActiveFlowsTop100 measures a top-100 query over 100k tracked
// flows (1,000 data sources × 100 flows).
//
//	go test ./engine -run '^$' -bench ActiveFlows -benchmem
func BenchmarkActiveFlowsTop100(b *testing.B) {
	e := New(Config{})
	spec, _ := flow.ParseSpec([]byte("{keys:'ipsource,ipdestination', value:'bytes', n:20}"))
	e.Define("pairs", spec)
	g, _ := synth.New(synth.Config{Agents: 100, Ports: 10, Flows: 200_000, Zipf: 0.5, Seed: 2})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for e.Limits().Flows.Load() < 100_000 {
		d, _ := g.Datagram(nil, 1000)
		w.Process(d, src, now)
	}
	flows := e.Limits().Flows.Load()
	took := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := e.ActiveFlows(AllAgents, "pairs", 100, 0, "max", now); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(flows), "flows")
	b.ReportMetric(float64(took[len(took)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[min(len(took)*99/100, len(took)-1)].Microseconds())/1000, "p99-ms")
}

func TestFlowKeysListsWhatTrafficHas(t *testing.T) {
	e := New(Config{})
	g, _ := synth.New(synth.Config{Agents: 1, Flows: 4, Mix: []synth.Proto{synth.DNS}, Seed: 1})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	feed(t, w, g, now, 10, 100, nil)
	keys := e.FlowKeys(now.Add(time.Second))
	for _, k := range []string{"ipsource", "udpdestinationport", "dnsqname", "agent", "inputifindex", "stack"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("/flowkeys lacks %s: %v", k, keys)
		}
	}
	for _, k := range []string{"tcpflags", "ip6source", "ipsource.1"} {
		if _, ok := keys[k]; ok {
			t.Errorf("/flowkeys has %s, which DNS over IPv4 does not", k)
		}
	}
}

func TestCustomMetrics(t *testing.T) {
	e := New(Config{})
	w := e.NewWorker()
	send := func(ms int64, requests uint32, temp float64) {
		body, err := sflow.AppendCustom(nil, sflow.RTMetricSample, "app1", 0, 0, []sflow.CustomField{
			{Name: []byte("requests"), Type: sflow.CustomCounter32, U: uint64(requests)},
			{Name: []byte("temperature"), Type: sflow.CustomGaugeDouble, F: temp},
			{Name: []byte("state"), Type: sflow.CustomString, Str: []byte("ok")},
		})
		if err != nil {
			t.Fatal(err)
		}
		d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.9"), Sequence: uint32(ms / 1000),
			Samples: []sflow.Sample{{Format: sflow.RTMetricSample, Data: body}}}
		b, _ := d.AppendBinary(nil)
		w.Process(b, src, time.UnixMilli(ms))
	}
	send(1_700_000_000_000, 100, 20)
	send(1_700_000_010_000, 600, 21.5)
	st, err := e.Metric(AllAgents, []string{"requests", "temperature", "any:state", "app1.requests"}, nil, time.UnixMilli(1_700_000_010_000))
	if err != nil {
		t.Fatal(err)
	}
	if st[0].MetricValue != 50.0 || st[0].DataSource != "app1" || st[1].MetricValue != 21.5 || st[2].MetricValue != "ok" || st[3].MetricValue != 50.0 {
		t.Errorf("custom metrics %+v", st)
	}
}

func TestStaleDataSourcesAndAgentsAgeOut(t *testing.T) {
	e := New(Config{DataSourceTimeout: 30 * time.Second, AgentTimeout: 60 * time.Second})
	defineAll(t, e, nil)
	g, _ := synth.New(synth.Config{Agents: 2, Ports: 2, Flows: 20, Seed: 1})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	end := feed(t, w, g, start, 100, 100, nil)
	st, _ := e.Metric(AllAgents, []string{"ifspeed"}, nil, end)
	if st[0].MetricN != 4 {
		t.Fatalf("metricN %d, want 4 data sources", st[0].MetricN)
	}
	// 20 s later the data is old: lastUpdateMax shows it, nothing is gone.
	st, _ = e.Metric(AllAgents, []string{"ifspeed"}, nil, end.Add(20*time.Second))
	if st[0].MetricN != 4 || *st[0].LastUpdateMax < 20_000 {
		t.Errorf("after 20 s: %+v", st[0])
	}
	// Past the data source timeout they are removed, and their flows with them.
	e.Sweep(end.Add(31 * time.Second))
	st, _ = e.Metric(AllAgents, []string{"ifspeed"}, nil, end.Add(31*time.Second))
	if st[0].MetricN != 0 || e.Limits().Flows.Load() != 0 {
		t.Errorf("after the data source timeout: %+v, %d flows", st[0], e.Limits().Flows.Load())
	}
	if e.AgentCount() != 2 {
		t.Errorf("agents removed before their timeout")
	}
	e.Sweep(end.Add(61 * time.Second))
	if e.AgentCount() != 0 {
		t.Errorf("%d agents after the agent timeout", e.AgentCount())
	}
}

// TestDroppedPackets: definitions with dropped:true take their keys from
// discarded-packet notifications, with the drop reason as the key reason;
// ordinary definitions never see them.
func TestDroppedPackets(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, map[string]string{
		"drops": "{keys:'reason,ipdestination', value:'frames', dropped:true}",
		"all":   "{keys:'ipdestination', value:'frames'}",
	})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplesPerDgram: 1, Mix: []synth.Proto{synth.UDP}, Seed: 1})
	b, _ := g.Datagram(nil, 1000)
	var d sflow.Datagram
	if err := sflow.Decode(b, &d); err != nil {
		t.Fatal(err)
	}
	hdr := d.Samples[0].Records[0]
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		dd := sflow.Datagram{Version: 5, Agent: d.Agent, Sequence: uint32(i + 1), Uptime: 1000,
			Samples: []sflow.Sample{{Format: sflow.DiscardedPacketSample, Sequence: uint32(i + 1), SourceIndex: 1,
				Input: sflow.Interface{Value: 1}, Output: sflow.Interface{Format: 1, Value: 3}, DropReason: 258, // 256+2: acl
				Records: []sflow.Record{hdr}}}}
		out, err := dd.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Process(out, src, now)
	}
	drops, _ := e.ActiveFlows(AllAgents, "drops", 5, 0, "max", now)
	if len(drops) != 1 || drops[0].Key != "acl,192.168.0.1" {
		t.Errorf("drops %+v, want acl,192.168.0.1", drops)
	}
	if all, _ := e.ActiveFlows(AllAgents, "all", 5, 0, "max", now); len(all) != 0 {
		t.Errorf("a packet-sample definition saw dropped packets: %+v", all)
	}
	if info := e.AgentsInfo(AllAgents, now)[d.Agent.String()]; info.NotificationSamples != 10 || info.NotificationDatasources != 1 {
		t.Errorf("accounting %+v", info)
	}
}

// TestConcurrentUse runs workers, queries, sweeps and definition changes at
// once (run with -race: scripts/test does).
func TestConcurrentUse(t *testing.T) {
	e := New(Config{DataSourceTimeout: time.Second, AgentTimeout: 2 * time.Second})
	defineAll(t, e, nil)
	start := time.Unix(1_700_000_000, 0)
	done := make(chan bool)
	for wi := range 3 {
		go func() {
			defer func() { done <- true }()
			g, _ := synth.New(synth.Config{Agents: 8, Ports: 4, Flows: 500, Seed: uint64(wi)})
			w := e.NewWorker()
			for i := range 3000 {
				b, _ := g.Datagram(nil, uint32(i))
				w.Process(b, src, start.Add(time.Duration(i)*time.Millisecond))
			}
		}()
	}
	go func() {
		defer func() { done <- true }()
		for i := range 200 {
			now := start.Add(time.Duration(i*20) * time.Millisecond)
			e.ActiveFlows(AllAgents, "pairs", 10, 0, "sum", now)
			e.Metric(AllAgents, []string{"sum:total", "max:ifinoctets"}, nil, now)
			e.Dump(AllAgents, nil, nil, now)
			e.AgentsInfo(AllAgents, now)
			e.FlowKeys(now)
			if i%10 == 0 {
				spec, _ := flow.ParseSpec([]byte("{keys:'ipsource', value:'frames'}"))
				e.Define("churn", spec)
				e.Undefine("churn")
				e.Sweep(now.Add(3 * time.Second)) // ages agents out while workers use them
			}
		}
	}()
	for range 4 {
		<-done
	}
	held := tablesHold(e)
	// Tables of agents that aged out were released; the count must match
	// what the remaining tables hold.
	if got := e.Limits().Flows.Load(); got != int64(held) {
		t.Errorf("flow count %d, tables hold %d", got, held)
	}
}

// tablesHold counts the flows every data source's tables hold now.
func tablesHold(e *Engine) int {
	held := 0
	for _, a := range e.agentList() {
		a.mu.Lock()
		for _, ds := range a.sources {
			for _, tb := range ds.tables {
				if tb != nil {
					held += tb.Len()
				}
			}
		}
		a.mu.Unlock()
	}
	return held
}
