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
	factors []factor
	stats   WorkerStats
	http    flow.HTTP
	// agents caches the engine's agents for this worker, so that finding
	// a datagram's agent touches no shared lock.
	agents map[netip.Addr]*Agent

	keysMu   sync.Mutex
	keysSeen map[string]int64 // flow key → ms a sample last had it
	keysScan int64            // ms of the last scan

	hostScratch []byte // MAC keys for the host: table

	// applyFlows' memory: each flow sample's data source, what the
	// definitions add, and record errors not yet counted in the agent.
	srcs          []*source
	pending       []pendingAdd
	recErrReasons [numReasons]uint32

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
		w.applyFlows(a, now.UnixMilli(), true)
	}
	a.mu.Unlock()
}

// admit decodes a datagram and does what must follow the order datagrams
// arrive in: the agent's datagram accounting (sequence numbers, restarts),
// each sample's accounting at its data source, and the counter samples
// (rates from successive counters). It returns the agent, locked, and
// whether the datagram has flow (or discarded-packet) samples left to
// apply; nil when there is nothing more to do.
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
	for i := range w.d.Samples {
		smp := &w.d.Samples[i]
		w.stats.Samples.Add(1)
		switch smp.Format {
		case sflow.FlowSample, sflow.ExpandedFlowSample:
			w.stats.FlowSamples.Add(1)
			if w.sample(a, smp, kindFlow, ms) != nil {
				flows = true
			}
		case sflow.DiscardedPacketSample:
			if w.sample(a, smp, kindDiscard, ms) != nil {
				flows = true
			}
		case sflow.CounterSample, sflow.ExpandedCounterSample:
			w.stats.CounterSamples.Add(1)
			if ds := w.sample(a, smp, kindCounter, ms); ds != nil {
				w.counterSample(a, ds, smp, ms)
			}
		case sflow.RTMetricSample:
			w.stats.CounterSamples.Add(1)
			w.customMetrics(a, smp, ms)
		}
	}
	return a, flows
}

// applyFlows puts the flow and discarded-packet samples of the datagram in
// w.d (admitted already) into the flow tables of agent a. With locked, a
// is locked throughout; else (a fan-out worker, fanout.go) it is locked
// only to find the samples' data sources and, after every definition has
// evaluated every sample without it, to add the results to the tables: so
// that workers sharing one agent overlap in all but the table updates.
func (w *Worker) applyFlows(a *Agent, ms int64, locked bool) {
	if !locked {
		a.mu.Lock()
		if a.removed {
			a.mu.Unlock()
			return
		}
	}
	w.srcs = w.srcs[:0]
	for i := range w.d.Samples {
		smp := &w.d.Samples[i]
		var ds *source
		switch smp.Format {
		case sflow.FlowSample, sflow.ExpandedFlowSample:
			// Refused by admit (no room): not there, and not added here.
			if ds = a.sources[sourceKey(smp.SourceClass, smp.SourceIndex)]; ds != nil {
				ds = a.flowSource(ds, smp, ms)
			}
		case sflow.DiscardedPacketSample:
			ds = a.sources[sourceKey(smp.SourceClass, smp.SourceIndex)]
		}
		w.srcs = append(w.srcs, ds)
	}
	if !locked {
		a.mu.Unlock()
	}
	defs := w.e.defs.Load()
	if cap(w.factors) < len(defs.slots) {
		w.factors = make([]factor, len(defs.slots))
	}
	w.factors = w.factors[:len(defs.slots)]
	clear(w.factors)
	w.pending = w.pending[:0]
	for i, ds := range w.srcs {
		if ds != nil {
			smp := &w.d.Samples[i]
			w.evalSample(a, ds, i, smp, defs, ms, smp.Format == sflow.DiscardedPacketSample)
		}
	}
	if len(w.pending) == 0 && w.recErrReasons == ([numReasons]uint32{}) {
		return
	}
	if !locked {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.removed {
			w.pending, w.recErrReasons = w.pending[:0], [numReasons]uint32{}
			return
		}
	}
	w.applyPending(a, defs, ms, !locked)
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

// evalSample decodes a flow sample's records and evaluates every
// definition on it, keeping what each adds (w.pending) for applyPending.
// It changes nothing of the agent's: a fan-out worker calls it unlocked.
func (w *Worker) evalSample(a *Agent, ds *source, index int, smp *sflow.Sample, defs *defSet, ms int64, dropped bool) {
	s := &w.s
	s.Reset()
	s.Agent, s.DataSource, s.SourceIndex = a.addr, ds.id, ds.index // the port an entity sampler's packet came in on (flowSource)
	s.SamplingRate, s.Input, s.Output = smp.SamplingRate, smp.Input, smp.Output
	s.Dropped, s.DropReason = dropped, smp.DropReason
	if dropped {
		s.SamplingRate = 1
	}
	for _, rec := range smp.Records {
		v, err := w.rc.Decode(smp.Format, rec)
		if err != nil {
			w.recErrReasons[reasonIndex(err)]++ // counted in the agent by applyPending, locked
			continue
		}
		switch r := v.(type) { // nil (a record this decoder does not know) matches none
		case *sflow.SampledHeader:
			s.FrameLength, s.Stripped, s.HasHeader = r.FrameLength, r.Stripped, true
			s.Packet.Decode(r.Protocol, r.Header)
		case *sflow.ExtendedSwitch:
			s.Switch = r
		case *sflow.ExtendedRouter:
			s.Router = r
		case *sflow.ExtendedGateway:
			s.Gateway = r
		case *sflow.SampledIPv4:
			s.IPv4 = r
			if !s.HasHeader {
				s.FrameLength = r.Length
			}
		case *sflow.SampledIPv6:
			s.IPv6 = r
			if !s.HasHeader {
				s.FrameLength = r.Length
			}
		case *sflow.ExtendedTCPInfo:
			s.TCPInfo = r
		case *sflow.ExtendedEntities:
			s.Entities = r
		case *sflow.HTTPRequest:
			w.http.FromRequest(r)
			s.HTTP = &w.http
		case *sflow.HTTPRequest2:
			w.http.FromRequest2(r)
			s.HTTP = &w.http
		case *sflow.AppOperation:
			s.App = r
		case *sflow.ExtendedEgressQueue:
			s.Queue = r
		case *sflow.ExtendedQueueDepth:
			s.Depth = r
		case *sflow.ExtendedTransitDelay:
			s.Transit = r
		case *sflow.ExtendedVNIIn:
			s.VNIIn = r
		case *sflow.ExtendedVNIOut:
			s.VNIOut = r
		}
	}
	if !dropped {
		flow.CountBGP(s) // bgpTopPrefixes' traffic per learned prefix
		w.e.located.learnSample(s, w.e.topo, ms)
	}
	if ms-w.keysScan >= 1000 {
		w.scanKeys(ms)
	}
	if h := w.e.sampleHook.Load(); h != nil {
		(*h)(s, ms)
	}
	for i, sl := range defs.slots {
		if sl == nil || sl.def.Spec.Dropped != dropped {
			continue
		}
		d := sl.def
		if len(w.pending) == cap(w.pending) {
			w.pending = append(w.pending, pendingAdd{}) // grows once; reused after
		} else {
			w.pending = w.pending[:len(w.pending)+1]
		}
		p := &w.pending[len(w.pending)-1]
		v, ok := d.Eval(s, &p.sc)
		if !ok {
			w.pending = w.pending[:len(w.pending)-1]
			continue
		}
		f := &w.factors[i]
		if !f.ok {
			f.g, f.epoch = d.Factor(ms)
			f.ok = true
		}
		p.slot, p.sample, p.v = i, index, v
	}
}

// pendingAdd is what one definition adds for one sample: its key and
// values in sc.
type pendingAdd struct {
	slot, sample int
	v            float64
	sc           flow.Scratch
}

// applyPending adds w.pending to the tables, with a locked. check (a
// fan-out worker, which found the data sources under an earlier hold of
// the lock) skips a data source removed since.
func (w *Worker) applyPending(a *Agent, defs *defSet, ms int64, check bool) {
	for i, n := range w.recErrReasons {
		if n > 0 {
			w.stats.RecordErrors[i].Add(uint64(n))
			a.recordErrors[i] += uint64(n)
		}
	}
	w.recErrReasons = [numReasons]uint32{}
	var pooled *source // the agent's pool of aggMode:'AGENT' flows, found once per datagram
	last := -1
	gone := false
	for j := range w.pending {
		p := &w.pending[j]
		ds := w.srcs[p.sample]
		if p.sample != last {
			last = p.sample
			gone = check && a.sources[sourceKey(ds.class, ds.index)] != ds
		}
		if gone {
			continue
		}
		sl := defs.slots[p.slot]
		d := sl.def
		tds := ds
		if d.Spec.AggMode == flow.AggAgent {
			if pooled == nil {
				if pooled = a.namedSource(agentPool, ms); pooled == nil {
					continue
				}
			}
			tds = pooled
		}
		f := &w.factors[p.slot]
		t := tds.table(p.slot, sl, &w.e.limits)
		en, isNew := t.Add(p.sc.Key, p.v, &p.sc, ms, f.g, f.epoch)
		if isNew && d.Spec.Log && d.Spec.FlowStart {
			rv, rvs := t.Record(en)
			w.e.logFlow(d, a, tds, en, ms, ms, rv, rvs)
		}
	}
	w.pending = w.pending[:0]
}

// agentPool names the data source that holds an agent's aggMode:'AGENT'
// flows: the samples of all its data sources pooled into one table, so
// that ai-monitor's egress bytes by outputifindex, or ddos-protect's attack
// flows, are counted per agent rather than per sampling port.
var agentPool = []byte(flow.AgentDataSource)

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
