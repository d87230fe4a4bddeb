package engine

import (
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
)

// badRecords is synth.BadRecords: a datagram whose records do not decode.
func badRecords(t testing.TB, seq uint32) []byte {
	t.Helper()
	b, err := synth.BadRecords(seq)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordErrorsCounted: records that do not decode inside datagrams
// that do are counted by reason, per agent and in all, and the rest of the
// datagram is applied; rtmetric samples count as the agent's counter
// samples.
func TestRecordErrorsCounted(t *testing.T) {
	e := New(Config{Logger: quiet})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for i := range uint32(5) {
		b := badRecords(t, i+1)
		var d sflow.Datagram
		if err := sflow.Decode(b, &d); err != nil {
			t.Fatalf("the datagram itself must decode: %v", err)
		}
		w.Process(b, src, now.Add(time.Duration(i)*time.Second))
	}
	info := e.AgentsInfo(AllAgents, now)["10.0.0.7"]
	// Per datagram: the sampled_header, the host_descr and the rtmetric body.
	if info.RecordDecodeErrors != 15 || info.DecodeErrors != 0 {
		t.Errorf("agent: %d record decode errors (%v), %d datagram decode errors; want 15 and 0",
			info.RecordDecodeErrors, info.RecordDecodeErrorsBy, info.DecodeErrors)
	}
	var sum uint64
	for _, n := range info.RecordDecodeErrorsBy {
		sum += n
	}
	if sum != 15 {
		t.Errorf("by reason %v: sums to %d, want 15", info.RecordDecodeErrorsBy, sum)
	}
	tot := e.Totals()
	if tot.RecordErrors["length"]+tot.RecordErrors["truncated"] != 15 {
		t.Errorf("engine record errors %v, want 15 length or truncated", tot.RecordErrors)
	}
	if an := e.Analyzer(); an["sFlowRecordDecodeErrors"].(uint64) != 15 || an["sFlowDecodeErrors"].(uint64) != 0 {
		t.Errorf("analyzer: %v record, %v datagram decode errors", an["sFlowRecordDecodeErrors"], an["sFlowDecodeErrors"])
	}
	// The counter sample and the rtmetric sample both counted; the good
	// record beside the bad one applied; the rtmetric fields before the
	// cut applied at its data source.
	if info.CounterSamples != 10 || info.FlowSamples != 5 || info.CounterDatasources != 2 {
		t.Errorf("counter samples %d (want 5 counter + 5 rtmetric), flow samples %d, counter data sources %d (want 2.1 and app1)",
			info.CounterSamples, info.FlowSamples, info.CounterDatasources)
	}
	later := now.Add(4 * time.Second)
	if p := e.Points(AllAgents, "2.1.ifspeed", nil, later); len(p) != 1 || p[0].MetricValue != 1e9 {
		t.Errorf("the good record beside the bad host_descr: %+v", p)
	}
	if p := e.Points(AllAgents, "app1.requests", nil, later); len(p) != 1 {
		t.Errorf("the rtmetric fields before the cut: %+v", p)
	}
}
