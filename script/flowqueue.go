package script

import (
	"sync"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
)

// Flow records arrive in bursts: at each activeTimeout tick the engine
// logs every long-running flow of a definition at once, thousands in a
// millisecond, to a handler that may take 10 µs each and keeps up easily
// over the interval. They wait in a queue of their own, sized for such a
// burst (script.flowqueue records, 100,000 by default; 120 bytes a
// record, grown as bursts need), not in the 1,000 places the other
// callbacks share, and the script takes them in batches: one signal
// (flowReady) however many records wait, so a burst never fills the
// callback queue either. Only a burst beyond script.flowqueue loses
// records, counted in flowsLost.

// flowBatch is how many records the script handles before it looks at its
// other callbacks again.
const flowBatch = 256

// flowQueue is a ring of records, grown (doubling) up to max.
type flowQueue struct {
	mu   sync.Mutex
	buf  []engine.FlowRecord
	head int
	n    int
	max  int
	peak int // the most that waited at once (to size script.flowqueue by)
}

// push queues r; false when the queue is full. first says the queue was
// empty (the script must be told).
func (q *flowQueue) push(r engine.FlowRecord) (ok, first bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.buf) {
		if len(q.buf) >= q.max {
			return false, false
		}
		grown := make([]engine.FlowRecord, min(max(2*len(q.buf), 1024), q.max))
		for i := range q.n {
			grown[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
	q.peak = max(q.peak, q.n)
	return true, q.n == 1
}

// pop moves up to len(into) records into into; more says some remain.
func (q *flowQueue) pop(into []engine.FlowRecord) (got []engine.FlowRecord, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := min(q.n, len(into))
	for i := range k {
		j := (q.head + i) % len(q.buf)
		into[i] = q.buf[j]
		q.buf[j] = engine.FlowRecord{} // the strings go with the record
	}
	q.head = (q.head + k) % max(len(q.buf), 1)
	q.n -= k
	return into[:k], q.n > 0
}

// clear drops what waits (a script stopped).
func (q *flowQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.buf, q.head, q.n = nil, 0, 0
}

func (q *flowQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *flowQueue) lens() (n, peak int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, q.peak
}

// queueFlow hands a record to the script (the engine's side: it never
// waits).
func (s *Script) queueFlow(r engine.FlowRecord) {
	s.stats.flowsReceived.Add(1)
	ok, first := s.flows.push(r)
	if !ok {
		s.stats.flowsLost.Add(1)
		return
	}
	if first {
		s.signalFlows()
	}
}

func (s *Script) signalFlows() {
	select {
	case s.flowReady <- struct{}{}:
	default: // already signalled
	}
}

// handleFlows runs the flow handler on a batch of records (the script's
// goroutine), each record a callback of its own under script.timeout;
// false when the script was stopped for its memory.
func (s *Script) handleFlows(batch []engine.FlowRecord) bool {
	got, more := s.flows.pop(batch)
	for _, r := range got {
		err := s.exec(jobFlow, func(vm *goja.Runtime) error {
			// The handler is set on this goroutine: read the current one,
			// which may have been cleared since the record came.
			if fn := s.handlers.flow; fn != nil {
				_, err := fn(goja.Undefined(), recordJS(vm, r))
				return err
			}
			return nil
		})
		if !s.callback(err) {
			return false
		}
	}
	if more {
		s.signalFlows()
	}
	return true
}
