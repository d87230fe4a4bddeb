package script

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
)

// TestFlowBurstAtTick: 100 data sources of up to 200 flows each, all
// logged at once at their activeTimeout tick — ~17,500 records in the few
// milliseconds of one engine sweep — reach a handler that takes ~10 µs a
// record (it keeps up over the interval): none is lost. Before, the queue
// of 1,000 callbacks the records shared lost all but ~1,000 of a burst
// (33.6% in the soak).
func TestFlowBurstAtTick(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "burst.js", `
var n = 0, bytes = {};
setFlow('burst', {keys: 'ipsource,ipdestination', value: 'frames', n: 20, log: true, activeTimeout: 1});
setFlowHandler(function(rec) {
  var [src, dst] = rec.flowKeys.split(',');
  bytes[src] = (bytes[src] || 0) + rec.value;
  n++;
}, ['burst']);
setHttpHandler(function() { return '' + n; });`)
	g, err := synth.New(synth.Config{Agents: 10, Ports: 10, Flows: 20000, Zipf: 0.01, SamplesPerDgram: 8,
		Mix: []synth.Proto{synth.TCP}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	w := r.e.NewWorker()
	now := time.Now()
	for range 25000 {
		b, _ := g.Datagram(nil, 1000)
		w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now)
	}
	start := time.Now()
	r.e.Sweep(now.Add(2 * time.Second)) // the tick: every flow is due
	sweep := time.Since(start)
	st := s.Status()
	if st.FlowsReceived < 15000 {
		t.Fatalf("the tick logged %d records; the test wants a burst of ~17,500", st.FlowsReceived)
	}
	want := strconv.FormatUint(st.FlowsReceived, 10)
	eventually(t, "every record handled", func() bool { return string(call(t, s, "n", nil).Body) == want })
	handled := time.Since(start)
	if st := s.Status(); st.FlowsLost != 0 || st.FlowsQueued != 0 || st.Errors != 0 {
		t.Errorf("status after the burst: %+v", st)
	}
	t.Logf("burst of %d records at one tick: logged in %v, all handled %v after the tick, 0 lost; %d waited at most",
		st.FlowsReceived, sweep.Round(time.Millisecond), handled.Round(time.Millisecond), s.Status().FlowsQueuedPeak)
}

// TestFlowQueueLimit: a burst beyond script.flowqueue loses what does not
// fit, counted, and the rest is handled.
func TestFlowQueueLimit(t *testing.T) {
	r := newRig(t, 2*time.Second)
	r.m.deps.FlowQueue = 300
	s := r.load(t, "small.js", `
var n = 0;
setFlow('burst', {keys: 'ipsource,ipdestination', value: 'frames', n: 20, log: true, activeTimeout: 1});
setFlowHandler(function(rec) { var t = Date.now(); while (Date.now() - t < 1) {} n++; }, ['burst']);
setHttpHandler(function() { return '' + n; });`)
	g, _ := synth.New(synth.Config{Agents: 2, Ports: 2, Flows: 2000, Zipf: 0.01, SamplesPerDgram: 8, Mix: []synth.Proto{synth.TCP}, Seed: 7})
	w := r.e.NewWorker()
	now := time.Now()
	for range 1000 {
		b, _ := g.Datagram(nil, 1000)
		w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now)
	}
	r.e.Sweep(now.Add(2 * time.Second))
	st := s.Status()
	// During the sweep the 1 ms handler takes some records: at least what
	// did not fit in 300 places is lost, and some is.
	if st.FlowsReceived < 600 || st.FlowsLost > st.FlowsReceived-300 || st.FlowsLost == 0 {
		t.Errorf("%d records into a queue of 300 with a 1 ms handler: %d lost", st.FlowsReceived, st.FlowsLost)
	}
	want := strconv.FormatUint(st.FlowsReceived-st.FlowsLost, 10)
	eventually(t, "the rest handled", func() bool { return string(call(t, s, "n", nil).Body) == want })
}
