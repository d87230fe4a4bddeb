package threshold

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

var src = netip.MustParseAddrPort("127.0.0.1:9")

func define(t testing.TB, e *engine.Engine, name, body string) {
	t.Helper()
	spec, err := flow.ParseSpec([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Define(name, spec); err != nil {
		t.Fatal(err)
	}
}

// flood sends, from one agent, 100 samples a second at sampling rate 100
// (10,000 frames/s) spread over the generator's flows, from start for d,
// checking the monitor every 100 ms as Run would. It returns the time of
// the first event, if any.
func flood(t testing.TB, g *synth.Generator, w *engine.Worker, m *Monitor, start time.Time, d time.Duration) time.Time {
	var first time.Time
	for at := time.Duration(0); at < d; at += 10 * time.Millisecond {
		now := start.Add(at)
		b, err := g.Datagram(nil, uint32(now.UnixMilli()%(1<<31)))
		if err != nil {
			t.Fatal(err)
		}
		w.Process(b, src, now)
		if at%(100*time.Millisecond) == 0 && m.Check(now) > 0 && first.IsZero() {
			first = now
		}
	}
	return first
}

// TestDDoSFloodByFlow follows the DDoS article: a flow per destination, a
// byFlow threshold at 1,000 frames/s with timeout 5, a flood ten times
// that. One event per flow key, with the right agent, data source and key,
// within 1 s of the flood's first packet; re-arming after the flood stops
// and the timeout passes; a second flood fires again.
func TestDDoSFloodByFlow(t *testing.T) {
	e := engine.New(engine.Config{})
	define(t, e, "ddos", "{keys:'ipdestination', value:'frames', t:2}")
	m := New(e, 100)
	spec, err := ParseSpec([]byte("{metric:'ddos', value:1000, byFlow:true, timeout:5}"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set("ddos", spec); err != nil {
		t.Fatal(err)
	}
	// One target, UDP: every sample is the flood.
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplingRate: 100, SamplesPerDgram: 1,
		Mix: []synth.Proto{synth.UDP}, Seed: 1})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	first := flood(t, g, w, m, start, 10*time.Second)
	if first.IsZero() {
		t.Fatal("no event")
	}
	latency := first.Sub(start)
	t.Logf("detection latency %v (t=2, flood 10× the threshold, checks every 100 ms)", latency)
	if latency > time.Second {
		t.Errorf("detection took %v, want ≤ 1 s", latency)
	}
	evs := m.Events().After(t.Context(), -1, 100, 0, nil)
	if len(evs) != 1 {
		t.Fatalf("%d events for one flooded flow: %+v", len(evs), evs)
	}
	ev := evs[0]
	if ev.ThresholdID != "ddos" || ev.FlowKey != "192.168.0.1" || ev.Agent != "10.255.0.1" || ev.DataSource != "1" ||
		ev.Value <= 1000 || ev.Threshold != 1000 || ev.Metric != "ddos" || ev.EventID != 1 {
		t.Errorf("event %+v", ev)
	}
	if !m.Triggered("ddos", "10.255.0.1", "1.ddos", "192.168.0.1") {
		t.Error("thresholdTriggered is false during the flood")
	}
	// The flood stops: below the level, then 5 s more, and it re-arms.
	end := start.Add(10 * time.Second)
	for at := time.Duration(0); at <= 15*time.Second; at += 100 * time.Millisecond {
		m.Check(end.Add(at))
	}
	if m.Triggered("ddos", "10.255.0.1", "1.ddos", "192.168.0.1") {
		t.Error("still triggered 15 s after the flood")
	}
	flood(t, g, w, m, end.Add(16*time.Second), 3*time.Second)
	if n := len(m.Events().After(t.Context(), -1, 100, 0, nil)); n != 2 {
		t.Errorf("%d events after a second flood, want 2", n)
	}
}

func TestOneEventPerFlowKeyAndCounterThresholds(t *testing.T) {
	e := engine.New(engine.Config{})
	define(t, e, "dst", "{keys:'ipdestination', value:'frames', t:1}")
	m := New(e, 100)
	m.Set("many", Spec{Metric: "dst", Value: 10, ByFlow: true, Timeout: 60})
	m.Set("largest", Spec{Metric: "dst", Value: 10, Timeout: 60})
	m.Set("octets", Spec{Metric: "ifinoctets", Value: 1, Timeout: 60})
	m.Set("filtered", Spec{Metric: "ifinoctets", Value: 1, Timeout: 60, Filter: map[string][]string{"ifspeed": {"1"}}})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 5, Zipf: 0.1, SamplingRate: 100, SamplesPerDgram: 5, Seed: 2})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	for at := time.Duration(0); at < 25*time.Second; at += 100 * time.Millisecond {
		now := start.Add(at)
		up := uint32(at.Milliseconds()) + 1000
		if at%(20*time.Second) == 0 {
			dgs, _ := g.Counters(nil, up)
			for _, d := range dgs {
				w.Process(d, src, now)
			}
		}
		b, _ := g.Datagram(nil, up)
		w.Process(b, src, now)
		m.Check(now)
	}
	by := map[string]int{}
	keys := map[string]bool{}
	for _, ev := range m.Events().After(t.Context(), -1, 1000, 0, nil) {
		by[ev.ThresholdID]++
		if ev.ThresholdID == "many" {
			keys[ev.FlowKey] = true
		}
	}
	if by["many"] != 5 || len(keys) != 5 || by["largest"] != 1 || by["octets"] != 1 || by["filtered"] != 0 {
		t.Errorf("events by threshold %v, flow keys %v", by, keys)
	}
	// Filtered by threshold name, newest first.
	evs := m.Events().After(t.Context(), -1, 1000, 0, func(ev *Event) bool { return ev.ThresholdID == "many" })
	if len(evs) != 5 || evs[0].EventID < evs[4].EventID {
		t.Errorf("filtered events %+v", evs)
	}
	if !m.Clear("many") || m.Clear("many") {
		t.Error("Clear")
	}
}

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec([]byte("{metric:'ddos', value:1000, byFlow:true}"))
	if err != nil || s.Timeout != DefaultTimeout || !s.ByFlow {
		t.Errorf("%+v %v", s, err)
	}
	s, err = ParseSpec([]byte(`{"metric":"ifinutilization","value":80,"filter":{"ifspeed":["10000000000"]},"timeout":0}`))
	if err != nil || s.Timeout != 0 || s.Filter["ifspeed"][0] != "10000000000" {
		t.Errorf("%+v %v", s, err)
	}
	for body, want := range map[string]string{"{value:1}": "needs a metric", "{metric:'x'}": "needs a value",
		"{metric:'x', value:1, bogus:1}": `unknown threshold attribute "bogus"`, "{metric:'x', value:'a'}": "threshold:"} {
		if _, err := ParseSpec([]byte(body)); err == nil || !contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// BenchmarkCheck measures one check of a byFlow threshold over 100k tracked
// flows (the work done every 100 ms).
//
//	go test ./threshold -run '^$' -bench Check -benchmem
func BenchmarkCheck(b *testing.B) {
	e := engine.New(engine.Config{})
	define(b, e, "pairs", "{keys:'ipsource,ipdestination', value:'frames', n:20}")
	m := New(e, 1000)
	m.Set("hot", Spec{Metric: "pairs", Value: 1e12, ByFlow: true, Timeout: 60})
	g, _ := synth.New(synth.Config{Agents: 100, Ports: 10, Flows: 200_000, Zipf: 0.5, Seed: 2})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for e.Limits().Flows.Load() < 100_000 {
		d, _ := g.Datagram(nil, 1000)
		w.Process(d, src, now)
	}
	b.ReportMetric(float64(e.Limits().Flows.Load()), "flows")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Check(now)
	}
}

// BenchmarkDetectionLatency replays the DDoS scenario (t=2, threshold 1,000
// frames/s, a flood of 10,000 frames/s, checks every 100 ms) in simulated
// time and reports how long after the flood's first packet the event comes.
//
//	go test ./threshold -run '^$' -bench DetectionLatency
func BenchmarkDetectionLatency(b *testing.B) {
	var total time.Duration
	for i := range b.N {
		e := engine.New(engine.Config{})
		define(b, e, "ddos", "{keys:'ipdestination', value:'frames', t:2}")
		m := New(e, 100)
		m.Set("ddos", Spec{Metric: "ddos", Value: 1000, ByFlow: true, Timeout: 5})
		g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplingRate: 100, SamplesPerDgram: 1,
			Mix: []synth.Proto{synth.UDP}, Seed: uint64(i)})
		start := time.Unix(1_700_000_000, 0).Add(time.Duration(i%100) * time.Millisecond) // vary the phase
		first := flood(b, g, e.NewWorker(), m, start, 3*time.Second)
		total += first.Sub(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "detect-ms")
}

// TestParseSpecStrings: ddos-protect passes its settings as strings
// (value, timeout), fabric-metrics a number in its filter and a '.' in
// names; what is not a number is refused naming the attribute.
func TestParseSpecStrings(t *testing.T) {
	s, err := ParseSpec([]byte(`{metric:'ddos', value:'1000', byFlow:'true', timeout:'60', filter:{ifspeed:[10000000000, '2500000000'], ifname:'eth0'}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Value != 1000 || !s.ByFlow || s.Timeout != 60 || len(s.Filter["ifspeed"]) != 2 || s.Filter["ifspeed"][0] != "10000000000" ||
		s.Filter["ifspeed"][1] != "2500000000" || len(s.Filter["ifname"]) != 1 || s.Filter["ifname"][0] != "eth0" {
		t.Errorf("spec %+v", s)
	}
	for body, want := range map[string]string{
		`{metric:'a', value:'lots'}`:                `value: "lots" is not a number`,
		`{metric:'a', value:1, timeout:'1m'}`:       `timeout: "1m" is not a number`,
		`{metric:'a', value:1, timeout:'-1.5'}`:     "timeout -1.5 is out of range", // fractions are taken: TestFractionalTimeout
		`{metric:'a', value:1, filter:{x:[{}]}}`:    "filter",
		`{metric:'a', value:1, filter:{x:[[1]]}}`:   "filter",
		`{metric:'a', value:1, byFlow:'sometimes'}`: "byFlow",
	} {
		if _, err := ParseSpec([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %s", body, err, want)
		}
	}
	for name, ok := range map[string]bool{"fm-2.5G-4-elephant": true, "a.b": true, "ddos_protect_ip_flood": true,
		"": false, ".": false, "..": false, "a/b": false, "a b": false} {
		if err := ValidName(name); (err == nil) != ok {
			t.Errorf("ValidName(%q) = %v", name, err)
		}
	}
}
