package engine

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// spoofed is a datagram of one expanded counter sample (a generic
// interface record) whose agent address and data source index are patched
// for each send, as a spoofing sender does.
type spoofed []byte

func newSpoofed(t testing.TB) spoofed {
	t.Helper()
	gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: 1, Type: 6, Speed: 1e9, InOctets: 1000})
	if err != nil {
		t.Fatal(err)
	}
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.1"), Sequence: 1, Uptime: 1000,
		Samples: []sflow.Sample{{Format: sflow.ExpandedCounterSample, Sequence: 1, SourceIndex: 1, Records: []sflow.Record{gen}}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at returns the datagram as agent 10.0.0.0+agent sends it for data
// source index ds, with sequence number seq.
func (s spoofed) at(agent, ds, seq uint32) []byte {
	binary.BigEndian.PutUint32(s[8:], 10<<24|agent)
	binary.BigEndian.PutUint32(s[16:], seq)
	binary.BigEndian.PutUint32(s[36:], seq)
	binary.BigEndian.PutUint32(s[44:], ds)
	return s
}

var quiet = slog.New(slog.DiscardHandler)

func agentAddr(i uint32) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// TestAgentsCap floods the engine with 5,000 spoofed agents while one real
// agent keeps talking: at most agents.max are held, the least recently
// heard go first (the real agent stays, with its counts), and what went is
// counted.
func TestAgentsCap(t *testing.T) {
	e := New(Config{MaxAgents: 100, Logger: quiet})
	w := e.NewWorker()
	s := newSpoofed(t)
	start := time.Unix(1_700_000_000, 0)
	const real, flood = 1, 5000
	var realSeq uint32
	for i := range uint32(flood) {
		now := start.Add(time.Duration(i) * time.Millisecond)
		w.Process(s.at(1000+i, 1, 1), src, now)
		if i%50 == 0 { // the real agent is heard every 50 spoofed datagrams
			realSeq++
			w.Process(s.at(real, 1, realSeq), src, now)
		}
		if n := e.AgentCount(); n > 100 {
			t.Fatalf("after %d spoofed agents the engine holds %d, agents.max is 100", i+1, n)
		}
	}
	end := start.Add(flood * time.Millisecond)
	info := e.AgentsInfo(AllAgents, end)
	r, ok := info[agentAddr(real)]
	if !ok || r.DatagramsReceived != uint64(realSeq) || r.DatagramsLost != 0 {
		t.Fatalf("the real agent, heard every 50 datagrams: %+v (present %v), want %d datagrams, none lost", r, ok, realSeq)
	}
	// The survivors are the most recently heard: the newest spoofed agents.
	oldest := uint32(flood)
	for name := range info {
		var i uint32
		if name != agentAddr(real) {
			a := netip.MustParseAddr(name).As4()
			i = binary.BigEndian.Uint32(a[:]) - 10<<24 - 1000
			oldest = min(oldest, i)
		}
	}
	held := uint64(len(info))
	an := e.Analyzer()
	if got := an["sFlowAgentsEvicted"].(uint64); got != flood+real-held {
		t.Errorf("sFlowAgentsEvicted %d, want %d (created) − %d (held)", got, flood+real, held)
	}
	// Held: at most 100; a batch goes at a time, so at least 100 − 100/32.
	if held > 100 || held < 100-100/evictBatch-1 || oldest < flood-100 {
		t.Errorf("held %d agents, the oldest spoofed one #%d: want the ~100 most recent (#%d on)", held, oldest, flood-100)
	}
	if got := an["sFlowDatasources"].(int64); got != int64(held) {
		t.Errorf("sFlowDatasources %d, want one per agent held (%d)", got, held)
	}
}

// TestDataSourcesCap sends 3,000 data sources from one agent and 300 from
// each of 10 more: agent.datasources.max bounds one agent's, datasources.max
// all of them, the least recently heard go first (of the agent, and of all
// agents), and a new data source that finds no room is refused and
// counted.
func TestDataSourcesCap(t *testing.T) {
	e := New(Config{MaxAgentSources: 500, MaxSources: 1000, Logger: quiet})
	w := e.NewWorker()
	s := newSpoofed(t)
	now := time.Unix(1_700_000_000, 0)
	tick := func() time.Time { now = now.Add(time.Millisecond); return now }
	for i := range uint32(3000) {
		w.Process(s.at(1, i+1, i+1), src, tick())
	}
	info := e.AgentsInfo(AllAgents, now)[agentAddr(1)]
	if info.Datasources > 500 || info.Datasources < 500-500/evictBatch-1 {
		t.Fatalf("one agent holds %d data sources, agent.datasources.max is 500", info.Datasources)
	}
	if info.DatasourcesEvicted != uint64(3000-info.Datasources) || info.CounterSamples != 3000 {
		t.Errorf("evicted %d, counter samples %d: want %d and 3000", info.DatasourcesEvicted, info.CounterSamples, 3000-info.Datasources)
	}
	// The most recent stay: the last one sent is there, the first is not.
	if _, ok := e.DataSourceInfo(netip.MustParseAddr(agentAddr(1)), "3000", now); !ok {
		t.Error("the most recently heard data source was evicted")
	}
	if _, ok := e.DataSourceInfo(netip.MustParseAddr(agentAddr(1)), "1", now); ok {
		t.Error("the least recently heard data source is still there")
	}
	for a := range uint32(10) {
		for i := range uint32(300) {
			w.Process(s.at(2+a, i+1, i+1), src, tick())
		}
	}
	all := e.AgentsInfo(AllAgents, now)
	total := 0
	for _, in := range all {
		total += in.Datasources
	}
	an := e.Analyzer()
	if total > 1000 || total < 1000-1000/evictBatch-1 || an["sFlowDatasources"].(int64) != int64(total) {
		t.Errorf("all agents hold %d data sources (sFlowDatasources %v), datasources.max is 1000", total, an["sFlowDatasources"])
	}
	// The least recently heard went, whoever they belonged to: the first
	// agent's all, the last agent's none.
	if n := all[agentAddr(1)].Datasources; n != 0 {
		t.Errorf("the least recently heard agent kept %d data sources", n)
	}
	if n := all[agentAddr(11)].Datasources; n != 300 {
		t.Errorf("the most recently heard agent holds %d data sources, want its 300", n)
	}
	if an["sFlowSamplesRefused"].(uint64) != 0 {
		t.Errorf("%v samples refused while the least recently heard could go", an["sFlowSamplesRefused"])
	}
	// Every other agent busy (held by a worker) and every data source
	// taken: a new agent's sample finds no room, and is refused.
	e.cfg.MaxSources = total
	for _, a := range e.agentList() {
		a.mu.Lock()
		defer a.mu.Unlock()
	}
	w.Process(s.at(99, 1, 1), src, tick())
	e.agentMu.RLock()
	nw := e.agents[netip.MustParseAddr(agentAddr(99))]
	e.agentMu.RUnlock()
	if len(nw.sources) != 0 || nw.samplesRefused != 1 || e.caps.samplesRefused.Load() != 1 {
		t.Errorf("a new agent at datasources.max with all others busy: %d data sources, %d samples refused (engine %d), want 0, 1, 1",
			len(nw.sources), nw.samplesRefused, e.caps.samplesRefused.Load())
	}
}

// TestEvictedSourcesReleaseFlows: data sources evicted with flows in their
// tables give the flows back to flow.max's count.
func TestEvictedSourcesReleaseFlows(t *testing.T) {
	e := New(Config{MaxAgentSources: 64, MaxSources: 10_000, Logger: quiet})
	defineAll(t, e, nil)
	w := e.NewWorker()
	hdr, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: 64, Header: udpFrame()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	for i := range uint32(1000) {
		d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.1"), Sequence: i + 1, Uptime: 1000,
			Samples: []sflow.Sample{{Format: sflow.FlowSample, Sequence: 1, SourceIndex: i + 1, SamplingRate: 1, Records: []sflow.Record{hdr}}}}
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Millisecond)
		w.Process(b, src, now)
	}
	held := tablesHold(e)
	if got := e.Limits().Flows.Load(); got != int64(held) || held == 0 {
		t.Errorf("flows counted %d, the tables hold %d", got, held)
	}
}

// udpFrame is an Ethernet/IPv4/UDP frame.
func udpFrame() []byte {
	b := make([]byte, 14+20+8)
	b[12], b[13] = 0x08, 0x00
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 28)
	copy(ip[12:], []byte{192, 168, 0, 1, 192, 168, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], 5000)
	binary.BigEndian.PutUint16(ip[22:], 53)
	binary.BigEndian.PutUint16(ip[24:], 8)
	return b
}

// TestSubAgentsBounded: one agent claiming 5,000 sub-agents keeps the
// sequence numbers of the first maxSubAgents and counts the rest.
func TestSubAgentsBounded(t *testing.T) {
	e := New(Config{Logger: quiet})
	w := e.NewWorker()
	s := newSpoofed(t)
	now := time.Unix(1_700_000_000, 0)
	for i := range uint32(5000) {
		binary.BigEndian.PutUint32(s[12:], i) // the sub-agent id
		w.Process(s.at(1, 1, 1), src, now)
	}
	info := e.AgentsInfo(AllAgents, now)[agentAddr(1)]
	if info.DatagramsUnsequenced != 5000-maxSubAgents || info.DatagramsReceived != 5000 {
		t.Errorf("%d datagrams, %d unsequenced: want 5000 and %d", info.DatagramsReceived, info.DatagramsUnsequenced, 5000-maxSubAgents)
	}
}

// TestDefinitionsCap: flow.definitions.max refuses a new definition with a
// *LimitError naming the property; replacing one at the limit is allowed.
func TestDefinitionsCap(t *testing.T) {
	e := New(Config{MaxDefinitions: 3, Logger: quiet})
	spec, _ := flow.ParseSpec([]byte("{keys:'ipsource', value:'frames'}"))
	for i := range 3 {
		if err := e.Define(fmt.Sprint("f", i), spec); err != nil {
			t.Fatal(err)
		}
	}
	err := e.Define("f3", spec)
	le, ok := err.(*LimitError)
	if !ok || le.Property != "flow.definitions.max" || le.Max != 3 {
		t.Fatalf("the 4th definition: %v, want a LimitError of flow.definitions.max", err)
	}
	if err := e.Define("f0", spec); err != nil {
		t.Errorf("replacing a definition at the limit: %v", err)
	}
	if _, err := e.DefineLeased("f4", spec, time.Minute, time.Now()); err == nil {
		t.Error("a leased definition passed the limit")
	}
}

// BenchmarkSpoofedAgents is a flood of new agents at agents.max: each
// datagram names an agent never seen, so each evicts (in batches) the
// least recently heard.
func BenchmarkSpoofedAgents(b *testing.B) {
	e := New(Config{MaxAgents: DefaultMaxAgents, Logger: quiet})
	w := e.NewWorker()
	s := newSpoofed(b)
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for i := range b.N {
		w.Process(s.at(uint32(i), 1, 1), src, now.Add(time.Duration(i)*time.Microsecond))
	}
	b.ReportMetric(float64(e.AgentCount()), "agents")
}

// TestCapsUnderConcurrency floods three workers with spoofed agents and
// data sources at small caps while queries and sweeps run (with -race:
// scripts/test runs it so), then checks the counts agree with what is held.
func TestCapsUnderConcurrency(t *testing.T) {
	e := New(Config{MaxAgents: 50, MaxAgentSources: 20, MaxSources: 300, Logger: quiet})
	defineAll(t, e, nil)
	start := time.Unix(1_700_000_000, 0)
	done := make(chan bool)
	for wi := range uint32(3) {
		go func() {
			defer func() { done <- true }()
			w := e.NewWorker()
			s := newSpoofed(t)
			for i := range uint32(4000) {
				w.Process(s.at(wi<<20|i%200, i%37+1, i), src, start.Add(time.Duration(i)*time.Millisecond))
			}
		}()
	}
	go func() {
		defer func() { done <- true }()
		for i := range 100 {
			now := start.Add(time.Duration(i*40) * time.Millisecond)
			e.AgentsPage(AllAgents, Page{Offset: 3, Limit: 10}, now)
			e.DumpPage(AllAgents, nil, nil, Page{Limit: 50}, now)
			if i%20 == 0 {
				e.Sweep(now)
			}
		}
	}()
	for range 4 {
		<-done
	}
	held := 0
	for _, a := range e.agentList() {
		a.mu.Lock()
		held += len(a.sources)
		a.mu.Unlock()
	}
	if n := e.AgentCount(); n > 50+3 {
		t.Errorf("%d agents held, agents.max is 50 (and 3 workers may each add one while a batch goes)", n)
	}
	if got := e.caps.sources.Load(); got != int64(held) || held > 300+3 {
		t.Errorf("data sources counted %d, held %d, datasources.max 300", got, held)
	}
}

// TestOldest checks the quickselect against a sort, with ties.
func TestOldest(t *testing.T) {
	for n := range 60 {
		for k := range n + 1 {
			list := make([]int64, n)
			for i := range list {
				list[i] = int64((i*7919 + k) % 13) // many ties
			}
			sorted := slices.Clone(list)
			slices.Sort(sorted)
			oldest(list, k, func(v *int64) int64 { return *v })
			got := slices.Clone(list[:k])
			slices.Sort(got)
			if !slices.Equal(got, sorted[:k]) {
				t.Fatalf("n=%d k=%d: the first k are %v, want %v", n, k, got, sorted[:k])
			}
		}
	}
}

// BenchmarkDefinitions is BenchmarkPipeline's traffic through 10, 100
// (flow.definitions.max's default) and 1,000 definitions: the ten of
// tenDefinitions repeated under other names, each keeping its own tables.
// What a definition costs every sample is the slope.
//
//	go test ./engine -run '^$' -bench Definitions -benchmem
func BenchmarkDefinitions(b *testing.B) {
	flowsMax := int64(1_000_000) // flow.max's default
	if v := os.Getenv("FLOWRT_BENCH_FLOW_MAX"); v != "" {
		flowsMax, _ = strconv.ParseInt(v, 10, 64)
	}
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := New(Config{MaxDefinitions: n, MaxFlows: flowsMax, Logger: quiet})
			defs := map[string]string{}
			for i := range n / len(tenDefinitions) {
				for name, body := range tenDefinitions {
					defs[fmt.Sprint(name, i)] = body
				}
			}
			defineAll(b, e, defs)
			samples := runPipeline(b, e)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
		})
	}
}
