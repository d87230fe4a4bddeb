package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// exporters are the pushes to larger systems the properties turn on; each
// reports what it delivered and dropped in /analyzer/json ("exports"),
// /metrics and the status page.
type exporters struct {
	influx     *export.Influx
	remote     *export.RemoteWrite // Prometheus remote_write
	clickhouse *export.ClickHouse
	kafka      *export.Kafka
	ipfix      *export.IPFIX          // flow definitions' ipfixCollectors
	netflow    *export.Samples        // ipfix.collectors, netflow.collectors: every sample as a record
	consumer   *collector.KafkaSource // sflow.source=kafka
	inlet      bool                   // kafka.inlet=yes: UDP to Kafka, nothing else
	inletBad   atomic.Uint64          // datagrams an inlet could not read an agent from
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
	if url := p.str("prometheus.remotewrite.url"); url != "" {
		interval, err := p.seconds("prometheus.remotewrite.interval")
		if err != nil {
			return nil, err
		}
		x.remote = &export.RemoteWrite{URL: url, Prefix: p.str("prometheus.metric.prefix"), Interval: interval, Log: log,
			Points: func(now time.Time) []metric.Point { return e.Dump(engine.AllAgents, nil, nil, now) }}
		if err := x.remote.Check(); err != nil {
			return nil, err
		}
		log.Info("pushing metrics with Prometheus remote_write", "url", x.remote.Redacted(), "interval", interval)
	}
	if url := p.str("clickhouse.url"); url != "" {
		flush, err1 := p.seconds("clickhouse.flush")
		every, err2 := p.seconds("clickhouse.counters")
		ttl, err3 := p.int("clickhouse.ttl")
		buf, err4 := p.int("clickhouse.buffer")
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		keys := export.DefaultSampleKeys
		if k := p.str("clickhouse.keys"); k != "" {
			keys = strings.Split(k, ",")
		}
		rows, err := export.NewSampleRows(e.Compiler(), keys)
		if err != nil {
			return nil, fmt.Errorf("clickhouse.keys: %w", err)
		}
		x.clickhouse = &export.ClickHouse{URL: url, Database: p.str("clickhouse.database"), User: p.str("clickhouse.user"),
			Password: p.str("clickhouse.password"), TTLDays: ttl, Interval: flush, CounterInterval: every, MaxBuffer: buf,
			Rows: rows, Log: log, Points: func(now time.Time) []metric.Point { return e.Dump(engine.AllAgents, nil, nil, now) }}
	}
	if err := x.kafkaConfig(p, e, log); err != nil {
		return nil, err
	}
	if err := x.ipfixConfig(p, e, log); err != nil {
		return nil, err
	}
	return x, nil
}

// samples is the engine's Samples hook: nil when no exporter takes flow
// samples, so the engine skips the call.
func (x *exporters) samples() func(*flow.Sample, int64) {
	var hooks []func(*flow.Sample, int64)
	if x.clickhouse != nil {
		hooks = append(hooks, x.clickhouse.Add)
	}
	if x.kafka != nil && x.kafka.Flows != "" {
		hooks = append(hooks, x.kafka.Sample)
	}
	if x.netflow != nil {
		hooks = append(hooks, x.netflow.Add)
	}
	switch len(hooks) {
	case 0:
		return nil
	case 1:
		return hooks[0]
	}
	return func(s *flow.Sample, ms int64) {
		for _, h := range hooks {
			h(s, ms)
		}
	}
}

// setup prepares the exporters that need their peer first (ClickHouse's
// tables): a peer that is not there at start is an error, said at once.
func (x *exporters) setup(ctx context.Context) error {
	if x.clickhouse != nil {
		return x.clickhouse.Setup(ctx)
	}
	return nil
}

// run starts the exporters; they end with ctx.
func (x *exporters) run(ctx context.Context) {
	if x.influx != nil {
		go x.influx.Run(ctx)
	}
	if x.remote != nil {
		go x.remote.Run(ctx)
	}
	if x.clickhouse != nil {
		go x.clickhouse.Run(ctx)
	}
	if x.kafka != nil {
		go func() { x.kafka.Run(ctx); x.kafka.Close() }()
	}
	go x.ipfix.Run(ctx)
	if x.netflow != nil {
		go x.netflow.Run(ctx)
	}
}

// stats is each exporter's counts, by name.
func (x *exporters) stats() map[string]export.Stats {
	out := map[string]export.Stats{}
	if x.influx != nil {
		out["influxdb"] = x.influx.Stats()
	}
	if x.remote != nil {
		out["remotewrite"] = x.remote.Stats()
	}
	if x.clickhouse != nil {
		out["clickhouse"] = x.clickhouse.Stats()
	}
	if x.kafka != nil {
		st := x.kafka.Stats()
		if n := x.inletBad.Load(); n > 0 {
			st.Dropped["not sFlow v5"] = n
		}
		out["kafka"] = st
	}
	// ipfixCollectors is listed once a definition has used it.
	if st := x.ipfix.Stats(); st.Sent > 0 || len(st.Dropped) > 0 {
		out["ipfix"] = st
	}
	if x.netflow != nil {
		out["netflow"] = x.netflow.Stats()
	}
	return out
}
