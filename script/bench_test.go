package script

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/threshold"
)

// BenchmarkFlowHandler measures a script's flow-record throughput end to
// end: records queued by the engine side, converted to JavaScript objects
// and handed to a handler that does what the seed scripts do (split the
// keys, count per key), on the script's goroutine. The feeder waits when the
// queue is half full, so nothing is lost and ns/op is the per-record cost.
func BenchmarkFlowHandler(b *testing.B) {
	benchHandler(b, `var n = 0, seen = {};
setFlowHandler(function(rec) {
  var [src, dst] = rec.flowKeys.split(',');
  seen[src] = (seen[src] || 0) + rec.value;
  n++;
}, ['pairs']);
setHttpHandler(function() { return '' + n; });`, func(m *Manager, i int) {
		m.flowRecord(engine.FlowRecord{Name: "pairs", FlowKeys: "10.0.0." + strconv.Itoa(i%250) + ",192.168.1.1",
			Value: 1000, Start: 1, End: 2, Agent: "10.255.0.1", DataSource: "3"})
	})
}

// BenchmarkEventHandler is the same for threshold events (the DDoS scripts).
func BenchmarkEventHandler(b *testing.B) {
	benchHandler(b, `var n = 0, controls = {};
setEventHandler(function(evt) {
  if(!controls[evt.flowKey]) controls[evt.flowKey] = {time: Date.now(), agent: evt.agent};
  n++;
}, ['ddos']);
setHttpHandler(function() { return '' + n; });`, func(m *Manager, i int) {
		m.event(threshold.Event{EventID: int64(i), ThresholdID: "ddos", Metric: "ddos", Threshold: 1000, Value: 5000,
			Agent: "10.255.0.1", DataSource: "3", FlowKey: "10.0.0." + strconv.Itoa(i%250)})
	})
}

func benchHandler(b *testing.B, src string, feed func(m *Manager, i int)) {
	r := newRig(b, 10*time.Second)
	s := r.load(b, "bench.js", src)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for len(s.jobs) > QueueLength/2 || s.flows.len() > r.m.deps.FlowQueue/2 {
			runtime.Gosched()
		}
		feed(r.m, i)
	}
	// The answer comes after every queued record has been handled.
	got := string(call(b, s, "n", nil).Body)
	b.StopTimer()
	if got != strconv.Itoa(b.N) {
		b.Fatalf("handled %s of %d", got, b.N)
	}
	if st := s.Status(); st.FlowsLost+st.EventsLost != 0 || st.Error != "" {
		b.Fatalf("status %+v", st)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
