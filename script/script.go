// Package script runs sFlow-RT's JavaScript applications: each script in
// its own goja runtime on its own goroutine, fed by a bounded queue of
// callbacks (flow records, threshold events, intervals, HTTP requests). A
// script that throws is reported with file and line and keeps serving later
// callbacks; one that runs too long is interrupted; one that falls behind
// loses queued items, counted, and never slows the collector.
package script

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
)

// Script is one running script.
type Script struct {
	ID   string // "ddos.js", or "<app>/<file>.js" for applications
	App  string
	Path string
	Meta map[string]string // the leading "// key: value" comments

	topSeventhSaid bool // bgpTopPrefixes' unused seventh argument was logged (bgp.go)

	root string // include() reads files under it: the application's directory, or the script's

	m          *Manager
	vm         *goja.Runtime
	ctx        context.Context // ends when the script stops: what it waits on gives up
	cancel     context.CancelFunc
	jobs       chan job
	flows      flowQueue     // flow records wait here, not in jobs (flowqueue.go)
	flowReady  chan struct{} // records are waiting
	quit       chan struct{}
	done       chan struct{}
	loaded     chan struct{} // closed when the top-level code has run
	handlers   handlers
	handlersMu sync.RWMutex // handlers are set on the script's goroutine, read by the engine's
	store      *store
	stringify  func(v, space goja.Value) (goja.Value, error) // JSON.stringify, bounded (natives.go)
	log        *slog.Logger

	// The watchdog interrupts a callback that runs longer than
	// script.timeout: one timer per script, reset for each callback (a new
	// timer per callback cost more than a short handler).
	watchdog  *time.Timer
	watchMu   sync.Mutex
	execStart int64 // unix ns of the running callback's start; 0 when idle

	mu       sync.Mutex
	alive    bool
	graceful bool
	loadErr  string // why the script did not load, or stopped loading part way
	stopped  string // why flowrt stopped the script (its memory)
	lastErr  string
	errCount uint64
	errTime  time.Time
	errLog   errorLog
	errFlush *time.Timer // logs what errLog held back when its window ends
	cpu      time.Duration

	stats struct {
		flowsReceived, flowsLost, eventsReceived, eventsLost, requestsReceived, requestsLost atomic.Uint64
	}
	timeouts    atomic.Uint64 // callbacks interrupted at script.timeout
	sharedBytes atomic.Int64  // what the script's sharedSet values take (shared.go)
	// memory.go: what the script holds, and how its running callback grows the heap.
	mem struct {
		held           atomic.Int64  // bytes at the last measurement
		interrupts     atomic.Uint64 // callbacks interrupted for memory
		cbHeap         uint64        // watchMu: the heap in use when the running callback began
		forceAt        uint64        // watchMu: the heap in use from which the watcher may start a collection
		over           bool          // watchMu: the running callback was interrupted for memory
		grown          int64         // the script's goroutine: heap-in-use growth over its callbacks since the last measurement
		ran            bool          // a callback ran since the last measurement
		pending        bool          // a callback reported a memory interrupt itself: measure
		heap           heapSample    // the script goroutine's reader
		measured, next time.Time     // the last measurement; the earliest next one
	}
	async struct {
		inFlight      atomic.Int64
		refused, lost atomic.Uint64 // refused at script.httpasync.max; callbacks lost to a full queue
	}
}

// kinds of queued work, for the lost counters.
const (
	jobFlow = iota
	jobEvent
	jobRequest
	jobInterval
	jobCall
)

type job struct {
	kind int
	fn   func(vm *goja.Runtime) error
}

type handlers struct {
	flow      goja.Callable
	flowNames map[string]bool
	event     goja.Callable
	eventIDs  map[string]bool
	http      goja.Callable
	interval  *intervalHandler
	// The handlers' functions as values, for the memory measurement (a
	// Callable is a Go closure, which it cannot see into).
	flowV, eventV, httpV, intervalV goja.Value
}

type intervalHandler struct {
	fn      goja.Callable
	every   time.Duration
	pending atomic.Bool
	stop    chan struct{}
}

// QueueLength is how many callbacks (other than flow records, which have
// their own queue) may wait for one script.
const QueueLength = 1000

// Status is a script's entry in /scripts/json (sFlow-RT's fields, and ours).
// A script that could not be read or compiled is listed, not alive, with
// LoadError; one whose top-level code threw is alive (what it set up before
// the error runs) with LoadError. Error is the last error of any kind, in
// one line; Errors counts them all, ErrorTime (ms) is the last one's time.
type Status struct {
	Alive            bool              `json:"alive"`
	GracefulExit     bool              `json:"gracefulExit"`
	LoadError        string            `json:"loadError,omitempty"`
	Error            string            `json:"error,omitempty"`
	Errors           uint64            `json:"errors"`
	ErrorTime        int64             `json:"errorTime,omitempty"`
	CPUMs            int64             `json:"cpuMs"`
	FlowsReceived    uint64            `json:"flowsReceived"`
	FlowsLost        uint64            `json:"flowsLost"`
	FlowsQueued      int               `json:"flowsQueued"`
	FlowsQueuedPeak  int               `json:"flowsQueuedPeak"`
	EventsReceived   uint64            `json:"eventsReceived"`
	EventsLost       uint64            `json:"eventsLost"`
	RequestsReceived uint64            `json:"requestsReceived"`
	RequestsLost     uint64            `json:"requestsLost"`
	Stopped          string            `json:"stopped,omitempty"`
	Memory           int64             `json:"memory"`
	MemoryInterrupts uint64            `json:"memoryInterrupts"`
	Timeouts         uint64            `json:"timeouts"`
	HTTPAsync        int64             `json:"httpAsyncInFlight"`
	HTTPAsyncRefused uint64            `json:"httpAsyncRefused"`
	HTTPAsyncLost    uint64            `json:"httpAsyncLost"`
	Path             string            `json:"path"`
	App              string            `json:"app,omitempty"`
	Meta             map[string]string `json:"meta,omitempty"`
}

// Status returns the script's status.
func (s *Script) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errTime int64
	if s.errCount > 0 {
		errTime = s.errTime.UnixMilli()
	}
	queued, peak := s.flows.lens()
	return Status{FlowsQueued: queued, FlowsQueuedPeak: peak, Alive: s.alive, GracefulExit: s.graceful, LoadError: s.loadErr, Error: s.lastErr,
		Errors: s.errCount, ErrorTime: errTime, CPUMs: s.cpu.Milliseconds(),
		FlowsReceived: s.stats.flowsReceived.Load(), FlowsLost: s.stats.flowsLost.Load(),
		EventsReceived: s.stats.eventsReceived.Load(), EventsLost: s.stats.eventsLost.Load(),
		RequestsReceived: s.stats.requestsReceived.Load(), RequestsLost: s.stats.requestsLost.Load(),
		Stopped: s.stopped, Memory: s.mem.held.Load(), MemoryInterrupts: s.mem.interrupts.Load(), Timeouts: s.timeouts.Load(),
		HTTPAsync: s.async.inFlight.Load(), HTTPAsyncRefused: s.async.refused.Load(), HTTPAsyncLost: s.async.lost.Load(),
		Path: s.Path, App: s.App, Meta: s.Meta}
}

// OK reports whether the script loaded and is running or ended cleanly
// (/status, /app/<name>/status). Errors in later callbacks do not count:
// the script goes on serving.
func (s *Script) OK() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr == "" && (s.alive || s.graceful)
}

// LoadError says why the script did not load, or stopped loading part way
// ("" when it loaded).
func (s *Script) LoadError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr
}

// metaLine is a header line: "// key: value", the key one word.
var metaLine = regexp.MustCompile(`^//\s*([A-Za-z][A-Za-z0-9_.-]*):\s*(.*?)\s*$`)

// readMeta reads the header: the "// key: value" lines a script starts with
// (sFlow-RT's author, version, date, description). The header ends at the
// first other line, so a comment in prose is never read as a field, even
// where a sentence has a colon.
func readMeta(src string) map[string]string {
	meta := map[string]string{}
	for _, line := range strings.Split(strings.TrimLeft(src, "\uFEFF\r\n\t "), "\n") {
		m := metaLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			break
		}
		meta[m[1]] = m[2]
	}
	return meta
}

// enqueue queues work without ever blocking; false (and a lost count) when
// the queue is full.
func (s *Script) enqueue(kind int, fn func(vm *goja.Runtime) error) bool {
	select {
	case s.jobs <- job{kind, fn}:
		return true
	default:
		switch kind {
		case jobFlow:
			s.stats.flowsLost.Add(1)
		case jobEvent:
			s.stats.eventsLost.Add(1)
		case jobRequest:
			s.stats.requestsLost.Add(1)
		}
		return false
	}
}

// run is the script's goroutine: the top-level code, then callbacks.
func (s *Script) run(prg *goja.Program) {
	defer close(s.done)
	if err := s.exec(jobCall, func(vm *goja.Runtime) error {
		_, err := vm.RunProgram(prg)
		return err
	}); err != nil {
		line, _ := describe(err)
		s.notLoaded(line, true)
		if isMemoryInterrupt(err) {
			s.mem.interrupts.Add(1)
		}
	}
	if s.m.deps.Memory > 0 && !s.measure(time.Now()) {
		close(s.loaded)
		return // its top-level code kept more than the budget
	}
	close(s.loaded)
	batch := make([]engine.FlowRecord, flowBatch)
	for {
		select {
		case <-s.quit:
			return
		case j := <-s.jobs:
			if !s.callback(s.exec(j.kind, j.fn)) {
				return
			}
		case <-s.flowReady:
			if !s.handleFlows(batch) {
				return
			}
		}
	}
}

// callback records a callback's error and measures the script's memory
// when due; false when the script was stopped for it.
func (s *Script) callback(err error) bool {
	mem := err != nil && isMemoryInterrupt(err)
	if mem {
		s.mem.interrupts.Add(1)
	}
	mem, s.mem.pending = mem || s.mem.pending, false
	if err != nil {
		s.fail(err)
	}
	return s.afterCallback(mem)
}

// notLoaded records why the script did not load (alive: its top-level code
// threw, and what it set up before goes on).
func (s *Script) notLoaded(msg string, alive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alive = alive
	s.loadErr, s.lastErr = msg, msg
	s.errCount++
	s.errTime = time.Now()
}

// bark interrupts the running callback if it has run past the limit.
func (s *Script) bark() {
	limit := s.m.deps.CallTimeout
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if s.execStart != 0 && s.vm != nil && time.Since(time.Unix(0, s.execStart)) >= limit {
		s.timeouts.Add(1)
		s.vm.Interrupt(fmt.Errorf("ran longer than %v (script.timeout)", limit))
	}
}

// exec runs one entry into JavaScript under the time limit and returns its
// error (none when the script is being stopped).
func (s *Script) exec(kind int, fn func(vm *goja.Runtime) error) error {
	limit := s.m.deps.CallTimeout
	var heap0 uint64
	if s.m.deps.Memory > 0 {
		heap0 = s.mem.heap.inUse()
	}
	start := time.Now()
	s.watchMu.Lock()
	s.execStart = start.UnixNano()
	s.mem.cbHeap, s.mem.forceAt, s.mem.over = heap0, 0, false
	s.watchMu.Unlock()
	if s.watchdog == nil {
		s.watchdog = time.AfterFunc(limit, s.bark)
	} else {
		s.watchdog.Reset(limit)
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn(s.vm)
	}()
	// After this no bark interrupts; one that came before is cleared.
	s.watchMu.Lock()
	s.execStart = 0
	s.watchMu.Unlock()
	s.watchdog.Stop()
	s.vm.ClearInterrupt()
	if heap0 > 0 {
		if heap1 := s.mem.heap.inUse(); heap1 > heap0 {
			s.mem.grown += int64(heap1 - heap0)
		}
		s.mem.ran = true
	}
	s.mu.Lock()
	s.cpu += time.Since(start)
	s.mu.Unlock()
	select {
	case <-s.quit:
		return nil // interrupted because the script is being stopped
	default:
	}
	return err
}

// fail records an error in a callback; the script goes on serving. The log
// gets it as errorLog allows; /scripts/json counts it always.
func (s *Script) fail(err error) {
	line, full := describe(err)
	now := time.Now()
	s.mu.Lock()
	s.lastErr = line
	s.errCount++
	s.errTime = now
	n := s.errLog.note(now, line)
	if !n.full && s.errFlush == nil {
		s.errFlush = time.AfterFunc(s.errLog.start.Add(errorWindow).Sub(now)+time.Millisecond, s.flushErrors)
	}
	s.mu.Unlock()
	s.logSkipped(n.skipped, n.last, n.over)
	switch {
	case n.full:
		s.log.Error("script error", "err", full)
	case n.notice:
		s.log.Warn("script error repeats: repeats are counted in /scripts/json (errors, error, errorTime) and summarised here once a minute", "err", line)
	}
}

// flushErrors logs the summary of the errors held back in a window that
// ended (the errors may have stopped: the summary must not wait for the next).
func (s *Script) flushErrors() {
	s.mu.Lock()
	now := time.Now()
	s.errFlush = nil
	n, last, over := s.errLog.flush(now)
	if s.errLog.skipped > 0 { // a new window began (at an error) before this ran
		s.errFlush = time.AfterFunc(s.errLog.start.Add(errorWindow).Sub(now)+time.Millisecond, s.flushErrors)
	}
	s.mu.Unlock()
	s.logSkipped(n, last, over)
}

func (s *Script) logSkipped(n int, last string, over time.Duration) {
	if n > 0 {
		if over >= time.Second {
			over = over.Round(time.Second)
		}
		s.log.Warn("script errors not logged", "count", n, "over", over.Round(time.Millisecond), "last", last)
	}
}

func (s *Script) stop() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.stopInterval()
	s.cancel()
	s.watchMu.Lock()
	if s.vm != nil {
		s.vm.Interrupt("stopped")
	}
	s.watchMu.Unlock()
	<-s.done
	s.mu.Lock()
	if s.alive {
		s.alive, s.graceful = false, true
	}
	if s.errFlush != nil {
		s.errFlush.Stop()
		s.errFlush = nil
	}
	// What was held back is told now, not lost with the script.
	n, last, over := s.errLog.skipped, s.errLog.skippedLast, time.Since(s.errLog.start)
	s.errLog.skipped = 0
	s.mu.Unlock()
	s.logSkipped(n, last, over)
}

// halt stops the script from its own goroutine, which then returns: flowrt
// stopped it (its memory), for the reason given. Its handlers go, what it
// waits on is cancelled, and its runtime is dropped, so that what it held
// goes back to the heap; /scripts/json keeps its entry.
func (s *Script) halt(reason string) {
	s.mu.Lock()
	s.alive, s.stopped = false, reason
	s.lastErr = reason
	s.errCount++
	s.errTime = time.Now()
	s.mu.Unlock()
	s.log.Error("script stopped: it holds more than script.memory; the engine and the other scripts go on", "reason", reason)
	s.stopInterval()
	s.handlersMu.Lock()
	s.handlers = handlers{}
	s.handlersMu.Unlock()
	s.cancel()
	for {
		select {
		case <-s.jobs: // queued callbacks hold the runtime
			continue
		default:
		}
		break
	}
	s.flows.clear()
	s.watchMu.Lock()
	s.vm = nil
	s.watchMu.Unlock()
	s.stringify = nil
}

// stopInterval ends the interval handler's ticker.
func (s *Script) stopInterval() {
	s.handlersMu.Lock()
	h := s.handlers.interval
	s.handlers.interval = nil
	s.handlersMu.Unlock()
	if h != nil {
		close(h.stop)
	}
}

// Dir returns the script's directory (scriptdir()).
func (s *Script) Dir() string { return filepath.Dir(s.Path) }

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
