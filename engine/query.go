package engine

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// Agents selects agents: ALL, a list of addresses separated by ';' or ',',
// or a topology token: TOPOLOGY (the agents of the topology's nodes), EDGE
// and CORE (their edge or inter-switch ports only).
type Agents struct {
	all   bool
	list  []netip.Addr
	token string
}

// Topology is what the engine needs of the network's layout (package
// topology provides it).
type Topology interface {
	IsSet() bool
	HasAgent(agent netip.Addr) bool
	Edge(agent netip.Addr, dataSource string) bool
	Core(agent netip.Addr, dataSource string) bool
	// CoreIfIndex is Core for an ifIndex as a number (host location asks
	// it for every sample, without making a string).
	CoreIfIndex(agent netip.Addr, ifIndex uint32) bool
}

// SetTopology gives the engine the layout behind TOPOLOGY, EDGE and CORE.
func (e *Engine) SetTopology(t Topology) { e.topo = t }

// ParseAgents reads an agent selector from a path or a script.
func (e *Engine) ParseAgents(s string) (Agents, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "ALL":
		return Agents{all: true}, nil
	case "TOPOLOGY", "EDGE", "CORE":
		// With no topology set these select nothing, as in sFlow-RT:
		// apps ask for them every second before a topology arrives.
		return Agents{token: s}, nil
	}
	var out Agents
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return Agents{}, fmt.Errorf("%q is not an agent address (or ALL, TOPOLOGY, EDGE, CORE)", f)
		}
		out.list = append(out.list, a.Unmap())
	}
	return out, nil
}

// AllAgents selects every agent.
var AllAgents = Agents{all: true}

func (e *Engine) selected(sel Agents) []*Agent {
	if sel.all {
		return e.agentList()
	}
	if sel.token != "" {
		out := e.agentList()
		return slices.DeleteFunc(out, func(a *Agent) bool { return e.topo == nil || !e.topo.IsSet() || !e.topo.HasAgent(a.addr) })
	}
	e.agentMu.RLock()
	defer e.agentMu.RUnlock()
	var out []*Agent
	for _, addr := range sel.list {
		if a := e.agents[addr]; a != nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// portKind says whether a data source is selected by an EDGE or CORE token
// (every data source is, for other selectors).
func (e *Engine) portKind(token string, a *Agent, ds *source) bool {
	switch token {
	case "EDGE":
		return e.topo.Edge(a.addr, ds.id)
	case "CORE":
		return e.topo.Core(a.addr, ds.id)
	}
	return true
}

// AgentInfo is an entry of /agents/json: sFlow-RT's fields, then ours.
type AgentInfo struct {
	DatagramsReceived        uint64   `json:"sFlowDatagramsReceived"`
	DatagramsLost            uint64   `json:"sFlowDatagramsLost"`
	DatagramsDuplicates      uint64   `json:"sFlowDatagramsDuplicates"`
	DatagramsOutOfOrder      uint64   `json:"sFlowDatagramsOutOfOrder"`
	DatagramSource           []string `json:"sFlowDatagramSource"`
	FlowSamples              uint64   `json:"sFlowFlowSamples"`
	FlowLostSamples          uint64   `json:"sFlowFlowLostSamples"`
	FlowDuplicateSamples     uint64   `json:"sFlowFlowDuplicateSamples"`
	FlowOutOfOrderSamples    uint64   `json:"sFlowFlowOutOfOrderSamples"`
	FlowDrops                uint64   `json:"sFlowFlowDrops"`
	FlowDatasources          int      `json:"sFlowFlowDatasources"`
	CounterSamples           uint64   `json:"sFlowCounterSamples"`
	CounterLostSamples       uint64   `json:"sFlowCounterLostSamples"`
	CounterDuplicateSamples  uint64   `json:"sFlowCounterDuplicateSamples"`
	CounterOutOfOrderSamples uint64   `json:"sFlowCounterOutOfOrderSamples"`
	CounterDatasources       int      `json:"sFlowCounterDatasources"`
	NotificationSamples      uint64   `json:"sFlowNotificationSamples"`
	NotificationLost         uint64   `json:"sFlowNotificationLostSamples"`
	NotificationDuplicates   uint64   `json:"sFlowNotificationDuplicateSamples"`
	NotificationOutOfOrder   uint64   `json:"sFlowNotificationOutOfOrderSamples"`
	NotificationDrops        uint64   `json:"sFlowNotificationDrops"`
	NotificationDatasources  int      `json:"sFlowNotificationDatasources"`
	FirstSeen                int64    `json:"firstSeen"`
	LastSeen                 int64    `json:"lastSeen"`
	Uptime                   uint32   `json:"uptime"`
	// flowrt's additions.
	BytesReceived uint64 `json:"sFlowBytesReceived"`
	DecodeErrors  uint64 `json:"sFlowDatagramsDecodeErrors"`
	Restarts      uint64 `json:"sFlowAgentRestarts"`
	Datasources   int    `json:"sFlowDatasources"`
	// What the caps did to this agent: data sources evicted at
	// agent.datasources.max or datasources.max, samples refused (no room
	// for their data source), datagrams of sub-agents beyond the 1,024
	// followed whose sequence numbers are not followed.
	DatasourcesEvicted   uint64 `json:"sFlowDatasourcesEvicted"`
	SamplesRefused       uint64 `json:"sFlowSamplesRefused"`
	DatagramsUnsequenced uint64 `json:"sFlowDatagramsUnsequenced"`
	// Records that did not decode inside datagrams that did (a bad
	// sampled_header or host_descr length …), left out: in all and by
	// reason (only the reasons that occurred).
	RecordDecodeErrors   uint64            `json:"sFlowRecordDecodeErrors"`
	RecordDecodeErrorsBy map[string]uint64 `json:"sFlowRecordDecodeErrorsBy,omitempty"`
}

// Page selects a window of a listing: Offset entries are skipped and at
// most Limit kept (Limit < 0: no bound).
type Page struct{ Offset, Limit int }

// All is the whole listing.
var All = Page{Limit: -1}

// window returns the part [lo, hi) of a listing of total entries.
func (p Page) window(total int) (lo, hi int) {
	lo = min(max(p.Offset, 0), total)
	hi = total
	if p.Limit >= 0 {
		hi = min(hi, lo+p.Limit)
	}
	return lo, hi
}

func (p Page) in(i int) bool { return i >= p.Offset && (p.Limit < 0 || i < p.Offset+p.Limit) }

// AgentsInfo returns /agents/json for the selected agents.
func (e *Engine) AgentsInfo(sel Agents, now time.Time) map[string]AgentInfo {
	out, _ := e.AgentsPage(sel, All, now)
	return out
}

// AgentsPage returns /agents/json for a window of the selected agents, in
// address order, and how many were selected.
func (e *Engine) AgentsPage(sel Agents, p Page, now time.Time) (map[string]AgentInfo, int) {
	ms := e.ms(now)
	out := map[string]AgentInfo{}
	list := e.selected(sel)
	lo, hi := p.window(len(list))
	for _, a := range list[lo:hi] {
		a.mu.Lock()
		info := AgentInfo{
			DatagramsReceived: a.datagrams, DatagramsLost: a.lostDatagrams, DatagramsDuplicates: a.dupDatagrams,
			DatagramsOutOfOrder: a.oooDatagrams, DatagramSource: []string{},
			FirstSeen: max(ms-a.first, 0), LastSeen: max(ms-a.lastSeen, 0), Uptime: a.uptime,
			BytesReceived: a.bytes, DecodeErrors: a.decodeErrors, Restarts: a.restarts, Datasources: len(a.sources),
			DatasourcesEvicted: a.sourcesEvicted, SamplesRefused: a.samplesRefused, DatagramsUnsequenced: a.unsequenced,
		}
		for i, n := range a.recordErrors {
			if n > 0 {
				if info.RecordDecodeErrorsBy == nil {
					info.RecordDecodeErrorsBy = map[string]uint64{}
				}
				info.RecordDecodeErrorsBy[reasons[i]] = n
				info.RecordDecodeErrors += n
			}
		}
		for _, s := range a.senders {
			info.DatagramSource = append(info.DatagramSource, s.String())
		}
		f, c, n := a.samples[kindFlow], a.samples[kindCounter], a.samples[kindDiscard]
		info.FlowSamples, info.FlowLostSamples, info.FlowDuplicateSamples, info.FlowOutOfOrderSamples, info.FlowDrops = f.received, f.lost, f.duplicate, f.outOfOrder, f.drops
		info.CounterSamples, info.CounterLostSamples, info.CounterDuplicateSamples, info.CounterOutOfOrderSamples = c.received, c.lost, c.duplicate, c.outOfOrder
		info.NotificationSamples, info.NotificationLost, info.NotificationDuplicates, info.NotificationOutOfOrder, info.NotificationDrops = n.received, n.lost, n.duplicate, n.outOfOrder, n.drops
		for _, ds := range a.sources {
			if ds.seq[kindFlow].seen {
				info.FlowDatasources++
			}
			if ds.seq[kindCounter].seen || ds.counterSamples > 0 { // rtmetric sources have no sequence
				info.CounterDatasources++
			}
			if ds.seq[kindDiscard].seen {
				info.NotificationDatasources++
			}
		}
		a.mu.Unlock()
		out[a.name] = info
	}
	return out, len(list)
}

// Totals are the engine-wide counters.
type Totals struct {
	Datagrams, Bytes, Samples, FlowSamples, CounterSamples uint64
	Looped                                                 uint64 // forwarded copies that came back, not applied
	DecodeErrors                                           map[string]uint64
	RecordErrors                                           map[string]uint64 // records left out of datagrams that decoded
	// What the caps did (caps.go).
	Datasources                                                     int64
	AgentsEvicted, DatasourcesEvicted, SamplesRefused, HostsEvicted uint64
}

// Totals sums the workers' counters.
func (e *Engine) Totals() Totals {
	t := Totals{DecodeErrors: map[string]uint64{}, RecordErrors: map[string]uint64{},
		Datasources: e.caps.sources.Load(), AgentsEvicted: e.caps.agentsEvicted.Load(),
		DatasourcesEvicted: e.caps.sourcesEvicted.Load(), SamplesRefused: e.caps.samplesRefused.Load(),
		HostsEvicted: e.caps.hostsEvicted.Load()}
	e.workerMu.Lock()
	defer e.workerMu.Unlock()
	for _, w := range e.workers {
		t.Datagrams += w.stats.Datagrams.Load()
		t.Bytes += w.stats.Bytes.Load()
		t.Samples += w.stats.Samples.Load()
		t.FlowSamples += w.stats.FlowSamples.Load()
		t.CounterSamples += w.stats.CounterSamples.Load()
		t.Looped += w.stats.Looped.Load()
		for i, r := range reasons {
			t.DecodeErrors[r] += w.stats.DecodeErrors[i].Load()
			t.RecordErrors[r] += w.stats.RecordErrors[i].Load()
		}
	}
	return t
}

// AgentCount returns the number of agents.
func (e *Engine) AgentCount() int {
	e.agentMu.RLock()
	defer e.agentMu.RUnlock()
	return len(e.agents)
}

// Analyzer returns the engine part of /analyzer/json.
func (e *Engine) Analyzer() map[string]any {
	t := e.Totals()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var errs, recErrs uint64
	for _, n := range t.DecodeErrors {
		errs += n
	}
	for _, n := range t.RecordErrors {
		recErrs += n
	}
	out := map[string]any{
		"sFlowDatagramsReceived":    t.Datagrams,
		"sFlowDatagramsLooped":      t.Looped,
		"sFlowBytesReceived":        t.Bytes,
		"sFlowSamplesReceived":      t.Samples,
		"sFlowFlowSamples":          t.FlowSamples,
		"sFlowCounterSamples":       t.CounterSamples,
		"sFlowDecodeErrors":         errs,
		"sFlowDecodeErrorsBy":       t.DecodeErrors,
		"sFlowRecordDecodeErrors":   recErrs,
		"sFlowRecordDecodeErrorsBy": t.RecordErrors,
		"sFlowAgents":               e.AgentCount(),
		"sFlowAgentsMax":            e.cfg.MaxAgents,
		"sFlowAgentsEvicted":        t.AgentsEvicted,
		"sFlowDatasources":          t.Datasources,
		"sFlowDatasourcesMax":       e.cfg.MaxSources,
		"sFlowAgentDatasourcesMax":  e.cfg.MaxAgentSources,
		"sFlowDatasourcesEvicted":   t.DatasourcesEvicted,
		"sFlowSamplesRefused":       t.SamplesRefused,
		"hostsEvicted":              t.HostsEvicted,
		"flowDefinitionsMax":        e.cfg.MaxDefinitions,
		"flowsTracked":              e.limits.Flows.Load(),
		"flowsMax":                  e.limits.MaxFlows,
		"flowsEvicted":              e.limits.Evicted.Load(),
		"flowsRefused":              e.limits.Refused.Load(),
		"flowDefinitions":           len(e.defs.Load().byName),
		"heapUsed":                  ms.HeapAlloc,
		"heapMax":                   ms.Sys,
		"goroutines":                runtime.NumGoroutine(),
		"uptime":                    e.Uptime().Milliseconds(),
		"clock":                     "wall",
	}
	if ms, ok := e.CaptureClock(); ok {
		out["clock"], out["clockTime"] = "capture", ms
	}
	return out
}

// splitQualified splits "2.1.ifinoctets" into ("2.1", "ifinoctets").
func splitQualified(name string) (ds, metricName string) {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// visit calls fn for each selected (agent, data source) that passes the
// filter, with the agent locked.
func (e *Engine) visit(sel Agents, filter metric.Filter, fn func(a *Agent, ds *source)) {
	for _, a := range e.selected(sel) {
		a.mu.Lock()
		ids := make([]uint64, 0, len(a.sources))
		for k := range a.sources {
			ids = append(ids, k)
		}
		slices.Sort(ids)
		for _, k := range ids {
			ds := a.sources[k]
			if !e.portKind(sel.token, a, ds) {
				continue
			}
			if len(filter) > 0 && !filter.Match(func(n string) (metric.Value, bool) { return a.lookup(ds, n) }) {
				continue
			}
			fn(a, ds)
		}
		a.mu.Unlock()
	}
}

// lookup finds a metric at a data source or, failing that, at any data
// source of the agent (so that ?host_name= selects a host's interfaces).
func (a *Agent) lookup(ds *source, name string) (metric.Value, bool) {
	if v, ok := ds.metrics.Get(name); ok {
		return v, true
	}
	for _, o := range a.sources {
		if v, ok := o.metrics.Get(name); ok {
			return v, true
		}
	}
	return metric.Value{}, false
}

// point returns a metric (counter or flow) at a data source.
func (e *Engine) point(defs *defSet, a *Agent, ds *source, name string, now int64) (metric.Point, bool) {
	if v, ok := ds.metrics.Get(name); ok {
		return metric.NewPoint(a.name, ds.id, name, v, now), true
	}
	sl, ok := defs.byName[name]
	if !ok || sl.index >= len(ds.tables) {
		return metric.Point{}, false
	}
	t := ds.tables[sl.index]
	if t == nil || t.Gen != sl.gen || t.Len() == 0 {
		return metric.Point{}, false
	}
	top := t.Top(nil, sl.def.Spec.N, now)
	v := metric.Value{Num: top[0].Value, Updated: now}
	p := metric.NewPoint(a.name, ds.id, name, v, now)
	for _, f := range top {
		p.TopKeys = append(p.TopKeys, metric.Top{Key: f.Key, Value: f.Value})
	}
	return p, true
}

// Points returns one metric at every selected data source.
func (e *Engine) Points(sel Agents, name string, filter metric.Filter, now time.Time) []metric.Point {
	ms := e.ms(now)
	defs := e.defs.Load()
	dsName, m := splitQualified(name)
	var out []metric.Point
	e.visit(sel, filter, func(a *Agent, ds *source) {
		if dsName != "" && ds.id != dsName {
			return
		}
		if p, ok := e.point(defs, a, ds, m, ms); ok {
			out = append(out, p)
		}
	})
	return out
}

// Metric answers /metric/{agent}/{metrics}/json: one statistic per name,
// in order.
func (e *Engine) Metric(sel Agents, names []string, filter metric.Filter, now time.Time) ([]metric.Statistic, error) {
	out := make([]metric.Statistic, 0, len(names))
	for _, n := range names {
		agg, name, err := metric.ParseName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, metric.Aggregate(agg, n, e.Points(sel, name, filter, now)))
	}
	return out, nil
}

// Dump answers /dump: every named metric (or all, for ALL) at every
// selected data source.
func (e *Engine) Dump(sel Agents, names []string, filter metric.Filter, now time.Time) []metric.Point {
	out, _ := e.DumpPage(sel, names, filter, All, now)
	return out
}

// DumpPage answers /dump for a window of the points (in agent, data
// source and metric name order), and says how many there are: the points
// outside the window are counted, not made.
func (e *Engine) DumpPage(sel Agents, names []string, filter metric.Filter, p Page, now time.Time) ([]metric.Point, int) {
	ms := e.ms(now)
	defs := e.defs.Load()
	all := len(names) == 0 || (len(names) == 1 && names[0] == "ALL")
	out := []metric.Point{}
	n := 0
	emit := func(a *Agent, ds *source, name string) {
		if !p.in(n) {
			if e.hasPoint(defs, ds, name) {
				n++
			}
			return
		}
		if pt, ok := e.point(defs, a, ds, name, ms); ok {
			out = append(out, pt)
			n++
		}
	}
	var ns []string
	e.visit(sel, filter, func(a *Agent, ds *source) {
		if all {
			ns = ds.names(defs, ns[:0])
			for _, name := range ns {
				emit(a, ds, name)
			}
			return
		}
		for _, name := range names {
			dsName, m := splitQualified(name)
			if dsName != "" && dsName != ds.id {
				continue
			}
			emit(a, ds, m)
		}
	})
	return out, n
}

// names appends the sorted names of the data source's metrics and of the
// definitions it has a table for.
func (ds *source) names(defs *defSet, ns []string) []string {
	ds.metrics.Each(func(n string, _ metric.Value) { ns = append(ns, n) })
	for n, sl := range defs.byName {
		if _, dup := ds.metrics.Get(n); !dup && sl.index < len(ds.tables) && ds.tables[sl.index] != nil {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns
}

// hasPoint reports whether point would find the metric, without making it.
func (e *Engine) hasPoint(defs *defSet, ds *source, name string) bool {
	if _, ok := ds.metrics.Get(name); ok {
		return true
	}
	sl, ok := defs.byName[name]
	if !ok || sl.index >= len(ds.tables) {
		return false
	}
	t := ds.tables[sl.index]
	return t != nil && t.Gen == sl.gen && t.Len() > 0
}

// Table answers /table: a row per data source that has every column
// (columns prefixed null: may be missing); a column prefixed sort: orders
// the rows, and a :N or :-N suffix keeps N rows (negative: descending).
func (e *Engine) Table(sel Agents, cols []string, filter metric.Filter, now time.Time) ([][]*metric.Point, error) {
	rows, _, err := e.TablePage(sel, cols, filter, All, now)
	return rows, err
}

// TablePage answers /table for a window of its rows (after sort: and its
// row count), and says how many rows there are.
func (e *Engine) TablePage(sel Agents, cols []string, filter metric.Filter, p Page, now time.Time) ([][]*metric.Point, int, error) {
	type col struct {
		name     string
		nullable bool
	}
	var cs []col
	sortCol, limit, desc := -1, -1, false
	for i, c := range cols {
		if rest, ok := strings.CutPrefix(c, "sort:"); ok {
			sortCol = i
			if j := strings.LastIndexByte(rest, ':'); j > 0 {
				var n int
				if _, err := fmt.Sscanf(rest[j+1:], "%d", &n); err != nil {
					return nil, 0, fmt.Errorf("bad row count in %q", c)
				}
				rest = rest[:j]
				limit, desc = max(n, -n), n < 0
			}
			c = rest
		}
		nullable := false
		if rest, ok := strings.CutPrefix(c, "null:"); ok {
			c, nullable = rest, true
		}
		cs = append(cs, col{c, nullable})
	}
	ms := e.ms(now)
	defs := e.defs.Load()
	rows := [][]*metric.Point{}
	e.visit(sel, filter, func(a *Agent, ds *source) {
		row := make([]*metric.Point, len(cs))
		for i, c := range cs {
			p, ok := e.point(defs, a, ds, c.name, ms)
			if !ok {
				if !c.nullable {
					return
				}
				continue
			}
			row[i] = &p
		}
		rows = append(rows, row)
	})
	if sortCol >= 0 {
		slices.SortStableFunc(rows, func(x, y []*metric.Point) int {
			c := comparePoints(x[sortCol], y[sortCol])
			if desc {
				return -c
			}
			return c
		})
		if limit >= 0 && len(rows) > limit {
			rows = rows[:limit]
		}
	}
	lo, hi := p.window(len(rows))
	return rows[lo:hi], len(rows), nil
}

func comparePoints(x, y *metric.Point) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return -1
	case y == nil:
		return 1
	}
	a, b := x.Value(), y.Value()
	if a.IsStr || b.IsStr {
		return strings.Compare(a.Str, b.Str)
	}
	switch {
	case a.Num < b.Num:
		return -1
	case a.Num > b.Num:
		return 1
	}
	return 0
}

// AgentMetrics answers /metric/{agent}/json: "<ds>.<metric>" → value.
func (e *Engine) AgentMetrics(addr netip.Addr, now time.Time) (map[string]any, bool) {
	out, _, ok := e.AgentMetricsPage(addr, All, now)
	return out, ok
}

// AgentMetricsPage answers /metric/{agent}/json for a window of the
// agent's metrics (in data source and name order), and says how many
// there are.
func (e *Engine) AgentMetricsPage(addr netip.Addr, p Page, now time.Time) (map[string]any, int, bool) {
	e.agentMu.RLock()
	a := e.agents[addr.Unmap()]
	e.agentMu.RUnlock()
	if a == nil {
		return nil, 0, false
	}
	ms := e.ms(now)
	defs := e.defs.Load()
	out := map[string]any{}
	n := 0
	var ns []string
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(a.sources)) {
		ds := a.sources[k]
		ns = ds.names(defs, ns[:0])
		for _, name := range ns {
			if !p.in(n) {
				if e.hasPoint(defs, ds, name) {
					n++
				}
				continue
			}
			if pt, ok := e.point(defs, a, ds, name, ms); ok {
				out[ds.id+"."+name] = pt.MetricValue
				n++
			}
		}
	}
	return out, n, true
}

// MetricNames answers /metrics/json: metric name → ms since last updated
// anywhere.
func (e *Engine) MetricNames(now time.Time) map[string]int64 {
	ms := e.ms(now)
	defs := e.defs.Load()
	out := map[string]int64{}
	e.visit(AllAgents, nil, func(a *Agent, ds *source) {
		ds.metrics.Each(func(n string, v metric.Value) {
			age := max(ms-v.Updated, 0)
			if old, ok := out[n]; !ok || age < old {
				out[n] = age
			}
		})
		for n, sl := range defs.byName {
			if sl.index < len(ds.tables) && ds.tables[sl.index] != nil && ds.tables[sl.index].Len() > 0 {
				out[n] = 0
			}
		}
	})
	return out
}

// ActiveFlow is an entry of /activeflows.
type ActiveFlow struct {
	Key        string    `json:"key"`
	Value      float64   `json:"value"`
	Values     []float64 `json:"values,omitempty"`
	Agent      string    `json:"agent"`
	DataSource string    `json:"dataSource"`
}

// AggModes are the ways /activeflows combines a flow seen at several data
// sources; edge and core take the largest observation at edge or at
// inter-switch ports of the topology.
var AggModes = flow.AggModes

// ActiveFlows answers /activeflows: each selected data source's top n flows
// of a definition, combined by key (max: the largest observation, which
// does not double-count a flow seen at several hops; sum; avg), largest
// first. Without an aggMode, the definition's (default max) applies.
func (e *Engine) ActiveFlows(sel Agents, name string, maxFlows int, minValue float64, aggMode string, now time.Time) ([]ActiveFlow, error) {
	defs := e.defs.Load()
	dsName, m := splitQualified(name)
	sl, ok := defs.byName[m]
	if !ok {
		return nil, ErrNoFlow
	}
	aggMode = strings.ToLower(aggMode) // particle asks for 'MAX'
	if aggMode == "" {
		aggMode = cmp.Or(sl.def.Spec.AggMode, "max")
	}
	if aggMode == flow.AggAgent {
		aggMode = "max" // a definition's AGENT pools its tables; its queries merge as max
	}
	if !slices.Contains(AggModes, aggMode) {
		return nil, fmt.Errorf("aggMode %q is not one of %s", aggMode, strings.Join(AggModes, ", "))
	}
	if aggMode == "edge" || aggMode == "core" {
		if e.topo == nil || !e.topo.IsSet() {
			return []ActiveFlow{}, nil // no topology: no edge or core ports
		}
		if sel.token == "" || sel.token == "TOPOLOGY" {
			sel.token = strings.ToUpper(aggMode)
		}
		aggMode = "max"
	}
	ms := e.ms(now)
	// Combine by key: index into out, with how many locations reported it.
	// The merge memory is reused from query to query: a top-100 over 100k
	// flows would otherwise make megabytes of garbage each time, and the
	// collections it causes are what the slowest queries wait for.
	sc := activePool.Get().(*activeScratch)
	defer activePool.Put(sc)
	clear(sc.byKey)
	byKey, out, counts, buf := sc.byKey, sc.out[:0], sc.counts[:0], sc.buf[:0]
	defer func() { sc.out, sc.counts, sc.buf = out[:0], counts[:0], buf[:0] }()
	e.visit(sel, nil, func(a *Agent, ds *source) {
		if sl.index >= len(ds.tables) || (dsName != "" && ds.id != dsName) {
			return
		}
		t := ds.tables[sl.index]
		if t == nil || t.Gen != sl.gen {
			return
		}
		buf = t.Top(buf[:0], sl.def.Spec.N, ms)
		for _, f := range buf {
			i, seen := byKey[f.Key]
			if !seen {
				byKey[f.Key] = len(out)
				out = append(out, ActiveFlow{Key: f.Key, Value: f.Value, Values: f.Values, Agent: a.name, DataSource: ds.id})
				counts = append(counts, 1)
				continue
			}
			x := &out[i]
			counts[i]++
			switch aggMode {
			case "max":
				if f.Value > x.Value {
					*x = ActiveFlow{Key: f.Key, Value: f.Value, Values: f.Values, Agent: a.name, DataSource: ds.id}
				}
			default:
				x.Value += f.Value
				for j := range min(len(x.Values), len(f.Values)) {
					x.Values[j] += f.Values[j]
				}
			}
		}
	})
	kept := out[:0] // filtered in place: out is scratch, the result is copied out
	for i, x := range out {
		if aggMode == "avg" && counts[i] > 1 {
			x.Value /= float64(counts[i])
			for j := range x.Values {
				x.Values[j] /= float64(counts[i])
			}
		}
		if x.Value >= minValue {
			kept = append(kept, x)
		}
	}
	result := kept
	byValue := func(a, b ActiveFlow) int {
		if a.Value != b.Value {
			if a.Value > b.Value {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Key, b.Key)
	}
	if maxFlows >= 0 && len(result) > 4*maxFlows {
		// Select before sorting: only the first maxFlows are wanted.
		th := nthLargest(result, maxFlows)
		cut := result[:0]
		for _, x := range result {
			if x.Value >= th {
				cut = append(cut, x)
			}
		}
		result = cut
	}
	slices.SortFunc(result, byValue)
	if maxFlows >= 0 && len(result) > maxFlows {
		result = result[:maxFlows]
	}
	return append(make([]ActiveFlow, 0, len(result)), result...), nil // [] rather than null when there is none
}

type activeScratch struct {
	byKey  map[string]int
	out    []ActiveFlow
	counts []int
	buf    []flow.Flow
}

var activePool = sync.Pool{New: func() any { return &activeScratch{byKey: map[string]int{}} }}

// ErrNoFlow is returned for a flow definition that does not exist.
var ErrNoFlow = fmt.Errorf("no such flow definition")

// FlowValue answers /flowvalue: one flow's value at one data source.
func (e *Engine) FlowValue(addr netip.Addr, dsName, name, key string, now time.Time) (float64, bool) {
	defs := e.defs.Load()
	sl, ok := defs.byName[name]
	if !ok {
		return 0, false
	}
	e.agentMu.RLock()
	a := e.agents[addr.Unmap()]
	e.agentMu.RUnlock()
	if a == nil {
		return 0, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ds := range a.sources {
		if ds.id != dsName || sl.index >= len(ds.tables) || ds.tables[sl.index] == nil || ds.tables[sl.index].Gen != sl.gen {
			continue
		}
		return ds.tables[sl.index].ValueOf(key, e.ms(now))
	}
	return 0, false
}

// Location is where a flow is seen.
type Location struct {
	Agent      string    `json:"agent"`
	DataSource string    `json:"dataSource"`
	Value      float64   `json:"value"`
	Values     []float64 `json:"values,omitempty"` // the definition's values there (ai-monitor sorts paths by last:ipttl)
}

// FlowLocations answers /flowlocations: every data source that currently
// tracks the flow.
func (e *Engine) FlowLocations(sel Agents, name, key string, now time.Time) ([]Location, error) {
	defs := e.defs.Load()
	sl, ok := defs.byName[name]
	if !ok {
		return nil, ErrNoFlow
	}
	out := []Location{}
	e.visit(sel, nil, func(a *Agent, ds *source) {
		if sl.index >= len(ds.tables) || ds.tables[sl.index] == nil || ds.tables[sl.index].Gen != sl.gen {
			return
		}
		t := ds.tables[sl.index]
		if en, ok := t.Lookup(key); ok {
			ms := e.ms(now)
			out = append(out, Location{a.name, ds.id, t.Value(en, ms), t.Values(en, ms)})
		}
	})
	return out, nil
}

// nthLargest returns the n-th largest value (n ≥ 1) of flows, keeping the
// n largest in a min-heap.
func nthLargest(flows []ActiveFlow, n int) float64 {
	h := make([]float64, 0, n)
	for _, f := range flows {
		v := f.Value
		if len(h) < n {
			h = append(h, v)
			for i := len(h) - 1; i > 0 && h[(i-1)/2] > h[i]; i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
			continue
		}
		if v <= h[0] {
			continue
		}
		h[0] = v
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < n && h[l] < h[m] {
				m = l
			}
			if r < n && h[r] < h[m] {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	return h[0]
}

// Observation is a metric (or one flow of a flow metric) at one location,
// as thresholds see it.
type Observation struct {
	Agent      string
	DataSource string
	FlowKey    string // flow metrics: the flow (byFlow) or the largest flow
	Value      float64
	Values     []float64
}

// Above calls fn for every location where metric name exceeds level: a
// counter metric at each data source; a flow metric's largest flow at each
// data source, or with byFlow every flow above the level. filter selects
// data sources as in /metric queries. "2.1.load_one" restricts to one data
// source.
func (e *Engine) Above(name string, filter metric.Filter, byFlow bool, level float64, now time.Time, fn func(Observation)) {
	ms := e.ms(now)
	defs := e.defs.Load()
	dsName, m := splitQualified(name)
	sl, isFlow := defs.byName[m]
	e.visit(AllAgents, filter, func(a *Agent, ds *source) {
		if dsName != "" && ds.id != dsName {
			return
		}
		if !isFlow {
			if v, ok := ds.metrics.Get(m); ok && !v.IsStr && v.Num > level {
				fn(Observation{Agent: a.name, DataSource: ds.id, Value: v.Num})
			}
			return
		}
		if sl.index >= len(ds.tables) || ds.tables[sl.index] == nil || ds.tables[sl.index].Gen != sl.gen {
			return
		}
		t := ds.tables[sl.index]
		if byFlow {
			t.EachAbove(level, ms, func(en *flow.Entry, v float64) {
				fn(Observation{Agent: a.name, DataSource: ds.id, FlowKey: en.Key, Value: v, Values: t.Values(en, ms)})
			})
			return
		}
		var top [1]flow.Flow
		if best := t.Top(top[:0], 1, ms); len(best) == 1 && best[0].Value > level {
			fn(Observation{Agent: a.name, DataSource: ds.id, FlowKey: best[0].Key, Value: best[0].Value, Values: best[0].Values})
		}
	})
}

// IsFlowMetric reports whether name (optionally "<ds>.name") is a flow
// definition.
func (e *Engine) IsFlowMetric(name string) bool {
	_, m := splitQualified(name)
	_, ok := e.defs.Load().byName[m]
	return ok
}

// DataSourceInfo is datasourceInfo()'s answer.
type DataSourceInfo struct {
	SamplingRate             uint32  `json:"samplingRate"`
	EffectiveSamplingRate    float64 `json:"effectiveSamplingRate"`
	FlowSamples              uint64  `json:"flowSamples"`
	CounterSamples           uint64  `json:"counterSamples"`
	EffectivePollingInterval int64   `json:"effectivePollingInterval"` // ms
	LastSeen                 int64   `json:"lastSeen"`                 // ms ago
}

// DataSourceInfo describes one data source of an agent ("3", "2.1").
func (e *Engine) DataSourceInfo(addr netip.Addr, dataSource string, now time.Time) (DataSourceInfo, bool) {
	e.agentMu.RLock()
	a := e.agents[addr.Unmap()]
	e.agentMu.RUnlock()
	if a == nil {
		return DataSourceInfo{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ds := range a.sources {
		if ds.id != dataSource {
			continue
		}
		info := DataSourceInfo{SamplingRate: ds.samplingRate, FlowSamples: ds.flowSamples,
			CounterSamples: ds.counterSamples, EffectivePollingInterval: int64(ds.pollMs), LastSeen: max(e.ms(now)-ds.lastSeen, 0)}
		info.EffectiveSamplingRate = float64(ds.samplingRate)
		if ds.poolSamples > 0 {
			info.EffectiveSamplingRate = float64(ds.poolPackets) / float64(ds.poolSamples)
		}
		return info, true
	}
	return DataSourceInfo{}, false
}
