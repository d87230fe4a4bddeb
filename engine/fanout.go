package engine

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// Fanout spreads the work of datagrams read on few sockets over every
// core. One exporter is one source address and port, which SO_REUSEPORT
// hashes to one socket and so to one receiving goroutine: without this,
// a single agent sending at the machine's limit gets one core.
//
// Each receiving goroutine has a Reader. It decodes the datagram and does,
// in arrival order, everything whose result depends on that order — the
// agent's datagram sequence numbers, each data source's sample sequence
// numbers, counter samples — then copies the datagram into a batch that a
// worker takes: the flow samples (record and packet decoding, every
// definition's key and value, the table updates) are the bulk of the work
// and their order does not matter. A worker evaluates the definitions
// without the agent's lock and takes it only to add the results to the
// tables, once per agent per batch, so that workers sharing one agent
// overlap and the Reader seldom waits for them.
//
// While the Reader keeps up with its socket it applies the flow samples
// itself (see Reader). When every batch is taken (the workers are behind)
// it does too: memory stays bounded, nothing waits, and loss, if any,
// stays in the kernel, where it is counted.
type Fanout struct {
	e       *Engine
	workers int
	full    chan *fanBatch
	free    chan *fanBatch
	// Datagrams whose flow samples a worker applied, and those a Reader
	// applied itself (every batch taken).
	handed, inline atomic.Uint64
}

// Handed returns the datagrams handed to the workers and those the
// reading goroutines applied themselves because the workers were behind.
func (f *Fanout) Handed() (handed, inline uint64) { return f.handed.Load(), f.inline.Load() }

// fanBatch is datagrams handed from a Reader to a worker, with the data
// sources admit found for their samples.
type fanBatch struct {
	data  []byte
	srcs  []*source
	items []fanItem
}

type fanItem struct {
	off, n int // the datagram in data
	src    int // its samples' data sources from srcs[src]
	a      *Agent
	ms     int64
}

const (
	fanBatchBytes = 256 << 10 // a recvmmsg batch of 64 datagrams of 4 KB
	fanBatchItems = 64
	fanBatches    = 4 // per worker
)

// NewFanout returns a fan-out over n workers (Run starts them).
func (e *Engine) NewFanout(n int) *Fanout {
	n = max(n, 1)
	f := &Fanout{e: e, workers: n, full: make(chan *fanBatch, n*fanBatches), free: make(chan *fanBatch, n*fanBatches)}
	for range n * fanBatches {
		f.free <- &fanBatch{data: make([]byte, 0, fanBatchBytes), srcs: make([]*source, 0, 16*fanBatchItems), items: make([]fanItem, 0, fanBatchItems)}
	}
	return f
}

// Run runs the workers until ctx ends.
func (f *Fanout) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range f.workers {
		w := f.e.NewWorker()
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case b := <-f.full:
					w.applyBatch(b)
					clear(b.items) // no agent or data source kept alive by a stale pointer
					clear(b.srcs)
					b.data, b.srcs, b.items = b.data[:0], b.srcs[:0], b.items[:0]
					f.free <- b
				}
			}
		})
	}
	wg.Wait()
}

// applyBatch applies the flow samples of the datagrams a Reader admitted:
// all evaluated without a lock, then each agent's additions under one
// hold of its lock.
func (w *Worker) applyBatch(b *fanBatch) {
	defs := w.e.defs.Load()
	w.beginBatch()
	for _, it := range b.items {
		sflow.Decode(b.data[it.off:it.off+it.n], &w.d) // as admit decoded it: an error there left the same samples
		w.evalDatagram(w.group(it.a), b.srcs[it.src:it.src+len(w.d.Samples)], defs, it.ms)
	}
	w.applyAll(defs, true)
}

// Reader is the Handler of one receiving goroutine (collector.Handler and
// its Flush); it is not safe for concurrent use.
//
// It hands flow samples to the workers only while it is behind: from the
// fullReads-th read in a row that filled its batch (more datagrams
// waiting in the kernel) until one that did not. While it keeps up it
// applies them itself, as a direct Worker does: handing over costs CPU (the copy, the wake-up, the other
// core's cache misses on the datagram, its second decode) that a reader
// with time to spare need not spend — 15–30 % more per sample, measured.
type Reader struct {
	f      *Fanout
	w      *Worker
	cur    *fanBatch
	fulls  int    // reads in a row that filled their batch
	inline uint64 // applied here since the last Flush
}

// NewReader returns a Reader for one receiving goroutine. It starts
// handing over, as if behind, until a read says it is not.
func (f *Fanout) NewReader() *Reader {
	return &Reader{f: f, w: f.e.NewWorker(), fulls: fullReads}
}

// fullReads is how many reads in a row must fill their batch before a
// Reader hands over: one full read is as often a burst as a backlog (at
// 100k datagrams/s from one exporter, a reader that keeps up at 0.85 of a
// core fills one read in two, and handing those over cost 15 % more CPU
// for nothing); four is 256 datagrams waiting, a tenth of what the
// kernel's 8 MiB buffer holds.
const fullReads = 4

// Process admits a datagram and hands its flow samples to a worker, or,
// when this goroutine keeps up or every batch is taken, applies them.
func (r *Reader) Process(b []byte, src netip.AddrPort, now time.Time) {
	a, flows := r.w.admit(b, src, now)
	if a == nil {
		return
	}
	ms := now.UnixMilli()
	handOff := r.fulls >= fullReads // behind: hand flow samples over
	if flows && handOff && r.cur == nil {
		select {
		case r.cur = <-r.f.free:
		default: // the workers are behind too
		}
	}
	if flows && (!handOff || r.cur == nil || len(r.cur.data)+len(b) > cap(r.cur.data)) {
		r.w.applyFlows(a, ms)
		r.inline++
		flows = false
	}
	a.mu.Unlock()
	if !flows {
		return
	}
	c := r.cur
	c.items = append(c.items, fanItem{off: len(c.data), n: len(b), src: len(c.srcs), a: a, ms: ms})
	c.data = append(c.data, b...)
	c.srcs = append(c.srcs, r.w.srcs...)
	if len(c.items) == cap(c.items) {
		r.hand()
	}
}

// Flush hands the datagrams gathered so far to the workers; the collector
// calls it after each read, full when the read filled its batch, which
// decides whether the next read's flow samples are handed over.
func (r *Reader) Flush(full bool) {
	if r.inline > 0 {
		r.f.inline.Add(r.inline)
		r.inline = 0
	}
	r.hand()
	if full {
		r.fulls++
	} else {
		r.fulls = 0
	}
}

func (r *Reader) hand() {
	if r.cur != nil && len(r.cur.items) > 0 {
		r.f.handed.Add(uint64(len(r.cur.items)))
		r.f.full <- r.cur // never blocks: there are no more batches than room
		r.cur = nil
	}
}
