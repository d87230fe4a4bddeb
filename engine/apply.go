package engine

import (
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// The flow samples of admitted datagrams, in two steps: every definition
// evaluates every sample (evalSample), which reads the agent's data
// sources but changes nothing of theirs, so a fan-out worker does it
// without the agent's lock; then what they add goes into the tables, the
// agent locked (applyGroup). A fan-out worker evaluates a whole batch
// first and then takes each agent's lock once for all of that agent's
// datagrams in it: with one exporter, every datagram is the same agent,
// and a lock taken per datagram was the bottleneck (the Reader admitting
// the next datagram waited on the workers' table updates and they on it).

// pendingAdd is what one definition adds for one sample: its key and
// values in sc, the data source they go to, the definition's decay
// factor at the sample's time.
type pendingAdd struct {
	slot, group int32 // definition slot; index in Worker.groups
	ds          *source
	ms          int64
	v, g        float64
	epoch       int64
	sc          flow.Scratch
}

// agentGroup is one agent of the datagrams being evaluated: what its
// samples add is applied under one hold of its lock.
type agentGroup struct {
	a      *Agent
	recErr [numReasons]uint32 // records that did not decode, counted in the agent by applyGroup
	n      int32              // its pendingAdds
}

// beginBatch starts the evaluation of one or more datagrams.
func (w *Worker) beginBatch() {
	clear(w.groups) // no agent kept alive by a stale pointer
	w.groups = w.groups[:0]
	w.pending = w.pending[:0]
}

// group returns a's index in w.groups, adding it. A batch holds at most
// fanBatchItems datagrams, so the list is short and a scan is cheapest.
func (w *Worker) group(a *Agent) int32 {
	for i := range w.groups {
		if w.groups[i].a == a {
			return int32(i)
		}
	}
	w.groups = append(w.groups, agentGroup{a: a})
	return int32(len(w.groups) - 1)
}

// evalDatagram evaluates the flow and discarded-packet samples of the
// datagram in w.d, whose data sources admit found (srcs, one per sample,
// nil for the others).
func (w *Worker) evalDatagram(group int32, srcs []*source, defs *defSet, ms int64) {
	if w.factorsFor != defs || w.factorsAt != ms {
		// factors are per definition and per time: the datagrams of one
		// read share theirs
		if cap(w.factors) < len(defs.slots) {
			w.factors = make([]factor, len(defs.slots))
		}
		w.factors = w.factors[:len(defs.slots)]
		clear(w.factors)
		w.factorsFor, w.factorsAt = defs, ms
	}
	a := w.groups[group].a
	for i, ds := range srcs {
		if ds != nil {
			smp := &w.d.Samples[i]
			w.evalSample(a, ds, group, smp, defs, ms, smp.Format == sflow.DiscardedPacketSample)
		}
	}
}

// applyAll applies what was evaluated, taking each agent's lock once;
// unlocked is false when the caller holds the lock of the only agent.
func (w *Worker) applyAll(defs *defSet, unlocked bool) {
	if !unlocked {
		w.applyGroup(0, defs, w.pending)
		return
	}
	if len(w.groups) > 1 {
		w.sortPending()
	}
	rest := w.pending
	for gi := range w.groups {
		g := &w.groups[gi]
		mine := rest[:g.n]
		rest = rest[g.n:]
		if len(mine) == 0 && g.recErr == ([numReasons]uint32{}) {
			continue
		}
		g.a.mu.Lock()
		if !g.a.removed {
			w.applyGroup(int32(gi), defs, mine)
		}
		g.a.mu.Unlock()
	}
}

// sortPending orders w.pending by group, keeping each group's order (the
// order its datagrams arrived in): a counting sort into w.sorted, whose
// memory is kept, then swapped in.
func (w *Worker) sortPending() {
	if cap(w.sorted) < len(w.pending) {
		w.sorted = make([]pendingAdd, len(w.pending))
	}
	w.sorted = w.sorted[:len(w.pending)]
	at := w.groupAt[:0]
	next := int32(0)
	for i := range w.groups {
		at = append(at, next)
		next += w.groups[i].n
	}
	for i := range w.pending {
		p := &w.pending[i]
		j := &at[p.group]
		// swap, not copy: each slot's Scratch keeps its buffers for reuse
		w.sorted[*j], *p = *p, w.sorted[*j]
		*j++
	}
	w.groupAt = at
	w.pending, w.sorted = w.sorted, w.pending
}

// applyGroup adds one agent's pending additions to its tables, the agent
// locked, and counts its record errors. A data source dropped since admit
// found it (evicted to make room, or its agent aged out) is skipped.
func (w *Worker) applyGroup(group int32, defs *defSet, pending []pendingAdd) {
	g := &w.groups[group]
	a := g.a
	for i, n := range g.recErr {
		if n > 0 {
			w.stats.RecordErrors[i].Add(uint64(n))
			a.recordErrors[i] += uint64(n)
		}
	}
	g.recErr = [numReasons]uint32{}
	var pooled *source // the agent's pool of aggMode:'AGENT' flows, found once
	for j := range pending {
		p := &pending[j]
		if p.ds.dropped {
			continue
		}
		sl := defs.slots[p.slot]
		d := sl.def
		tds := p.ds
		if d.Spec.AggMode == flow.AggAgent {
			if pooled == nil {
				if pooled = a.namedSource(agentPool, p.ms); pooled == nil {
					continue
				}
			}
			tds = pooled
		}
		t := tds.table(int(p.slot), sl, &w.e.limits)
		en, isNew := t.Add(p.sc.Key, p.v, &p.sc, p.ms, p.g, p.epoch)
		if isNew && d.Spec.Log && d.Spec.FlowStart {
			rv, rvs := t.Record(en)
			w.e.logFlow(d, a, tds, en, p.ms, p.ms, rv, rvs)
		}
	}
}

// agentPool names the data source that holds an agent's aggMode:'AGENT'
// flows: the samples of all its data sources pooled into one table, so
// that ai-monitor's egress bytes by outputifindex, or ddos-protect's attack
// flows, are counted per agent rather than per sampling port.
var agentPool = []byte(flow.AgentDataSource)

// evalSample decodes a flow sample's records and evaluates every
// definition on it, keeping what each adds (w.pending) for applyGroup.
// It changes nothing of the agent's: a fan-out worker calls it unlocked.
func (w *Worker) evalSample(a *Agent, ds *source, group int32, smp *sflow.Sample, defs *defSet, ms int64, dropped bool) {
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
			w.groups[group].recErr[reasonIndex(err)]++ // counted in the agent by applyGroup, locked
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
		if w.loc == nil {
			w.loc = new(locCache) // for a worker that sees flow samples
		}
		w.e.located.learnSample(s, w.e.topo, ms, w.loc)
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
		p.slot, p.group, p.ds, p.ms, p.v, p.g, p.epoch = int32(i), group, ds, ms, v, f.g, f.epoch
		w.groups[group].n++
	}
}
