package main

import (
	"errors"
	"log/slog"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/flow"
)

// ipfixConfig sets up the IPFIX exports: the flow definitions'
// ipfixCollectors (always ready: definitions come and go at run time), and
// the conversion of every flow sample to a record for the collectors of
// ipfix.collectors (IPFIX) or netflow.collectors (NetFlow v9).
func (x *exporters) ipfixConfig(p properties, e *engine.Engine, log *slog.Logger) error {
	refresh, err := p.seconds("ipfix.templates")
	if err != nil {
		return err
	}
	x.ipfix = export.NewIPFIX(10000, log)
	x.ipfix.TemplateRefresh = refresh
	e.SubscribeIPFIX(func(r engine.FlowRecord, spec flow.Spec) {
		x.ipfix.Record(export.FlowRecord{Name: r.Name, FlowKeys: r.FlowKeys, Value: r.Value, Values: r.Values,
			Start: r.Start, End: r.End}, spec)
	})
	ipfix, v9 := splitList(p.str("ipfix.collectors")), splitList(p.str("netflow.collectors"))
	if len(ipfix) > 0 && len(v9) > 0 {
		return errors.New("ipfix.collectors and netflow.collectors: choose one (every sample goes to the collectors of one of them)")
	}
	if len(ipfix) == 0 && len(v9) == 0 {
		return nil
	}
	version, collectors := uint16(10), ipfix
	if len(v9) > 0 {
		version, collectors = 9, v9
	}
	x.netflow, err = export.NewSamples(e.Compiler(), version, collectors, refresh, log)
	return err
}
