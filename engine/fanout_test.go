package engine

import (
	"context"
	"encoding/binary"
	"log/slog"
	"maps"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

// startFanout runs a fan-out of n workers on e until the test ends and
// returns it with one Reader.
func startFanout(t testing.TB, e *Engine, n int) (*Fanout, *Reader) {
	f := e.NewFanout(n)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go f.Run(ctx)
	return f, f.NewReader()
}

// fanoutIdle waits until every batch of f is back (the workers applied
// all they were handed); false after 10 s.
func fanoutIdle(f *Fanout, readers ...*Reader) bool {
	for _, r := range readers {
		r.Flush(true)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if len(f.free) == cap(f.free) {
			return true
		}
	}
	return false
}

// flowTotals is every flow's total by data source, definition and key.
func flowTotals(e *Engine) map[string]float64 {
	out := map[string]float64{}
	defs := e.defs.Load()
	for _, a := range e.agentList() {
		a.mu.Lock()
		for _, ds := range a.sources {
			for i, t := range ds.tables {
				if t == nil {
					continue
				}
				name := defs.slots[i].def.Name
				t.Each(func(en *flow.Entry) { out[a.name+"|"+ds.id+"|"+name+"|"+en.Key] = en.Total })
			}
		}
		a.mu.Unlock()
	}
	return out
}

// sameFlows fails unless the fan-out's flows are the direct worker's, and
// names the first few that differ.
func sameFlows(t *testing.T, direct, fanned map[string]float64) {
	t.Helper()
	if maps.Equal(direct, fanned) {
		return
	}
	n := 0
	for k, v := range direct {
		if fanned[k] != v && n < 5 {
			t.Errorf("%s: fan-out %v, direct %v", k, fanned[k], v)
			n++
		}
	}
	t.Errorf("%d flows direct, %d fanned out", len(direct), len(fanned))
}

// TestFanoutMatchesDirect puts one agent's datagrams — with gaps, a
// duplicate and one out of order — through a Fanout of four workers and,
// in another engine, through a single Worker: the agent's accounting and
// every flow's total must be the same, so that spreading one exporter over
// the cores keeps its sequence accounting exact.
func TestFanoutMatchesDirect(t *testing.T) {
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 16, Flows: 300, Seed: 7})
	var dgs [][]byte
	seq := uint32(0)
	for i := range 3000 {
		d, _ := g.Datagram(nil, uint32(1000+i))
		seq++
		if i%500 == 499 {
			seq += 3 // three lost
		}
		binary.BigEndian.PutUint32(d[16:], seq)
		dgs = append(dgs, d)
	}
	dgs[2000], dgs[2001] = dgs[2001], dgs[2000] // one out of order (and one more lost)
	counters, _ := g.Counters(nil, 5000)        // counter samples too
	for _, d := range counters {
		seq++
		binary.BigEndian.PutUint32(d[16:], seq)
		dgs = append(dgs, d)
	}
	dgs = append(dgs, dgs[len(dgs)-1]) // a duplicate

	direct := New(Config{})
	defineAll(t, direct, nil)
	w := direct.NewWorker()

	fanned := New(Config{})
	defineAll(t, fanned, nil)
	f, r := startFanout(t, fanned, 4)

	now := time.Unix(1_700_000_000, 0)
	for i, d := range dgs {
		at := now.Add(time.Duration(i) * time.Millisecond)
		w.Process(d, src, at)
		r.Process(d, src, at)
		if i%7 == 0 { // batches of several sizes
			r.Flush(true)
		}
	}
	if !fanoutIdle(f, r) {
		t.Fatal("the fan-out workers did not finish in 10 s")
	}
	want, got := direct.AgentsInfo(AllAgents, now), fanned.AgentsInfo(AllAgents, now)
	if len(want) != 1 {
		t.Fatalf("agents %v", want)
	}
	for k, a := range want {
		b := got[k]
		if a.DatagramsLost != 19 || a.DatagramsDuplicates != 1 || a.DatagramsOutOfOrder != 1 {
			t.Errorf("direct accounting: lost %d, duplicates %d, out of order %d; want 19, 1, 1",
				a.DatagramsLost, a.DatagramsDuplicates, a.DatagramsOutOfOrder)
		}
		if a.DatagramsReceived != b.DatagramsReceived || a.DatagramsLost != b.DatagramsLost ||
			a.DatagramsDuplicates != b.DatagramsDuplicates || a.DatagramsOutOfOrder != b.DatagramsOutOfOrder ||
			a.FlowSamples != b.FlowSamples || a.FlowLostSamples != b.FlowLostSamples ||
			a.CounterSamples != b.CounterSamples || a.Datasources != b.Datasources {
			t.Errorf("fan-out accounting differs:\ndirect %+v\nfanout %+v", a, b)
		}
	}
	wt, gt := flowTotals(direct), flowTotals(fanned)
	if len(wt) < 100 {
		t.Fatalf("only %d flows", len(wt))
	}
	sameFlows(t, wt, gt)
}

// TestFanoutManyAgentsMatchesDirect: datagrams of five agents interleaved
// (so a batch holds several agents, applied each under its own lock, in
// their arrival order), with discarded-packet samples and a definition
// pooled per agent (aggMode AGENT, keys of few values: a table that must
// evict keeps what the order of updates leaves, and the workers' order is
// not the arrival order): every agent's accounting and every flow's total
// equal a single Worker's.
func TestFanoutManyAgentsMatchesDirect(t *testing.T) {
	g, _ := synth.New(synth.Config{Agents: 5, Ports: 8, Flows: 400, Discards: true, Seed: 11})
	var dgs [][]byte
	for i := range 4000 {
		d, _ := g.Datagram(nil, uint32(1000+i))
		dgs = append(dgs, d)
	}
	defs := maps.Clone(tenDefinitions)
	defs["pooled"] = "{keys:'ipprotocol,inputifindex', value:'bytes', aggMode:'AGENT'}"
	defs["drops"] = "{keys:'reason,ipsource', value:'frames', dropped:true}"
	direct := New(Config{})
	defineAll(t, direct, defs)
	w := direct.NewWorker()
	fanned := New(Config{})
	defineAll(t, fanned, defs)
	f, r := startFanout(t, fanned, 3)
	now := time.Unix(1_700_000_000, 0)
	for i, d := range dgs {
		at := now.Add(time.Duration(i) * time.Millisecond)
		w.Process(d, src, at)
		r.Process(d, src, at)
		if i%50 == 0 { // runs of reads that filled their batch, and reads that did not
			r.Flush(i/50%8 < 6)
		}
	}
	if !fanoutIdle(f, r) {
		t.Fatal("the fan-out workers did not finish in 10 s")
	}
	if handed, inline := f.Handed(); handed < 1000 || inline < 1000 {
		t.Errorf("%d datagrams handed to the workers, %d applied by the reader: want both (runs of full reads and reads that were not)", handed, inline)
	}
	want, got := direct.AgentsInfo(AllAgents, now), fanned.AgentsInfo(AllAgents, now)
	if len(want) != 5 || len(got) != 5 {
		t.Fatalf("agents: direct %d, fan-out %d; want 5", len(want), len(got))
	}
	for k, a := range want {
		b := got[k]
		if a.DatagramsReceived != b.DatagramsReceived || a.FlowSamples != b.FlowSamples || a.Datasources != b.Datasources {
			t.Errorf("%s: fan-out accounting differs:\ndirect %+v\nfanout %+v", k, a, b)
		}
	}
	wt, gt := flowTotals(direct), flowTotals(fanned)
	var pooled, dropped int
	for k := range wt {
		if strings.Contains(k, "|"+flow.AgentDataSource+"|pooled|") {
			pooled++
		}
		if strings.Contains(k, "|drops|") {
			dropped++
		}
	}
	if pooled < 10 || dropped < 5 {
		t.Fatalf("%d pooled flows, %d dropped-packet flows: the test does not test them", pooled, dropped)
	}
	sameFlows(t, wt, gt)
}

// TestFanoutAllocatesNothingInSteadyState: a Reader handing datagrams to
// the workers or applying them itself, and the workers applying them,
// allocate nothing once every agent, data source and flow is known (the
// count is the whole process's, the workers' goroutines included).
func TestFanoutAllocatesNothingInSteadyState(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, nil)
	f, r := startFanout(t, e, 2)
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 4, Flows: 200, Seed: 5})
	var dgs [][]byte
	for range 64 {
		b, _ := g.Datagram(nil, 1000)
		dgs = append(dgs, b)
	}
	now := time.Unix(1_700_000_000, 0)
	for range 20 { // learn every data source and flow
		for _, b := range dgs {
			r.Process(b, src, now)
		}
		r.Flush(true)
	}
	if !fanoutIdle(f, r) {
		t.Fatal("the fan-out workers did not finish in 10 s")
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		r.Process(dgs[i%len(dgs)], src, now)
		if i%8 == 7 {
			r.Flush(i%128 < 80) // handed over, then applied by the reader
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("Reader.Process and the workers allocate %.2f times per datagram in steady state", allocs)
	}
}

// BenchmarkFanout is one exporter's datagrams (one agent, 16 data sources)
// given to a single receiving goroutine, without sockets: "direct", that
// goroutine's Worker applies them; "fanout", its Reader admits them and the
// workers (one per CPU) apply the flow samples. The CPU counters
// (getrusage) say how many cores each used: what one socket's traffic can
// get.
//
//	go test ./engine -run '^$' -bench Fanout -benchtime 200000x
func BenchmarkFanout(b *testing.B) {
	for _, fan := range []bool{false, true} {
		name := "direct"
		if fan {
			name = "fanout"
		}
		b.Run(name, func(b *testing.B) {
			e := New(Config{Logger: slog.New(slog.DiscardHandler)})
			defineAll(b, e, nil)
			dgs := e2eDatagrams(1)
			var h interface {
				Process([]byte, netip.AddrPort, time.Time)
			}
			var f *Fanout
			var r *Reader
			if fan {
				f, r = startFanout(b, e, runtime.NumCPU())
				h = r
			} else {
				h = e.NewWorker()
			}
			seq := uint32(0)
			feed := func(n int) {
				for i := range n {
					d := dgs[i%len(dgs)]
					seq++
					binary.BigEndian.PutUint32(d[16:], seq)
					h.Process(d, src, time.Now())
					if r != nil && i%64 == 63 {
						r.Flush(true)
					}
				}
				if r != nil && !fanoutIdle(f, r) {
					b.Fatal("the fan-out workers did not finish in 10 s")
				}
			}
			feed(len(dgs)) // tables warm
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, t0 := cpuTime(), time.Now()
			feed(b.N)
			cpu, wall := cpuTime()-cpu0, time.Since(t0)
			samples := float64(b.N * 8)
			b.ReportMetric(samples/wall.Seconds(), "samples/s")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
			b.ReportMetric(cpu.Seconds()*1e3/(samples/1e6), "cpu-ms/Msample")
			if f != nil {
				handed, inline := f.Handed()
				b.ReportMetric(100*float64(handed)/float64(max(handed+inline, 1)), "%to-workers")
			}
			if lost := e.AgentsInfo(AllAgents, time.Now())["10.255.0.1"].DatagramsLost; lost != 0 {
				b.Errorf("%d datagrams counted lost", lost)
			}
		})
	}
}

// TestReaderHandsOverOnlyWhenBehind: a Reader hands flow samples to the
// workers from the fullReads-th read in a row that filled its batch
// until a read that did not, and applies them itself otherwise.
func TestReaderHandsOverOnlyWhenBehind(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, nil)
	f, r := startFanout(t, e, 2)
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 4, Flows: 200, Seed: 5})
	read := func(full bool) (handed, inline uint64) {
		h0, i0 := f.Handed()
		for range 8 {
			b, _ := g.Datagram(nil, 1000)
			r.Process(b, src, time.Unix(1_700_000_000, 0))
		}
		r.Flush(full)
		h1, i1 := f.Handed()
		return h1 - h0, i1 - i0
	}
	if h, _ := read(true); h != 8 {
		t.Errorf("a new reader handed %d of 8 datagrams, want all (it starts as if behind)", h)
	}
	read(false) // not full: the next read is applied here
	for i := range fullReads {
		h, in := read(true)
		if h != 0 || in != 8 {
			t.Errorf("full read %d after a read that was not: %d handed, %d applied by the reader; want 0 and 8", i+1, h, in)
		}
	}
	if h, _ := read(true); h != 8 {
		t.Errorf("after %d full reads in a row, %d of 8 datagrams handed, want all", fullReads, h)
	}
	read(false)
	if h, in := read(true); h != 0 || in != 8 {
		t.Errorf("after a read that was not full: %d handed, %d applied by the reader", h, in)
	}
}
