package main

import (
	"errors"

	"github.com/flowrt/flowrt/api"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/threshold"
)

// capsConfig reads the caps on what the network holds (agents, data
// sources) and REST clients create (flow definitions) into the engine's
// configuration.
func capsConfig(p properties, cfg *engine.Config) error {
	var errs []error
	for _, c := range []struct {
		name string
		dst  *int
	}{{"agents.max", &cfg.MaxAgents}, {"agent.datasources.max", &cfg.MaxAgentSources},
		{"datasources.max", &cfg.MaxSources}, {"flow.definitions.max", &cfg.MaxDefinitions}} {
		n, err := p.int(c.name)
		*c.dst = n
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// limitConfig sets the caps on the thresholds, forwarding sessions, group
// sets and maps REST clients create.
func limitConfig(p properties, t *threshold.Monitor, f *forward.Forwarder) (api.Limits, error) {
	var l api.Limits
	var errs []error
	for _, c := range []struct {
		name string
		set  func(int)
	}{{"thresholds.max", t.SetLimit}, {"forwarding.sessions.max", f.SetLimit},
		{"groups.max", func(n int) { l.GroupSets = n }}, {"maps.max", func(n int) { l.Maps = n }}} {
		n, err := p.int(c.name)
		c.set(n)
		errs = append(errs, err)
	}
	return l, errors.Join(errs...)
}
