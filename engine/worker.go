package engine

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// Worker decodes and applies datagrams on one goroutine. Its memory is
// reused from one datagram to the next: in steady state (known agents,
// data sources and flows) Process allocates nothing.
type Worker struct {
	e       *Engine
	d       sflow.Datagram
	rc      sflow.RecordCache
	s       flow.Sample
	sc      flow.Scratch
	factors []factor // each definition's decay factor at factorsAt
	// the definitions and the time (ms) of factors
	factorsFor *defSet
	factorsAt  int64
	stats      WorkerStats
	http       flow.HTTP
	// agents caches the engine's agents for this worker, so that finding
	// a datagram's agent touches no shared lock.
	agents map[netip.Addr]*Agent

	keysMu   sync.Mutex
	keysSeen map[string]int64 // flow key → ms a sample last had it
	keysScan int64            // ms of the last scan

	hostScratch []byte    // MAC keys for the host: table
	loc         *locCache // what it told the host locator lately (locate_cache.go)

	// apply.go's memory: each sample's data source as admit found it,
	// what the definitions add, the agents they add to.
	srcs    []*source
	pending []pendingAdd
	sorted  []pendingAdd
	groups  []agentGroup
	groupAt []int32

	// A fast replay's worker: its times are the capture's, and drive the
	// engine's clock and sweeps (see clock.go).
	replay    bool
	nextSweep int64
}

type factor struct {
	g     float64
	epoch int64
	ok    bool
}

// WorkerStats are one worker's counters; the engine sums them.
type WorkerStats struct {
	Datagrams, Bytes, Samples, FlowSamples, CounterSamples atomic.Uint64
	Looped                                                 atomic.Uint64 // forwarded copies that came back
	DecodeErrors                                           [numReasons]atomic.Uint64
	// RecordErrors are records (or rtmetric sample bodies) that did not
	// decode inside a datagram that did: left out, and counted here.
	RecordErrors [numReasons]atomic.Uint64
}

// decode error reasons, in the order of sflow.Reason's labels.
var reasons = []string{"truncated", "length", "version", "address_type", "limit", "other"}

const numReasons = 6

func reasonIndex(err error) int {
	r := sflow.Reason(err)
	if i := slices.Index(reasons, r); i >= 0 {
		return i
	}
	return numReasons - 1
}

// NewWorker returns a worker; the engine includes its counters in its
// status from now on.
func (e *Engine) NewWorker() *Worker {
	w := &Worker{e: e}
	e.workerMu.Lock()
	e.workers = append(e.workers, w)
	e.workerMu.Unlock()
	return w
}

// Process applies one datagram received from src at now: admit (the
// accounting, in arrival order) then its flow samples, with the agent
// locked throughout.
func (w *Worker) Process(b []byte, src netip.AddrPort, now time.Time) {
	a, flows := w.admit(b, src, now)
	if a == nil {
		return
	}
	if flows {
		w.applyFlows(a, now.UnixMilli())
	}
	a.mu.Unlock()
}

// applyFlows evaluates and applies the flow samples of the datagram admit
// left in w.d, with a locked.
func (w *Worker) applyFlows(a *Agent, ms int64) {
	defs := w.e.defs.Load()
	w.beginBatch()
	w.evalDatagram(w.group(a), w.srcs, defs, ms)
	w.applyAll(defs, false)
}

// admit decodes a datagram and does what must follow the order datagrams
// arrive in: the agent's datagram accounting (sequence numbers, restarts),
// each sample's accounting at its data source, and the counter samples
// (rates from successive counters). It returns the agent, locked, and
// whether the datagram has flow (or discarded-packet) samples left to
// apply, their data sources in w.srcs; nil when there is nothing more to
// do.
func (w *Worker) admit(b []byte, src netip.AddrPort, now time.Time) (a *Agent, flows bool) {
	if w.replay {
		w.advance(now)
	}
	w.stats.Datagrams.Add(1)
	w.stats.Bytes.Add(uint64(len(b)))
	err := sflow.Decode(b, &w.d)
	if err != nil {
		w.stats.DecodeErrors[reasonIndex(err)].Add(1)
		if !w.d.Agent.IsValid() {
			w.e.noteBadDatagram(src, err)
			return nil, false
		}
	}
	if w.e.cfg.Tap != nil && w.e.cfg.Tap(b, w.d.Agent, w.d.SubAgentID, w.d.Sequence, w.d.Uptime, src.Addr()) {
		w.stats.Looped.Add(1) // already applied when it first came
		return nil, false
	}
	if w.e.cfg.Split != nil {
		w.e.cfg.Split(&w.d)
	}
	ms := now.UnixMilli()
	a = w.agent(w.d.Agent, ms)
	w.account(a, src, len(b), ms, err)
	clear(w.srcs) // no data source kept alive by a stale pointer
	w.srcs = w.srcs[:0]
	for i := range w.d.Samples {
		smp := &w.d.Samples[i]
		w.stats.Samples.Add(1)
		var flowSrc *source // where the sample's flows go; nil for the others
		switch smp.Format {
		case sflow.FlowSample, sflow.ExpandedFlowSample:
			w.stats.FlowSamples.Add(1)
			if ds := w.sample(a, smp, kindFlow, ms); ds != nil {
				flowSrc = a.flowSource(ds, smp, ms)
			}
		case sflow.DiscardedPacketSample:
			flowSrc = w.sample(a, smp, kindDiscard, ms)
		case sflow.CounterSample, sflow.ExpandedCounterSample:
			w.stats.CounterSamples.Add(1)
			if ds := w.sample(a, smp, kindCounter, ms); ds != nil {
				w.counterSample(a, ds, smp, ms)
			}
		case sflow.RTMetricSample:
			w.stats.CounterSamples.Add(1)
			w.customMetrics(a, smp, ms)
		}
		w.srcs = append(w.srcs, flowSrc)
		flows = flows || flowSrc != nil
	}
	return a, flows
}

// maxCachedAgents bounds a worker's agent cache (a flood of spoofed agent
// addresses must not grow it without end, nor keep evicted agents long).
const maxCachedAgents = 1 << 16

// agent returns the datagram's agent, locked.
func (w *Worker) agent(addr netip.Addr, ms int64) *Agent {
	if a := w.agents[addr]; a != nil {
		a.mu.Lock()
		if !a.removed {
			return a
		}
		a.mu.Unlock()
	}
	if w.agents == nil || len(w.agents) >= min(maxCachedAgents, 2*w.e.cfg.MaxAgents) {
		w.agents = map[netip.Addr]*Agent{}
	}
	for {
		a := w.e.agent(addr, ms)
		a.mu.Lock()
		if !a.removed { // else aged out between the lookup and the lock
			w.agents[addr] = a
			return a
		}
		a.mu.Unlock()
	}
}

// account updates the agent's datagram accounting.
func (w *Worker) account(a *Agent, src netip.AddrPort, size int, ms int64, decodeErr error) {
	a.lastSeen = ms
	a.datagrams++
	a.bytes += uint64(size)
	if decodeErr != nil {
		a.decodeErrors++
	}
	if s := src.Addr(); s.IsValid() && !slices.Contains(a.senders, s) && len(a.senders) < 16 {
		a.senders = append(a.senders, s)
	}
	t := a.subs[w.d.SubAgentID]
	if t == nil {
		if len(a.subs) >= maxSubAgents {
			a.unsequenced++ // applied, but its sequence number is not followed
			a.uptime = w.d.Uptime
			return
		}
		t = &seqTracker{}
		a.subs[w.d.SubAgentID] = t
	}
	restarted := w.d.Uptime+10_000 < a.uptime // uptime went back by more than jitter
	r, lost := t.next(w.d.Sequence)
	switch {
	case restarted || r == seqRestart:
		a.restarts++
		t.last = w.d.Sequence
		for _, ds := range a.sources {
			for i := range ds.seq {
				ds.seq[i].reset()
			}
			ds.counterAt = 0
		}
	case r == seqLost:
		a.lostDatagrams += uint64(lost)
	case r == seqDuplicate:
		a.dupDatagrams++
	case r == seqOutOfOrder:
		a.oooDatagrams++
	}
	a.uptime = w.d.Uptime
}

// sample finds the data source of a sample and accounts for its sequence
// number; nil when there is no room for a new data source (the sample is
// counted, and refused).
func (w *Worker) sample(a *Agent, smp *sflow.Sample, kind int, ms int64) *source {
	c := &a.samples[kind]
	c.received++
	c.drops += uint64(smp.Drops)
	ds := a.source(smp.SourceClass, smp.SourceIndex, ms)
	if ds == nil {
		w.refused(a)
		return nil
	}
	switch r, lost := ds.seq[kind].next(smp.Sequence); r {
	case seqLost:
		c.lost += uint64(lost)
	case seqDuplicate:
		c.duplicate++
	case seqOutOfOrder:
		c.outOfOrder++
	case seqRestart:
		if kind == kindCounter {
			ds.counterAt = 0
		}
	}
	switch kind {
	case kindFlow:
		ds.flowSamples++
		if ds.samplingRate != 0 {
			ds.poolSamples++
			ds.poolPackets += uint64(smp.SamplePool - ds.pool) // wraps as the pool does
		}
		ds.samplingRate, ds.pool = smp.SamplingRate, smp.SamplePool
	case kindCounter:
		ds.counterSamples++
		if gap := float64(ms - ds.lastCounterMs); ds.lastCounterMs != 0 && gap > 0 {
			if ds.pollMs == 0 {
				ds.pollMs = gap
			} else {
				ds.pollMs += (gap - ds.pollMs) / 4
			}
		}
		ds.lastCounterMs = ms
	}
	return ds
}

// scanKeys notes which flow keys the current sample has.
func (w *Worker) scanKeys(ms int64) {
	w.keysScan = ms
	w.keysMu.Lock()
	defer w.keysMu.Unlock()
	if w.keysSeen == nil {
		w.keysSeen = map[string]int64{}
	}
	for _, k := range w.e.keysToScan() {
		var ok bool
		if w.sc.Key, ok = k.expr.AppendValue(&w.s, w.sc.Key[:0]); ok {
			w.keysSeen[k.name] = ms
		}
	}
}

// table returns the data source's table for a definition slot, replacing
// one left by an earlier definition in the same slot.
func (ds *source) table(i int, sl *slot, limits *flow.Limits) *flow.Table {
	if i >= len(ds.tables) {
		ds.tables = append(ds.tables, make([]*flow.Table, i+1-len(ds.tables))...)
	}
	t := ds.tables[i]
	if t == nil || t.Gen != sl.gen {
		if t != nil {
			t.Clear()
		}
		t = flow.NewTable(sl.def, sl.gen, limits)
		ds.tables[i] = t
	}
	return t
}

func (w *Worker) counterSample(a *Agent, ds *source, smp *sflow.Sample, ms int64) {
	// Rates use the agent's own clock (uptime) when it moved forward, so
	// that network and queueing delays do not distort them.
	dt := 0.0
	if ds.counterAt > 0 {
		dt = float64(ms-ds.counterAt) / 1000
		if up := w.d.Uptime; up > ds.counterUptime && ds.counterUptime > 0 {
			dt = float64(up-ds.counterUptime) / 1000
		}
	}
	ds.counterAt, ds.counterUptime = ms, w.d.Uptime
	ds.metrics.Begin(ms, dt)
	ds.metrics.Logical(smp.SourceClass == 3) // a VM or container: vir_host_name …
	var descr bool
	var adapters *sflow.HostAdapters
	for _, rec := range smp.Records {
		v, err := w.rc.Decode(smp.Format, rec)
		if err != nil {
			w.recordError(a, err)
			continue
		}
		if v == nil { // a record this decoder does not know
			continue
		}
		ds.metrics.Apply(v)
		switch r := v.(type) {
		case *sflow.HostDescr:
			descr = true
			if smp.SourceClass == 2 && string(r.Hostname) != a.hostName {
				a.hostName = string(r.Hostname)
				w.e.names.setHost(a.addr, a.hostName)
			}
		case *sflow.PortName:
			if smp.SourceClass == 0 && string(r.Name) != ds.ifname {
				ds.ifname = string(r.Name)
				w.e.names.setPort(a.addr, ds.id, ds.ifname)
			}
		case *sflow.HostAdapters:
			adapters = r
		}
	}
	if descr { // a host or container describes itself: host: can name it
		w.hostScratch = w.e.hosts.learn(a.name, smp.SourceClass, ds, adapters, ms, w.hostScratch)
	}
}

// customMetrics applies an rtmetric sample: Host sFlow's custom metrics,
// at the data source the sample names.
func (w *Worker) customMetrics(a *Agent, smp *sflow.Sample, ms int64) {
	a.samples[kindCounter].received++
	c, err := sflow.DecodeCustom(smp.Format, smp.Data)
	if err == nil && len(c.DataSource) == 0 {
		err = errNoDataSource
	}
	if err != nil {
		w.recordError(a, err)
		return
	}
	ds := a.namedSource(c.DataSource, ms)
	if ds == nil {
		w.refused(a)
		return
	}
	ds.counterSamples++
	dt := 0.0
	if ds.counterAt > 0 {
		dt = float64(ms-ds.counterAt) / 1000
	}
	ds.counterAt = ms
	m := ds.metrics
	m.Begin(ms, dt)
	var f sflow.CustomField
	for c.Next(&f) {
		name := string(f.Name)
		switch f.Type {
		case sflow.CustomString:
			m.String(name, f.Str)
		case sflow.CustomCounter32:
			m.Counter32(name, uint32(f.U))
		case sflow.CustomCounter64:
			m.Counter64(name, f.U)
		case sflow.CustomGauge32, sflow.CustomGauge64:
			m.Gauge(name, float64(f.U))
		case sflow.CustomGaugeFloat, sflow.CustomGaugeDouble:
			m.Gauge(name, f.F)
		}
	}
	if err := c.Err(); err != nil {
		w.recordError(a, err)
	}
}

// errNoDataSource is an rtmetric sample that names no data source.
var errNoDataSource = &sflow.Error{Err: sflow.ErrLength}

// recordError counts a record (or rtmetric body) that did not decode.
func (w *Worker) recordError(a *Agent, err error) {
	i := reasonIndex(err)
	w.stats.RecordErrors[i].Add(1)
	a.recordErrors[i]++
}

// refused counts a sample whose new data source found no room.
func (w *Worker) refused(a *Agent) {
	a.samplesRefused++
	w.e.caps.samplesRefused.Add(1)
	w.e.notes.samplesRefused.note(w.e.log, a.name, 1, "datasources.max", w.e.cfg.MaxSources)
}

func (e *Engine) noteBadDatagram(src netip.AddrPort, err error) {
	var se *sflow.Error
	if errors.As(err, &se) && errors.Is(err, sflow.ErrVersion) {
		e.log.Debug("not sFlow v5", "from", src, "err", err)
		return
	}
	e.log.Debug("bad datagram", "from", src, "err", err)
}
