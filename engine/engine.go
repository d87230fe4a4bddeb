// Package engine is the heart of flowrt: it takes sFlow datagrams from the
// collector, decodes them, feeds flow samples to the flow definitions and
// counter samples to the metrics, keeps per-agent accounting (sequence
// gaps, duplicates, restarts) and answers the queries the REST API and
// scripts make.
//
// Concurrency: each collector goroutine owns a Worker (its decoder state,
// scratch memory and counters), or a Reader of a Fanout (fanout.go), which
// does a datagram's accounting in arrival order and hands its flow samples
// to workers, one per CPU, so that one exporter (one socket's traffic)
// uses every core. Agents have their own lock, held by a worker while it
// applies one datagram (a fan-out worker: while it finds the data sources
// and while it adds to the tables, not while it evaluates the definitions)
// and by a query while it reads that agent; there is no global lock on the
// hot path.
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/history"
	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// Config holds the engine's limits.
type Config struct {
	MaxFlows          int64         // flows tracked by all definitions together
	FlowLogSize       int           // completed flow records kept for /flows/json
	DataSourceTimeout time.Duration // a data source with nothing new for this long is removed
	AgentTimeout      time.Duration // an agent with no datagram for this long is removed
	// Caps (caps.go): agents, data sources of one agent, data sources of
	// all agents, flow definitions.
	MaxAgents, MaxAgentSources, MaxSources, MaxDefinitions int
	// MaxHosts bounds the MACs, and separately the IP addresses, whose
	// location is learned (locate.go).
	MaxHosts int
	Logger   *slog.Logger
	// Tap, when set, is given every datagram whose header decoded, with
	// its agent, sub-agent, sequence number and uptime and the address it
	// came from, before the samples are applied (forwarding). It must not
	// block or keep b. It returns true for a datagram that is a copy of one
	// it forwarded coming back (a forwarding loop): the engine counts it
	// (sFlowDatagramsLooped) and applies nothing of it.
	Tap func(b []byte, agent netip.Addr, subAgent, sequence, uptime uint32, from netip.Addr) (looped bool)
	// Split, when set, is given every decoded datagram that Tap did not
	// call looped (tenant streams). It must not block or keep d.
	Split func(d *sflow.Datagram)
}

// DefaultConfig returns the defaults (also printed at start-up).
func DefaultConfig() Config {
	return Config{
		MaxFlows:          1_000_000,
		FlowLogSize:       1000,
		DataSourceTimeout: 60 * time.Second,
		AgentTimeout:      300 * time.Second,
		MaxAgents:         DefaultMaxAgents,
		MaxAgentSources:   DefaultMaxAgentSources,
		MaxSources:        DefaultMaxSources,
		MaxDefinitions:    DefaultMaxDefinitions,
		MaxHosts:          DefaultMaxHosts,
	}
}

// Engine is the analytics engine.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	compiler *flow.Compiler
	hosts    hostTable // host: key function
	names    nameTable // agents' and ports' own names (names.go)
	located  locator   // where hosts attach (locate.go)
	limits   flow.Limits
	started  time.Time

	defMu sync.Mutex // serialises definition changes
	defs  atomic.Pointer[defSet]
	gen   atomic.Uint64

	captureMs atomic.Int64 // the capture's clock during and after a fast replay; noCapture: the wall clock

	// sampleHook is given every flow sample (SetSampleHook).
	sampleHook atomic.Pointer[func(*flow.Sample, int64)]
	sweepMu    sync.Mutex // one sweep at a time (Run's, and a replay's)

	agentMu sync.RWMutex
	agents  map[netip.Addr]*Agent
	caps    capCounters
	notes   logNotes

	workerMu sync.Mutex
	workers  []*Worker

	flowLog *history.History[FlowRecord]
	topo    Topology

	subMu    sync.Mutex
	flowSubs []func(FlowRecord)
	// ipfixSubs are given the records of ipfixCollectors definitions.
	ipfixSubs []func(FlowRecord, flow.Spec)

	// allKeys are every plain flow key (and tunnel levels), compiled once
	// (when traffic first arrives, after later stages registered theirs),
	// for the once-a-second scan that tells /flowkeys/json what traffic has.
	allKeys     []namedKey
	allKeysOnce sync.Once
}

type namedKey struct {
	name string
	expr flow.Expr
}

// defSet is an immutable snapshot of the flow definitions; workers load
// it once per datagram.
type defSet struct {
	slots  []*slot // index = slot; nil = free
	byName map[string]*slot
}

type slot struct {
	def   *flow.Definition
	gen   uint64
	index int
	lease atomic.Int64 // ms when the definition goes unless renewed; 0: no lease (lease.go)
}

// New returns an engine.
func New(cfg Config) *Engine {
	d := DefaultConfig()
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = d.MaxFlows
	}
	if cfg.FlowLogSize <= 0 {
		cfg.FlowLogSize = d.FlowLogSize
	}
	if cfg.DataSourceTimeout <= 0 {
		cfg.DataSourceTimeout = d.DataSourceTimeout
	}
	if cfg.AgentTimeout <= 0 {
		cfg.AgentTimeout = d.AgentTimeout
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = d.MaxHosts
	}
	for _, v := range []*int{&cfg.MaxAgents, &cfg.MaxAgentSources, &cfg.MaxSources, &cfg.MaxDefinitions} {
		if *v <= 0 {
			*v = math.MaxInt32 // not set: no bound (the properties always set them)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{
		cfg:      cfg,
		log:      cfg.Logger,
		compiler: flow.NewCompiler(),
		started:  time.Now(),
		agents:   map[netip.Addr]*Agent{},
		flowLog:  history.New[FlowRecord](cfg.FlowLogSize),
		notes:    newLogNotes(),
	}
	e.limits.MaxFlows = cfg.MaxFlows
	e.hosts.max, e.hosts.evicted = cfg.MaxSources, &e.caps.hostsEvicted
	e.located.max = cfg.MaxHosts / locShards
	e.captureMs.Store(noCapture)
	e.defs.Store(&defSet{byName: map[string]*slot{}})
	registerHost(e.compiler, &e.hosts)
	return e
}

// SetSampleHook gives fn every flow sample (and dropped-packet
// notification) as the definitions see it, decoded, with the engine's clock
// in ms: the exporters' stream (ClickHouse, Kafka). It runs on the
// receiving goroutines, so it must not block or keep s. nil removes it.
func (e *Engine) SetSampleHook(fn func(s *flow.Sample, ms int64)) {
	if fn == nil {
		e.sampleHook.Store(nil)
		return
	}
	e.sampleHook.Store(&fn)
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Compiler returns the compiler of flow definitions, on which later stages
// register key functions (group:, map: …).
func (e *Engine) Compiler() *flow.Compiler { return e.compiler }

// Define creates or replaces a flow definition.
func (e *Engine) Define(name string, spec flow.Spec) error {
	_, err := e.DefineNotes(name, spec)
	return err
}

// DefineNotes creates or replaces a flow definition and returns what
// storing it changed or leaves without effect (n above its cap …: see
// flow.Spec.Stored), which it also logs.
func (e *Engine) DefineNotes(name string, spec flow.Spec) ([]string, error) {
	d, err := e.compiler.Define(name, spec)
	if err != nil {
		return nil, err
	}
	e.defMu.Lock()
	defer e.defMu.Unlock()
	old := e.defs.Load()
	if _, ok := old.byName[name]; !ok && len(old.byName) >= e.cfg.MaxDefinitions {
		return nil, &LimitError{What: "flow definitions", Max: e.cfg.MaxDefinitions, Property: "flow.definitions.max",
			Hint: "delete one (DELETE /flow/{name}/json)"}
	}
	// Logged once, not at each renewal of the same definition (the web
	// pages PUT theirs again while they show them).
	if prev, ok := old.byName[name]; len(d.Notes) > 0 && (!ok || !reflect.DeepEqual(prev.def.Spec, d.Spec)) {
		e.log.Warn("flow definition stored with changes", "name", name, "notes", strings.Join(d.Notes, "; "))
	}
	next := &defSet{slots: slices.Clone(old.slots), byName: map[string]*slot{}}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	s := &slot{def: d, gen: e.gen.Add(1), index: -1}
	if prev, ok := next.byName[name]; ok {
		s.index = prev.index
	} else {
		for i, x := range next.slots {
			if x == nil {
				s.index = i
				break
			}
		}
		if s.index < 0 {
			s.index = len(next.slots)
			next.slots = append(next.slots, nil)
		}
	}
	next.slots[s.index] = s
	next.byName[name] = s
	e.defs.Store(next)
	return d.Notes, nil
}

// Undefine removes a flow definition; false when there was none.
func (e *Engine) Undefine(name string) bool {
	e.defMu.Lock()
	defer e.defMu.Unlock()
	return e.undefineLocked(name)
}

// undefineLocked is Undefine with defMu held.
func (e *Engine) undefineLocked(name string) bool {
	old := e.defs.Load()
	s, ok := old.byName[name]
	if !ok {
		return false
	}
	next := &defSet{slots: slices.Clone(old.slots), byName: map[string]*slot{}}
	for k, v := range old.byName {
		if k != name {
			next.byName[k] = v
		}
	}
	next.slots[s.index] = nil
	e.defs.Store(next)
	// Free the tables now rather than when each agent is next touched.
	for _, a := range e.agentList() {
		a.mu.Lock()
		for _, ds := range a.sources {
			if s.index < len(ds.tables) && ds.tables[s.index] != nil && ds.tables[s.index].Gen == s.gen {
				ds.tables[s.index].Clear()
				ds.tables[s.index] = nil
			}
		}
		a.mu.Unlock()
	}
	return true
}

// Definition returns a definition by name.
func (e *Engine) Definition(name string) (flow.Spec, bool) {
	s, ok := e.defs.Load().byName[name]
	if !ok {
		return flow.Spec{}, false
	}
	return s.def.Spec, true
}

// Definitions returns every definition by name.
func (e *Engine) Definitions() map[string]flow.Spec {
	out := map[string]flow.Spec{}
	for k, s := range e.defs.Load().byName {
		out[k] = s.def.Spec
	}
	return out
}

func (e *Engine) keysToScan() []namedKey {
	e.allKeysOnce.Do(func() {
		for _, name := range append(flow.KeyNames(), e.compiler.Keys()...) {
			names := []string{name}
			if packet.IsKey(name) {
				names = append(names, name+".1", name+".2")
			}
			for _, n := range names {
				if x, err := e.compiler.Key(n); err == nil {
					e.allKeys = append(e.allKeys, namedKey{n, x})
				}
			}
		}
	})
	return e.allKeys
}

// FlowKeys answers /flowkeys/json: every flow key the traffic has had, with
// the ms since a sample last had it. Each worker lists the keys of one
// flow sample a second.
func (e *Engine) FlowKeys(now time.Time) map[string]int64 {
	ms := e.ms(now)
	out := map[string]int64{}
	e.workerMu.Lock()
	defer e.workerMu.Unlock()
	for _, w := range e.workers {
		w.keysMu.Lock()
		for k, t := range w.keysSeen {
			age := max(ms-t, 0)
			if old, ok := out[k]; !ok || age < old {
				out[k] = age
			}
		}
		w.keysMu.Unlock()
	}
	return out
}

// Limits returns the flow-table counters.
func (e *Engine) Limits() *flow.Limits { return &e.limits }

// FlowLog is the history of completed flow records.
func (e *Engine) FlowLog() *history.History[FlowRecord] { return e.flowLog }

// Run does the periodic work — ending idle flows (and logging them),
// active-timeout records, ageing out silent data sources and agents —
// until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			e.expireLeases(now) // leases are the pages' wall-clock renewals
			e.Sweep(e.Time(now))
		}
	}
}

// Sweep does one round of the periodic work at now (engine time).
func (e *Engine) Sweep(now time.Time) {
	e.sweepMu.Lock()
	defer e.sweepMu.Unlock()
	ms := now.UnixMilli()
	defs := e.defs.Load()
	e.hosts.sweep(ms - e.cfg.AgentTimeout.Milliseconds())
	e.located.sweep(ms - e.cfg.AgentTimeout.Milliseconds())
	for _, a := range e.agentList() {
		a.mu.Lock()
		for id, ds := range a.sources {
			for i, t := range ds.tables {
				if t == nil {
					continue
				}
				if i >= len(defs.slots) || defs.slots[i] == nil || defs.slots[i].gen != t.Gen {
					t.Clear()
					ds.tables[i] = nil
					continue
				}
				d := defs.slots[i].def
				records := (d.Spec.Log || len(d.Spec.IPFIX) > 0) && !d.Spec.FlowStart
				t.Expire(ms, d.Idle(), func(en *flow.Entry) {
					if records {
						v, vs := t.Record(en)
						e.logFlow(d, a, ds, en, en.Start, en.Last, v, vs)
					}
				})
				if records {
					at := int64(d.Spec.ActiveTimeout) * 1000
					t.Each(func(en *flow.Entry) {
						if ms-en.Logged >= at {
							v, vs := t.Record(en)
							e.logFlow(d, a, ds, en, en.Logged, ms, v, vs)
							en.MarkLogged(ms)
						}
					})
				}
			}
			if ms-ds.lastSeen > e.cfg.DataSourceTimeout.Milliseconds() {
				a.dropSource(id, ds)
			}
		}
		if !a.removed && ms-a.lastSeen > e.cfg.AgentTimeout.Milliseconds() {
			e.removeAgentLocked(a)
			e.notes.agentTimedOut.note(e.log, a.name, 1, "silent", e.cfg.AgentTimeout.String())
		}
		a.mu.Unlock()
	}
	e.notes.flush(e.log)
}

// FlowRecord is a completed (or started, or long-running) flow, as
// /flows/json and setFlowHandler deliver it.
type FlowRecord struct {
	FlowID     int64     `json:"flowID"`
	Name       string    `json:"name"`
	FlowKeys   string    `json:"flowKeys"`
	Value      float64   `json:"value"`
	Values     []float64 `json:"values,omitempty"`
	Start      int64     `json:"start"`
	End        int64     `json:"end"`
	Agent      string    `json:"agent"`
	DataSource string    `json:"dataSource"`
}

func (e *Engine) logFlow(d *flow.Definition, a *Agent, ds *source, en *flow.Entry, start, end int64, value float64, values []float64) {
	r := FlowRecord{Name: d.Name, FlowKeys: en.Key, Value: value, Start: start, End: end, Agent: a.name, DataSource: ds.id}
	if len(values) > 0 {
		r.Values = slices.Clone(values)
	}
	e.subMu.Lock()
	subs, ipfix := e.flowSubs, e.ipfixSubs
	e.subMu.Unlock()
	if len(d.Spec.IPFIX) > 0 {
		for _, fn := range ipfix {
			fn(r, d.Spec)
		}
	}
	if !d.Spec.Log {
		return // a record made for ipfixCollectors only
	}
	r.FlowID = e.flowLog.Add(r, func(r *FlowRecord, id int64) { r.FlowID = id })
	for _, fn := range subs {
		fn(r)
	}
}

// SubscribeIPFIX calls fn with the records of definitions that have
// ipfixCollectors (log:true or not) and the definition as stored. fn runs
// on the sweeper with an agent locked: it must only hand the record on.
func (e *Engine) SubscribeIPFIX(fn func(FlowRecord, flow.Spec)) {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	e.ipfixSubs = append(slices.Clip(e.ipfixSubs), fn)
}

// SubscribeFlows calls fn with every logged flow record (definitions with
// log:true). fn runs on the worker or sweeper that logged it, with an
// agent locked: it must only hand the record on.
func (e *Engine) SubscribeFlows(fn func(FlowRecord)) {
	e.subMu.Lock()
	e.flowSubs = append(e.flowSubs, fn)
	e.subMu.Unlock()
}

func (e *Engine) agentList() []*Agent {
	e.agentMu.RLock()
	defer e.agentMu.RUnlock()
	out := make([]*Agent, 0, len(e.agents))
	for _, a := range e.agents {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *Agent) int { return x.addr.Compare(y.addr) })
	return out
}

// agent returns (creating it if needed) the state of one agent.
func (e *Engine) agent(addr netip.Addr, now int64) *Agent {
	e.agentMu.RLock()
	a := e.agents[addr]
	e.agentMu.RUnlock()
	if a != nil {
		return a
	}
	e.agentMu.Lock()
	if a = e.agents[addr]; a != nil {
		e.agentMu.Unlock()
		return a
	}
	a = newAgent(e, addr, now)
	e.agents[addr] = a
	n := len(e.agents)
	e.agentMu.Unlock()
	e.notes.newAgent.note(e.log, a.name, 1)
	if n > e.cfg.MaxAgents {
		e.evictAgents(a)
	}
	return a
}

// Uptime is how long the engine has run.
func (e *Engine) Uptime() time.Duration { return time.Since(e.started) }

// String describes the limits, for the start-up banner.
func (c Config) String() string {
	return fmt.Sprintf("flows tracked ≤ %d, flow log %d records, data source timeout %s, agent timeout %s, "+
		"agents ≤ %d, data sources ≤ %d (≤ %d per agent), flow definitions ≤ %d",
		c.MaxFlows, c.FlowLogSize, c.DataSourceTimeout, c.AgentTimeout, c.MaxAgents, c.MaxSources, c.MaxAgentSources, c.MaxDefinitions)
}
