package export

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/flowrt/flowrt/flow"
)

// BenchmarkKafkaPublish is the collector-side cost of publishing one
// decoded flow sample (JSON, default keys) and one raw datagram to an
// in-process Kafka cluster (kfake, on 127.0.0.1): encoding, the hand-off to
// franz-go and franz-go's batching, compression and delivery, all on this
// process's CPU (the broker too: an upper bound). ns/op is per record.
func BenchmarkKafkaPublish(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "raw", "flows"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rows, err := NewSampleRows(flow.NewCompiler(), DefaultSampleKeys)
	if err != nil {
		b.Fatal(err)
	}
	k := &Kafka{Brokers: c.ListenAddrs(), Raw: "raw", Flows: "flows", Format: "json", Compression: "lz4",
		MaxBuffered: 1 << 20, DeliveryTimeout: 10 * time.Second, CounterInterval: time.Hour, Rows: rows,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := k.Start(); err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	s := testSample()
	datagram := make([]byte, 1200)
	src := netip.MustParseAddrPort("192.0.2.1:6343")
	for _, run := range []struct {
		name string
		f    func()
	}{{"flows", func() { k.Sample(s, 1_700_000_000_000) }}, {"raw", func() { k.Datagram(datagram, s.Agent, src) }}} {
		b.Run(run.name, func(b *testing.B) {
			b.ReportAllocs()
			before := k.sent.Load() + k.full.Load() + k.failed.Load()
			for b.Loop() {
				run.f()
			}
			for k.sent.Load()+k.full.Load()+k.failed.Load()-before < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			if n := k.full.Load() + k.failed.Load(); n > 0 {
				b.Logf("%d records not delivered", n)
			}
		})
	}
}
