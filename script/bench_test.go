package script

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/dop251/goja"
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
	r := newRigWith(b, 10*time.Second, func(d *Deps) { d.Memory = 256 << 20 }) // as flowrt runs scripts
	s := r.load(b, "bench.js", src)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for len(s.jobs) > QueueLength/2 || s.flows.len() > r.m.deps.FlowQueue/2 {
			runtime.Gosched()
		}
		feed(r.m, i)
	}
	// Every record handled: flow records have a queue of their own, which
	// the script drains beside its other callbacks.
	want := strconv.Itoa(b.N)
	for got := string(call(b, s, "n", nil).Body); got != want; got = string(call(b, s, "n", nil).Body) {
		if s.Status().FlowsQueued == 0 && s.Status().FlowsLost > 0 {
			b.Fatalf("handled %s of %d", got, b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	if st := s.Status(); st.FlowsLost+st.EventsLost != 0 || st.Error != "" {
		b.Fatalf("status %+v", st)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONStringify: a flow record's JSON, by the script's bounded
// JSON.stringify (an identity replacer makes it interruptible) and by
// goja's own.
func BenchmarkJSONStringify(b *testing.B) {
	const rec = "({flowID: 12345, name: 'pairs', flowKeys: '10.0.0.1,192.168.1.1', value: 1000, start: 1, end: 2, agent: '10.255.0.1', dataSource: '3', values: [1, 2.5]})"
	r := newRig(b, 10*time.Second)
	s := r.load(b, "json.js", "var rec = "+rec+";")
	plain := goja.New()
	plain.RunString("var rec = " + rec + ";")
	for _, c := range []struct {
		name string
		vm   *goja.Runtime
	}{{"bounded", s.vm}, {"goja", plain}} {
		b.Run(c.name, func(b *testing.B) {
			// Run on this goroutine: the script's is idle (nothing queued).
			fn, _ := goja.AssertFunction(c.vm.Get("JSON").ToObject(c.vm).Get("stringify"))
			v := c.vm.Get("rec")
			b.ReportAllocs()
			for range b.N {
				if _, err := fn(goja.Undefined(), v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHeapInUse: what each callback pays, twice, for the memory
// budget.
func BenchmarkHeapInUse(b *testing.B) {
	var h heapSample
	b.ReportAllocs()
	for range b.N {
		h.inUse()
	}
}
