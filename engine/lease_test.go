package engine

import (
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

// TestLeasedDefinitions: a leased definition is renewed (its flows kept)
// by defining it again with the same spec, replaced by a different spec,
// and removed once its lease has passed without renewal; a definition
// without a lease never is.
func TestLeasedDefinitions(t *testing.T) {
	e := New(Config{})
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 20, SamplingRate: 10, Seed: 3})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	spec, _ := flow.ParseSpec([]byte("{keys:'ipsource', value:'frames'}"))
	if renewed, err := e.DefineLeased("ui_x", spec, 10*time.Second, start); err != nil || renewed {
		t.Fatalf("first definition: renewed %v, %v", renewed, err)
	}
	defineAll(t, e, map[string]string{"kept": "{keys:'ipsource', value:'frames'}"})
	now := feed(t, w, g, start, 200, 100, nil)
	top := func() int {
		f, err := e.ActiveFlows(AllAgents, "ui_x", 100, 0, "", now)
		if err != nil {
			return -1
		}
		return len(f)
	}
	before := top()
	if before == 0 {
		t.Fatal("no flows for the leased definition")
	}
	// Renewed with the same spec: the flows gathered so far stay.
	if renewed, err := e.DefineLeased("ui_x", spec, 10*time.Second, now); err != nil || !renewed {
		t.Fatalf("renewal: renewed %v, %v", renewed, err)
	}
	if got := top(); got != before {
		t.Errorf("renewal lost flows: %d, had %d", got, before)
	}
	if until := e.Leases()["ui_x"]; !until.Equal(now.Add(10 * time.Second).Truncate(time.Millisecond)) {
		t.Errorf("lease ends %v, want %v", until, now.Add(10*time.Second))
	}
	if _, ok := e.Leases()["kept"]; ok {
		t.Error("a definition without a lease is listed as leased")
	}
	// Before the lease ends nothing goes; after, the leased one goes and
	// the other stays.
	e.expireLeases(now.Add(9 * time.Second))
	if _, ok := e.Definition("ui_x"); !ok {
		t.Fatal("removed before its lease ended")
	}
	e.expireLeases(now.Add(11 * time.Second))
	if _, ok := e.Definition("ui_x"); ok {
		t.Fatal("still defined after its lease lapsed")
	}
	if _, ok := e.Definition("kept"); !ok {
		t.Fatal("a definition without a lease was removed")
	}
	// A page that wakes up defines it again, from nothing.
	if renewed, err := e.DefineLeased("ui_x", spec, 10*time.Second, now.Add(12*time.Second)); err != nil || renewed {
		t.Fatalf("definition after the lapse: renewed %v, %v", renewed, err)
	}
	// A different spec replaces the definition (and its flows).
	other, _ := flow.ParseSpec([]byte("{keys:'ipdestination', value:'bytes'}"))
	if renewed, err := e.DefineLeased("ui_x", other, 10*time.Second, now); err != nil || renewed {
		t.Fatalf("new spec: renewed %v, %v", renewed, err)
	}
	if s, _ := e.Definition("ui_x"); s.Value != "bytes" {
		t.Errorf("spec not replaced: %+v", s)
	}
	// Defining without a lease makes it permanent.
	if err := e.Define("ui_x", other); err != nil {
		t.Fatal(err)
	}
	e.expireLeases(now.Add(time.Hour))
	if _, ok := e.Definition("ui_x"); !ok {
		t.Error("a definition redefined without a lease was removed by the old lease")
	}
	for _, d := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Hour} {
		if _, err := e.DefineLeased("ui_y", spec, d, now); err == nil {
			t.Errorf("lease %v accepted", d)
		}
	}
}
