package engine

import (
	"math"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
)

// TestAggModeAgent: a definition with aggMode 'AGENT' keeps one table per
// agent, at the data source "agent", holding the samples of all its data
// sources: its flows are the sum of the per-port flows of the same
// definition without it, and its distinct counts span every port.
func TestAggModeAgent(t *testing.T) {
	e := New(Config{Logger: quiet})
	defineAll(t, e, map[string]string{
		"pooled":  "{keys:'ipprotocol', value:'frames', values:'count:ipsource', aggMode:'AGENT', t:'5'}",
		"perport": "{keys:'ipprotocol', value:'frames', values:'count:ipsource', t:'5'}",
	})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 4, Flows: 40, Mix: []synth.Proto{synth.UDP}, SamplingRate: 10, Seed: 3})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	end := feed(t, w, g, start, 300, 100, nil)
	pooled, err := e.ActiveFlows(AllAgents, "pooled", 10, 0, "", end)
	if err != nil {
		t.Fatal(err)
	}
	summed, err := e.ActiveFlows(AllAgents, "perport", 10, 0, "SUM", end)
	if err != nil {
		t.Fatal(err)
	}
	maxed, _ := e.ActiveFlows(AllAgents, "perport", 10, 0, "", end)
	if len(pooled) != 1 || pooled[0].Key != "17" || pooled[0].DataSource != "agent" || len(summed) != 1 {
		t.Fatalf("pooled %+v, summed %+v", pooled, summed)
	}
	if math.Abs(pooled[0].Value-summed[0].Value) > 1e-9*summed[0].Value || pooled[0].Value <= maxed[0].Value {
		t.Errorf("pooled %v frames/s; the ports' sum is %v, their max %v", pooled[0].Value, summed[0].Value, maxed[0].Value)
	}
	// Every flow sampled at least once is a distinct source; the ports
	// share none of them, so the pooled count is (about) all of them.
	sources := 0
	for _, n := range g.Sent {
		if n > 0 {
			sources++
		}
	}
	if c := pooled[0].Values[0]; math.Abs(c-float64(sources)) > 1 {
		t.Errorf("pooled count:ipsource %v, %d sources were sampled", c, sources)
	}
	if c := maxed[0].Values[0]; c >= float64(sources) {
		t.Errorf("one port's count %v is not below all %d sources", c, sources)
	}
	if v, ok := e.FlowValue(g.Agents()[0], "agent", "pooled", "17", end); !ok || v != pooled[0].Value {
		t.Errorf("flowValue at agent.pooled = %v %v", v, ok)
	}
	// /flowlocations carries each location's values: the four ports'
	// counts add up to all the sources (they share none).
	locs, err := e.FlowLocations(AllAgents, "perport", "17", end)
	if err != nil || len(locs) != 4 {
		t.Fatalf("flowLocations %+v %v", locs, err)
	}
	total := 0.0
	for _, l := range locs {
		if len(l.Values) != 1 {
			t.Fatalf("location %+v has no values", l)
		}
		total += l.Values[0]
	}
	if math.Abs(total-float64(sources)) > 2 {
		t.Errorf("the locations count %v sources together, %d were sampled", total, sources)
	}
}
