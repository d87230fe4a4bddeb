package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/state"
	"github.com/flowrt/flowrt/tenant"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

// persisted ties what REST defines to the state directory: restored at
// start, saved after each change — the change's answer waits until it is
// on disk.
type persisted struct {
	store      *state.Store
	log        *slog.Logger
	engine     *engine.Engine
	thresholds *threshold.Monitor
	groups     *group.Groups
	maps       *group.Maps
	forwarder  *forward.Forwarder
	tenants    *tenant.Splitter
	topology   *topology.Store
	kinds      map[string]*state.Kind

	// unrestored holds, by kind and name ("" for the topology), the
	// entries of the state files that could not be applied at start (a
	// flow whose key needs a database that is not configured now): they
	// are written back with every save, so that fixing the cause and
	// restarting brings them back, until a change to the same name
	// replaces them.
	mu         sync.Mutex
	unrestored map[string]map[string]unrestored
}

type unrestored struct {
	raw json.RawMessage
	err string
}

// kindNames are the saved kinds, in the order they are restored.
var kindNames = []string{"flows", "thresholds", "groups", "maps", "topology", "forwarding", "tenants"}

func newPersisted(store *state.Store, log *slog.Logger, e *engine.Engine, th *threshold.Monitor, g *group.Groups,
	m *group.Maps, f *forward.Forwarder, ts *tenant.Splitter, topo *topology.Store) *persisted {
	p := &persisted{store: store, log: log, engine: e, thresholds: th, groups: g, maps: m, forwarder: f, tenants: ts,
		topology: topo, kinds: map[string]*state.Kind{}, unrestored: map[string]map[string]unrestored{}}
	// Each named kind: all its live entries, and one of them.
	type named struct {
		all func() map[string]any
		one func(name string) (any, bool)
	}
	kinds := map[string]named{
		// Flows held by a client that renews a lease, and the web pages'
		// own (ui_…), are not kept: saved as absent.
		"flows": {func() map[string]any {
			out := map[string]any{}
			leased := e.Leases()
			for name, spec := range e.Definitions() {
				if _, ok := leased[name]; !ok && !strings.HasPrefix(name, ephemeralFlow) {
					out[name] = spec
				}
			}
			return out
		}, func(name string) (any, bool) {
			if _, ok := e.Leases()[name]; ok || strings.HasPrefix(name, ephemeralFlow) {
				return nil, false
			}
			return e.Definition(name)
		}},
		"thresholds": {func() map[string]any { return anyValues(th.All()) },
			func(name string) (any, bool) { return th.Get(name) }},
		"groups": {func() map[string]any { return anyValues(g.All()) }, func(name string) (any, bool) {
			s, ok := g.Get(name)
			if !ok {
				return nil, false
			}
			return s.Groups(), true
		}},
		"maps": {func() map[string]any { return anyValues(m.All()) }, func(name string) (any, bool) {
			mp, ok := m.Get(name)
			if !ok {
				return nil, false
			}
			return mp.Def(), true
		}},
		"forwarding": {func() map[string]any { return anyValues(f.Specs()) }, func(name string) (any, bool) {
			s, ok := f.Get(name)
			return s.Spec, ok
		}},
		"tenants": {func() map[string]any { return anyValues(ts.Specs()) }, func(name string) (any, bool) {
			s, ok := ts.Get(name)
			return s.Spec, ok
		}},
	}
	for kind, k := range kinds {
		p.kinds[kind] = store.Kind(kind, func() any { return p.withUnrestored(kind, k.all()) }, k.one)
	}
	p.kinds["topology"] = store.Kind("topology", func() any {
		if !topo.IsSet() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if u, ok := p.unrestored["topology"][""]; ok {
				return u.raw
			}
		}
		return topo.Get()
	}, nil)
	return p
}

func anyValues[T any](m map[string]T) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// withUnrestored adds to a kind's live entries those that could not be
// restored, except where a live entry of the same name replaced one.
func (p *persisted) withUnrestored(kind string, live map[string]any) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, u := range p.unrestored[kind] {
		if _, ok := live[name]; ok {
			delete(p.unrestored[kind], name) // defined again (by a script): the new one replaces it
			continue
		}
		live[name] = u.raw
	}
	return live
}

// restore loads each kind; a bad file or entry is reported and the rest
// still restored.
func (p *persisted) restore() {
	restoreEach(p, "flows", "flow", p.engine.Define)
	restoreEach(p, "thresholds", "threshold", p.thresholds.Set)
	restoreEach(p, "groups", "group set", p.groups.Set)
	restoreEach(p, "maps", "map", p.maps.Set)
	var raw json.RawMessage
	p.load("topology", &raw, func() int {
		var topo *topology.Topology
		err := json.Unmarshal(raw, &topo)
		if err == nil && topo == nil {
			return 0
		}
		if err == nil {
			err = p.topology.Set(*topo)
		}
		if err != nil {
			p.keep("topology", "", "topology", raw, err)
			return 0
		}
		return len(topo.Nodes)
	})
	restoreEach(p, "forwarding", "forwarding session", p.forwarder.Set)
	restoreEach(p, "tenants", "tenant", p.tenants.Set)
}

// restoreEach loads a kind saved as name → definition (its snapshot and
// journal) and applies each entry with set; one that cannot be applied is
// kept for the next saves.
func restoreEach[T any](p *persisted, kind, what string, set func(name string, v T) error) {
	entries, found, err := p.kinds[kind].Load()
	if err != nil {
		p.log.Error("state: "+kind+" not fully restored", "err", err)
	}
	if !found || entries == nil {
		return
	}
	n := 0
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		var v T
		err := json.Unmarshal(entries[name], &v)
		if err == nil {
			err = set(name, v)
		}
		if err != nil {
			p.keep(kind, name, what, entries[name], err)
			continue
		}
		n++
	}
	p.log.Info("state restored", "kind", kind, "entries", n, "dir", p.store.Dir())
}

// keep records and reports an entry that could not be restored.
func (p *persisted) keep(kind, name, what string, raw json.RawMessage, err error) {
	p.log.Error("state: "+what+" not restored; it stays in the state file: fix the cause and restart to restore it",
		"kind", kind, "name", name, "dir", p.store.Dir(), "err", err)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unrestored[kind] == nil {
		p.unrestored[kind] = map[string]unrestored{}
	}
	p.unrestored[kind][name] = unrestored{raw: raw, err: err.Error()}
}

func (p *persisted) load(kind string, v any, apply func() int) {
	found, err := p.store.Load(kind, v)
	if err != nil {
		p.log.Error("state: "+kind+" not restored", "err", err)
		return
	}
	if found {
		p.log.Info("state restored", "kind", kind, "entries", apply(), "dir", p.store.Dir())
	}
}

// ephemeralFlow starts the names of the web interface's own definitions
// (a trend being watched, the topology page's link flows): they live while
// a page is open, so they are not kept across restarts — a page closed by
// a crash would otherwise leave them defined for ever.
const ephemeralFlow = "ui_"

// changed saves kind after a REST change to name and returns once it is on
// disk, or why it is not: then the change is still applied (saying so is
// the caller's answer) and the kind is saved again later. Any change to a
// name replaces an entry kept under it that could not be restored.
func (p *persisted) changed(kind, name string) error {
	k := p.kinds[kind]
	if k == nil {
		return fmt.Errorf("flowrt does not save %q definitions", kind)
	}
	if kind == "flows" && strings.HasPrefix(name, ephemeralFlow) {
		return nil // never saved: nothing to wait for
	}
	p.mu.Lock()
	delete(p.unrestored[kind], name)
	p.mu.Unlock()
	save := func() error { return k.Changed(name) }
	if kind == "topology" {
		save = k.ChangedAll
	}
	if err := save(); err != nil {
		return fmt.Errorf("the change is applied but not saved, so a restart would lose it: %w; flowrt tries again every %v and logs when it succeeds", err, p.store.Retry)
	}
	return nil
}

// changedByScript saves kind after a script changed it (the script API
// names no entry: a script's definition replaces one that could not be
// restored when a save finds it defined). The script does not wait for
// the disk; a failure is logged by the store.
func (p *persisted) changedByScript(kind string) {
	if k := p.kinds[kind]; k != nil {
		k.SaveLater()
	}
}

// status is the "state" of /analyzer/json: the directory, each kind's
// saves (and whether the engine holds changes the disk does not), and the
// entries that could not be restored, with why.
func (p *persisted) status() map[string]any {
	saves := map[string]state.KindStatus{}
	for kind, k := range p.kinds {
		saves[kind] = k.Status()
	}
	type entry struct {
		Kind  string `json:"kind"`
		Name  string `json:"name"`
		Error string `json:"error"`
	}
	notRestored := []entry{}
	p.mu.Lock()
	for _, kind := range kindNames {
		for _, name := range slices.Sorted(maps.Keys(p.unrestored[kind])) {
			notRestored = append(notRestored, entry{kind, name, p.unrestored[kind][name].err})
		}
	}
	p.mu.Unlock()
	return map[string]any{"dir": p.store.Dir(), "kinds": saves, "notRestored": notRestored}
}
