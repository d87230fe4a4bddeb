package script

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/dop251/goja"
)

// A script's memory is bounded by script.memory (256 MB by default, 0 for
// no limit). goja keeps no account of a runtime's memory and Go none of a
// goroutine's, so flowrt watches it in two ways:
//
//   - During a callback, the manager's watcher (every 20 ms) compares the
//     process's live heap, as each garbage collection finds it, with the
//     heap in use when the callback began: what the process kept since
//     (the heap in use counted the garbage then, the live heap what
//     survived — and what was made while the collector marked, which counts
//     until the next collection). Held memory plus that growth past the
//     budget interrupts the callback; the measurement below then says
//     whether the script holds more than the budget. So that the check does not wait
//     for Go's own collections (the heap doubles between them), the
//     watcher starts one when the heap in use has grown by more than the
//     rest of the budget since the callback began.
//   - Between callbacks, the script's own goroutine measures what its
//     runtime holds (sizeOf: a walk of everything reachable from it), when
//     its callbacks have added a quarter of the budget to the heap in use
//     since the last measurement, when a callback was interrupted for
//     memory, and once a minute while it runs. At most a tenth of the
//     script's time goes to measuring.
//
// A script that holds more than the budget is stopped: its handlers are
// cleared, its runtime dropped (its memory goes back to the heap), and
// /scripts/json (stopped, memory), the log and /metrics say so; the other
// scripts and the engine go on. A callback interrupted for memory whose
// script holds less (what it built was its own temporary data) is an
// error like any other, and the script goes on.

// memInterval is how often the watcher looks at running callbacks.
const memInterval = 20 * time.Millisecond

// memRefresh is how often a running script's memory is measured anyway.
const memRefresh = time.Minute

// memoryError is the interrupt of a callback that grew past the budget.
type memoryError struct {
	grew, held, budget int64
}

func (e memoryError) Error() string {
	return fmt.Sprintf("used more than script.memory (%s): the heap grew by %s during this callback, the script held %s before it",
		mb(e.budget), mb(e.grew), mb(e.held))
}

func mb(n int64) string {
	if n < 10<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d MB", (n+1<<19)>>20)
}

// heap reads the process's heap: in use (live objects and garbage not yet
// swept), live as the last collection found it, and the collections so far.
type heapReader struct{ s []metrics.Sample }

func newHeapReader() *heapReader {
	return &heapReader{s: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
	}}
}

func (h *heapReader) read() (inUse, live, cycles uint64) {
	metrics.Read(h.s)
	return h.s[0].Value.Uint64(), h.s[1].Value.Uint64(), h.s[2].Value.Uint64()
}

// heapSample reads the heap in use, at the start and end of each callback
// (one per script, used on its goroutine: no allocation a callback).
type heapSample struct{ s []metrics.Sample }

func (h *heapSample) inUse() uint64 {
	if h.s == nil {
		h.s = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	}
	metrics.Read(h.s)
	return h.s[0].Value.Uint64()
}

// watchMemory is the manager's watcher of running callbacks, until stop.
func (m *Manager) watchMemory(stop <-chan struct{}) {
	budget := m.deps.Memory
	h := newHeapReader()
	_, _, lastCycles := h.read()
	t := time.NewTicker(memInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for again := true; again; {
			inUse, live, cycles := h.read()
			collected := cycles != lastCycles
			lastCycles = cycles
			again = false
			for _, s := range m.list() {
				if s.checkMemory(budget, inUse, live, collected) {
					again = true
				}
			}
			if again {
				runtime.GC() // then look again, with the live heap it found
			}
		}
	}
}

// checkMemory judges the script's running callback, if any; true asks
// for a collection to know the live heap.
func (s *Script) checkMemory(budget int64, inUse, live uint64, collected bool) (collect bool) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if s.execStart == 0 || s.vm == nil {
		return false
	}
	held := s.mem.held.Load()
	if collected {
		// A collection that finds less than the callback began with (that
		// counted garbage) is the baseline from now on: what the heap keeps
		// beyond it was kept since.
		if live < s.mem.cbHeap {
			s.mem.cbHeap = live
		}
		if grew := int64(live - s.mem.cbHeap); held+grew > budget && !s.mem.over {
			s.mem.over = true
			s.vm.Interrupt(memoryError{grew: grew, held: held, budget: budget})
		}
		return false
	}
	if inUse > s.mem.cbHeap && held+int64(inUse-s.mem.cbHeap) > budget && inUse >= s.mem.forceAt {
		s.mem.forceAt = inUse + uint64(budget/4)
		return true
	}
	return false
}

// afterCallback measures the script when it is due (its goroutine); false
// when the script was stopped for its memory.
func (s *Script) afterCallback(interrupted bool) bool {
	budget := s.m.deps.Memory
	if budget <= 0 {
		return true
	}
	now := time.Now()
	due := interrupted || s.mem.grown >= budget/4 || s.mem.ran && now.Sub(s.mem.measured) >= memRefresh
	if !due || !interrupted && now.Before(s.mem.next) {
		return true
	}
	return s.measure(now)
}

// noteInterrupt counts a memory interrupt that a callback reported itself
// (an HTTP handler's answers its request) and has the script measured.
func (s *Script) noteInterrupt(err error) {
	if isMemoryInterrupt(err) {
		s.mem.interrupts.Add(1)
		s.mem.pending = true
	}
}

// measure walks the runtime; false when it holds more than the budget
// (the script is then stopped).
func (s *Script) measure(now time.Time) bool {
	budget := s.m.deps.Memory
	roots := []any{s.vm}
	s.handlersMu.RLock()
	for _, v := range []goja.Value{s.handlers.flowV, s.handlers.eventV, s.handlers.httpV, s.handlers.intervalV} {
		if v != nil {
			roots = append(roots, v)
		}
	}
	s.handlersMu.RUnlock()
	n := s.sharedBytes.Load() // its sharedSet values, held by the manager
	if n <= budget {
		n += sizeOf(budget-n+1, roots...)
	}
	took := time.Since(now)
	s.mem.held.Store(n)
	s.mem.grown, s.mem.ran, s.mem.measured = 0, false, now
	s.mem.next = now.Add(10 * took) // a tenth of the script's time at most
	if n <= budget {
		return true
	}
	s.halt(fmt.Sprintf("stopped: it holds more than script.memory (%s)", mb(budget)))
	// What it held is garbage now: collected and given back to the system
	// at once, not over the minutes the runtime's scavenger would take.
	go debug.FreeOSMemory()
	return false
}

// isMemoryInterrupt says whether a callback's error is the watcher's.
func isMemoryInterrupt(err error) bool {
	var ie *goja.InterruptedError
	if !errors.As(err, &ie) {
		return false
	}
	_, ok := ie.Value().(memoryError)
	return ok
}
