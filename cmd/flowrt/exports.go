package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/metric"
)

// exporters are the pushes to larger systems the properties turn on; each
// reports what it delivered and dropped in /analyzer/json ("exports"),
// /metrics and the status page.
type exporters struct {
	influx *export.Influx
}

// newExporters reads the exporters' properties; an exporter half
// configured is an error at start, not a silent no-op.
func newExporters(p properties, e *engine.Engine, log *slog.Logger) (*exporters, error) {
	x := &exporters{}
	if url := p.str("influxdb.url"); url != "" {
		interval, err := p.seconds("influxdb.interval")
		if err != nil {
			return nil, err
		}
		x.influx = &export.Influx{URL: url, Database: p.str("influxdb.database"), Org: p.str("influxdb.org"),
			Bucket: p.str("influxdb.bucket"), Token: p.str("influxdb.token"), Measurement: p.str("influxdb.measurement"),
			Interval: interval, Log: log, Points: func(now time.Time) []metric.Point {
				return e.Dump(engine.AllAgents, nil, nil, now)
			}}
		endpoint, err := x.influx.Endpoint()
		if err != nil {
			return nil, err
		}
		log.Info("pushing metrics to InfluxDB", "url", endpoint, "interval", interval)
	}
	return x, nil
}

// run starts the exporters; they end with ctx.
func (x *exporters) run(ctx context.Context) {
	if x.influx != nil {
		go x.influx.Run(ctx)
	}
}

// stats is each exporter's counts, by name.
func (x *exporters) stats() map[string]export.Stats {
	out := map[string]export.Stats{}
	if x.influx != nil {
		out["influxdb"] = x.influx.Stats()
	}
	return out
}
