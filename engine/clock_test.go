package engine

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
)

// TestReplayClock: a replay worker's capture timestamps become the
// engine's clock, whatever wall time a query gives: years after the
// capture, the flows still have the values they had at its end, the agent
// is still there, and flows that went idle inside the capture ended (and
// were logged) on the capture's clock. A live worker leaves the wall clock.
func TestReplayClock(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, map[string]string{
		"pairs": "{keys:'ipsource,ipdestination', value:'frames', t:20}",
		"ends":  "{keys:'ipsource', value:'frames', t:1, log:true}",
	})
	wall := time.Now()
	if !e.Time(wall).Equal(wall) {
		t.Fatal("a new engine is not on the wall clock")
	}
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 4, SamplesPerDgram: 4, Seed: 2})
	w := e.NewReplayWorker()
	start := time.Unix(1_400_000_000, 0) // 2014
	end := feed(t, w, g, start, 500, 100, nil)
	// 10 s of silence inside the capture: the t:1 flows end on a sweep the
	// next datagram's time triggers.
	later := feed(t, w, g, end.Add(10*time.Second), 1, 1, nil)
	if ms, ok := e.CaptureClock(); !ok || ms != later.UnixMilli() || !e.Time(wall).Equal(later) {
		t.Fatalf("clock %d (%v), want the capture's last timestamp %d", ms, ok, later.UnixMilli())
	}
	ended := e.FlowLog().After(t.Context(), -1, 100, 0, func(r *FlowRecord) bool { return r.Name == "ends" })
	if len(ended) != 4 {
		t.Fatalf("%d flows ended inside the capture, want 4", len(ended))
	}
	for _, r := range ended {
		if r.End > end.UnixMilli() || r.Start < start.UnixMilli() {
			t.Errorf("record %+v outside the capture's times %d–%d", r, start.UnixMilli(), end.UnixMilli())
		}
	}
	// Asked years later by the wall clock, or with the capture's time: the
	// same answer.
	a, err := e.ActiveFlows(AllAgents, "pairs", 10, 0, "", wall.Add(24*time.Hour))
	if err != nil || len(a) == 0 {
		t.Fatalf("active flows %v %v", a, err)
	}
	b, _ := e.ActiveFlows(AllAgents, "pairs", 10, 0, "", later)
	if a[0].Value != b[0].Value || a[0].Value <= 0 || math.IsNaN(a[0].Value) {
		t.Errorf("top flow %v by the wall clock, %v at the capture's time", a[0].Value, b[0].Value)
	}
	e.Sweep(e.Time(wall.Add(time.Hour))) // as Run's ticker does
	if e.AgentCount() != 1 {
		t.Error("the agent aged out against the wall clock")
	}
	// Queries and Run's sweeps meanwhile: no race with the replay.
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 50 {
			e.ActiveFlows(AllAgents, "pairs", 10, 0, "", time.Now())
			e.Sweep(e.Time(time.Now()))
		}
	})
	feed(t, w, g, later.Add(time.Second), 200, 100, nil)
	wg.Wait()

	live := New(Config{})
	live.NewWorker().Process(mustDatagram(t, g), src, start)
	if _, ok := live.CaptureClock(); ok {
		t.Error("a live worker set a capture clock")
	}
}

func mustDatagram(t *testing.T, g *synth.Generator) []byte {
	b, err := g.Datagram(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayWorkerAllocatesNothing: the replay worker's clock and
// once-a-second sweep keep Process allocation-free in steady state.
func TestReplayWorkerAllocatesNothing(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, nil)
	g, _ := synth.New(synth.Config{Agents: 4, Ports: 4, Flows: 200, Seed: 5})
	var dgs [][]byte
	for range 64 {
		dgs = append(dgs, mustDatagram(t, g))
	}
	w := e.NewReplayWorker()
	now := time.Unix(1_700_000_000, 0)
	for range 20 {
		for _, b := range dgs {
			w.Process(b, src, now)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		w.Process(dgs[i%len(dgs)], src, now.Add(time.Duration(i)*time.Microsecond))
		i++
	})
	if allocs != 0 {
		t.Errorf("a replay worker allocates %.2f times per datagram in steady state", allocs)
	}
}
