package main

import (
	"log/slog"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
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
	var flows map[string]flow.Spec
	p.load("flows", &flows, func() int {
		n := 0
		for name, s := range flows {
			if err := p.engine.Define(name, s); err != nil {
				p.log.Error("state: flow not restored", "flow", name, "err", err)
				continue
			}
			n++
		}
		return n
	})
	var ths map[string]threshold.Spec
	p.load("thresholds", &ths, func() int {
		n := 0
		for name, s := range ths {
			if err := p.thresholds.Set(name, s); err != nil {
				p.log.Error("state: threshold not restored", "threshold", name, "err", err)
				continue
			}
			n++
		}
		return n
	})
	var gs map[string]map[string][]string
	p.load("groups", &gs, func() int {
		n := 0
		for name, g := range gs {
			if err := p.groups.Set(name, g); err != nil {
				p.log.Error("state: group set not restored", "group", name, "err", err)
				continue
			}
			n++
		}
		return n
	})
	var ms map[string]map[string][]string
	p.load("maps", &ms, func() int {
		n := 0
		for name, m := range ms {
			if err := p.maps.Set(name, m); err != nil {
				p.log.Error("state: map not restored", "map", name, "err", err)
				continue
			}
			n++
		}
		return n
	})
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
	var fw map[string]forward.Spec
	p.load("forwarding", &fw, func() int {
		n := 0
		for name, s := range fw {
			if err := p.forwarder.Set(name, s); err != nil {
				p.log.Error("state: forwarding session not restored", "session", name, "err", err)
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

// save writes one kind after a change.
func (p *persisted) save(kind string) {
	var v any
	switch kind {
	case "flows":
		v = p.engine.Definitions()
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
