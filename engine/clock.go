package engine

import (
	"math"
	"time"
)

// The engine's clock. Live, it is the wall clock: datagrams are stamped
// when they arrive and a query asks about the moment it is made. A fast
// capture replay (sflow.file.realtime=no) applies minutes of traffic in
// milliseconds, each datagram stamped with its capture time; measured
// against the wall clock that state would be years old (every agent timed
// out, every flow decayed to nothing) the moment the replay ends. So while
// a replay worker (NewReplayWorker) applies datagrams, the engine's "now" —
// for queries, smoothing, rates, ageing, sweeps and thresholds — is the
// capture's clock: the latest capture timestamp applied. It stays there
// once the replay ends, so what the capture describes stays queryable for
// as long as the engine runs: flows keep their values at the capture's
// end, agents and data sources do not age out.
//
// Callers keep passing the wall time of their request; Time maps it to the
// engine's time. Scripts, the REST API and thresholds need not know which
// clock runs.

// noCapture marks the wall clock in captureMs.
const noCapture = math.MinInt64

// Time is the engine's time for a request made at wall time wall: wall
// itself, or during and after a fast replay the capture's clock.
func (e *Engine) Time(wall time.Time) time.Time {
	if ms := e.captureMs.Load(); ms != noCapture {
		return time.UnixMilli(ms)
	}
	return wall
}

// CaptureClock reports whether the engine runs on a capture's clock, and
// its time (ms).
func (e *Engine) CaptureClock() (ms int64, ok bool) {
	ms = e.captureMs.Load()
	return ms, ms != noCapture
}

// ms is Time in Unix milliseconds.
func (e *Engine) ms(wall time.Time) int64 {
	if ms := e.captureMs.Load(); ms != noCapture {
		return ms
	}
	return wall.UnixMilli()
}

// NewReplayWorker returns a worker for a fast replay: the times it is
// given are capture timestamps, and they become the engine's clock. It
// also does the periodic work (ending idle flows, active timeouts, ageing)
// once per second of capture time, as Run does once per second of wall
// time live, so flows that end inside the capture are logged with the
// capture's times. Only one goroutine may use it.
func (e *Engine) NewReplayWorker() *Worker {
	w := e.NewWorker()
	w.replay = true
	w.nextSweep = noCapture
	return w
}

// advance moves the capture clock to t (never back: datagrams of a merged
// capture may be out of order) and sweeps when a second of capture time
// has passed since the last sweep.
func (w *Worker) advance(t time.Time) {
	ms := t.UnixMilli()
	if cur := w.e.captureMs.Load(); cur == noCapture || ms > cur {
		w.e.captureMs.Store(ms)
	} else {
		ms = cur
	}
	if w.nextSweep == noCapture {
		w.nextSweep = ms + 1000
		return
	}
	if ms >= w.nextSweep {
		w.nextSweep = ms + 1000
		w.e.Sweep(time.UnixMilli(ms))
	}
}
