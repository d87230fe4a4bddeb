package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Caps on what the network can make the engine hold. Every datagram whose
// header decodes names an agent and every sample a data source, and both
// are written in the datagram, so one sender can claim any number of them
// (200k spoofed agent addresses took 467 MiB; 400k data sources of one
// agent 555 MiB). agents.max bounds the agents, agent.datasources.max the data
// sources of one agent and datasources.max all of them; at each bound the
// least recently heard go first. They go in batches, 1/evictBatch of the
// bound at a time, so that finding them (a scan and a quickselect) is paid
// once per batch rather than once per new agent. What goes is counted (and
// logged, rate-limited); nothing on the path of known agents and data
// sources changes.

// evictBatch: a full table gives up 1/evictBatch of its bound at once (at
// least one).
const evictBatch = 32

// maxSubAgents bounds the sub-agents whose datagram sequence numbers an
// agent's accounting follows (the sub-agent id is a 32-bit field of the
// datagram). Datagrams of further sub-agents are applied, and counted as
// not sequenced.
const maxSubAgents = 1024

// The caps' defaults: a data source holds 1.4–3 KB (its metrics), so
// 100,000 hold 140–300 MB (docs/performance.md); a single agent may have up
// to 10,000. The listings' default bounds (/agents/json, /table) are sized
// to show all of them.
const (
	DefaultMaxAgents       = 10_000
	DefaultMaxAgentSources = 10_000
	DefaultMaxSources      = 100_000
	DefaultMaxDefinitions  = 100
	DefaultMaxHosts        = 100_000 // MACs, and IP addresses, located (locate.go)
)

// capCounters count what the caps did.
type capCounters struct {
	sources        atomic.Int64  // data sources held by all agents
	agentsEvicted  atomic.Uint64 // at agents.max
	sourcesEvicted atomic.Uint64 // at agent.datasources.max or datasources.max
	samplesRefused atomic.Uint64 // at datasources.max, with nothing of their agent's to give up
	hostsEvicted   atomic.Uint64 // host: table entries, at its bound
	evictMu        sync.Mutex    // one agent eviction at a time
	globalMu       sync.Mutex    // one eviction at datasources.max at a time (only ever TryLocked)
}

// LimitError is a refusal at a configured limit: what is full, its bound,
// the property that sets it and what to do.
type LimitError struct {
	What     string // "flow definitions"
	Max      int
	Property string // "flow.definitions.max"
	Hint     string // "delete one (DELETE /flow/{name}/json)"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%d %s are defined, the most %s allows: %s, or raise the limit (-D%s=…)",
		e.Max, e.What, e.Property, e.Hint, e.Property)
}

// LimitProperty names the property of the limit (the REST API answers
// such errors 409, rather than 400).
func (e *LimitError) LimitProperty() string { return e.Property }

type agedAgent struct {
	a    *Agent
	seen int64
}

// evictAgents makes room when the agents are over agents.max: the least
// recently heard go, with a batch more; keep (the agent just added) stays.
func (e *Engine) evictAgents(keep *Agent) {
	e.caps.evictMu.Lock()
	defer e.caps.evictMu.Unlock()
	limit := e.cfg.MaxAgents
	e.agentMu.RLock()
	over := len(e.agents) - limit
	if over <= 0 {
		e.agentMu.RUnlock()
		return
	}
	list := make([]agedAgent, 0, len(e.agents))
	for _, a := range e.agents {
		if a != keep {
			list = append(list, agedAgent{a: a})
		}
	}
	e.agentMu.RUnlock()
	for i := range list {
		a := list[i].a
		a.mu.Lock()
		list[i].seen = a.lastSeen
		a.mu.Unlock()
	}
	k := min(len(list), over+limit/evictBatch)
	oldest(list, k, func(v *agedAgent) int64 { return v.seen })
	n := 0
	for _, v := range list[:k] {
		v.a.mu.Lock()
		if !v.a.removed {
			e.removeAgentLocked(v.a)
			n++
		}
		v.a.mu.Unlock()
	}
	if n > 0 {
		e.caps.agentsEvicted.Add(uint64(n))
		e.notes.agentsEvicted.note(e.log, list[0].a.name, n, "agents.max", limit) // list[0]: one of the oldest
	}
}

// removeAgentLocked forgets an agent (aged out or evicted), with a.mu
// held: a worker that cached it sees removed before it can touch it again.
// What it held is let go at once, since caches may keep the Agent itself a
// while.
func (e *Engine) removeAgentLocked(a *Agent) {
	a.removed = true
	for k, ds := range a.sources {
		a.dropSource(k, ds)
	}
	a.sources, a.subs, a.named, a.senders = nil, nil, nil, nil
	e.names.forget(a.addr)
	e.agentMu.Lock()
	if e.agents[a.addr] == a {
		delete(e.agents, a.addr)
	}
	e.agentMu.Unlock()
}

// dropSource forgets one data source of the agent.
func (a *Agent) dropSource(k uint64, ds *source) {
	ds.release()
	if ds.ifname != "" {
		a.e.names.setPort(a.addr, ds.id, "")
	}
	delete(a.sources, k)
	if k&namedBit != 0 {
		delete(a.named, ds.id)
	}
	a.e.caps.sources.Add(-1)
}

// addSource adds a new data source, with a.mu held, making room for it
// first; false when there is none: datasources.max is reached, no other
// agent could give one up (all were busy) and this one has none.
func (a *Agent) addSource(k uint64, ds *source) bool {
	e, c := a.e, &a.e.cfg
	if over := len(a.sources) + 1 - c.MaxAgentSources; over > 0 {
		a.evictSources(over+c.MaxAgentSources/evictBatch, "agent.datasources.max", c.MaxAgentSources)
	}
	if e.caps.sources.Load() >= int64(c.MaxSources) {
		e.evictGlobally(a)
	}
	if e.caps.sources.Load() >= int64(c.MaxSources) {
		if len(a.sources) == 0 {
			return false
		}
		a.evictSources(1, "datasources.max", c.MaxSources)
	}
	a.sources[k] = ds
	e.caps.sources.Add(1)
	return true
}

type agedSourceOf struct {
	a    *Agent
	k    uint64
	seen int64
}

// evictGlobally makes room at datasources.max, with self.mu held: the
// least recently heard data sources of all agents go, a batch at a time.
// Other agents are only TryLocked: one that a worker holds now is being
// heard, so it is not the least recently heard, and two workers doing this
// at once (or this and evictAgents) never wait for each other.
func (e *Engine) evictGlobally(self *Agent) {
	if !e.caps.globalMu.TryLock() {
		return // another worker is making room
	}
	defer e.caps.globalMu.Unlock()
	limit := e.cfg.MaxSources
	over := int(e.caps.sources.Load()) + 1 - limit
	if over <= 0 {
		return
	}
	e.agentMu.RLock()
	agents := make([]*Agent, 0, len(e.agents))
	for _, a := range e.agents {
		agents = append(agents, a)
	}
	e.agentMu.RUnlock()
	list := make([]agedSourceOf, 0, min(int(e.caps.sources.Load()), limit+limit/evictBatch))
	for _, a := range agents {
		if a != self && !a.mu.TryLock() {
			continue
		}
		for k, ds := range a.sources {
			list = append(list, agedSourceOf{a, k, ds.lastSeen})
		}
		if a != self {
			a.mu.Unlock()
		}
	}
	k := min(len(list), over+limit/evictBatch)
	oldest(list, k, func(v *agedSourceOf) int64 { return v.seen })
	byAgent := map[*Agent]int{}
	for _, v := range list[:k] {
		a := v.a
		if a != self && !a.mu.TryLock() {
			continue
		}
		if ds := a.sources[v.k]; ds != nil && ds.lastSeen == v.seen {
			a.dropSource(v.k, ds)
			a.sourcesEvicted++
			byAgent[a]++
		}
		if a != self {
			a.mu.Unlock()
		}
	}
	for a, n := range byAgent {
		e.caps.sourcesEvicted.Add(uint64(n))
		e.notes.sourcesEvicted.note(e.log, a.name, n, "datasources.max", limit)
	}
}

type agedSource struct {
	k    uint64
	seen int64
}

// evictSources drops the agent's n least recently heard data sources, at
// the limit property (which is limit).
func (a *Agent) evictSources(n int, property string, limit int) {
	list := make([]agedSource, 0, len(a.sources))
	for k, ds := range a.sources {
		list = append(list, agedSource{k, ds.lastSeen})
	}
	n = min(n, len(list))
	oldest(list, n, func(v *agedSource) int64 { return v.seen })
	for _, v := range list[:n] {
		a.dropSource(v.k, a.sources[v.k])
	}
	a.sourcesEvicted += uint64(n)
	a.e.caps.sourcesEvicted.Add(uint64(n))
	a.e.notes.sourcesEvicted.note(a.e.log, a.name, n, property, limit)
}

// oldest reorders list so that its first k entries are the k least
// recently seen, in no particular order: Hoare's quickselect, linear on
// average, where a sort would cost log n times as much for every batch.
func oldest[T any](list []T, k int, seen func(*T) int64) {
	if k <= 0 || k >= len(list) {
		return
	}
	lo, hi, want := 0, len(list)-1, k-1
	for lo < hi {
		p := seen(&list[lo+(hi-lo)/2])
		i, j := lo, hi
		for i <= j {
			for seen(&list[i]) < p {
				i++
			}
			for seen(&list[j]) > p {
				j--
			}
			if i <= j {
				list[i], list[j] = list[j], list[i]
				i++
				j--
			}
		}
		switch { // [lo, j] ≤ p ≤ [i, hi]; between them, = p
		case want <= j:
			hi = j
		case want >= i:
			lo = i
		default:
			return
		}
	}
}
