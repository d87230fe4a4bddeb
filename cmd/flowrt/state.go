package main

import (
	"log/slog"
	"strings"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/state"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

// persisted ties what REST defines to the state directory: restored at
// start, saved after each change.
type persisted struct {
	store      *state.Store
	log        *slog.Logger
	engine     *engine.Engine
	thresholds *threshold.Monitor
	groups     *group.Groups
	maps       *group.Maps
	forwarder  *forward.Forwarder
	topology   *topology.Store
}

// restore loads each kind; a bad file or entry is reported and the rest
// still restored.
func (p *persisted) restore() {
	restoreEach(p, "flows", "flow", p.engine.Define)
	restoreEach(p, "thresholds", "threshold", p.thresholds.Set)
	restoreEach(p, "groups", "group set", p.groups.Set)
	restoreEach(p, "maps", "map", p.maps.Set)
	var topo *topology.Topology
	p.load("topology", &topo, func() int {
		if topo == nil {
			return 0
		}
		if err := p.topology.Set(*topo); err != nil {
			p.log.Error("state: topology not restored", "err", err)
			return 0
		}
		return len(topo.Nodes)
	})
	restoreEach(p, "forwarding", "forwarding session", p.forwarder.Set)
}

// restoreEach loads a kind saved as name → definition and applies each
// entry with set.
func restoreEach[T any](p *persisted, kind, what string, set func(name string, v T) error) {
	var entries map[string]T
	p.load(kind, &entries, func() int {
		n := 0
		for name, v := range entries {
			if err := set(name, v); err != nil {
				p.log.Error("state: "+what+" not restored", "name", name, "err", err)
				continue
			}
			n++
		}
		return n
	})
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
// a page is open and renews their lease, so they are not kept across
// restarts, nor is any other leased definition.
const ephemeralFlow = "ui_"

// save writes one kind after a change.
func (p *persisted) save(kind string) {
	var v any
	switch kind {
	case "flows":
		defs, leased := p.engine.Definitions(), p.engine.Leases()
		for name := range defs {
			if _, ok := leased[name]; ok || strings.HasPrefix(name, ephemeralFlow) {
				delete(defs, name) // held by a client while it renews the lease, not kept
			}
		}
		v = defs
	case "thresholds":
		v = p.thresholds.All()
	case "groups":
		v = p.groups.All()
	case "maps":
		v = p.maps.All()
	case "forwarding":
		v = p.forwarder.Specs()
	case "topology":
		v = p.topology.Get()
	default:
		return
	}
	if err := p.store.Save(kind, v); err != nil {
		p.log.Error("state: not saved; the change holds until restart", "kind", kind, "err", err)
	}
}
