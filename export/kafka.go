package export

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// Kafka publishes to Kafka topics, each optional: Raw, the sFlow datagrams
// as received (so other engines consume the exact sFlow); Flows, each
// decoded flow sample (SampleRows' keys, bytes and frames scaled by the
// sampling rate); Counters, every numeric metric of each data source every
// CounterInterval; Records, the records of log:true flow definitions.
// Messages are keyed by agent address, so one agent's messages stay in one
// partition, in order. Publishing never blocks the collector: franz-go
// buffers at most MaxBuffered records; a record that finds the buffer full
// is dropped at once ("buffer full"), one Kafka does not take within its
// delivery timeout is dropped ("delivery failed"); both are counted, and
// delivery resumes by itself when Kafka is back.
type Kafka struct {
	Brokers         []string
	Raw, Flows      string // topics ("": not published)
	Counters        string
	Records         string
	Format          string // "json" or "protobuf" (flows, counters, records)
	Compression     string // none, gzip, snappy, lz4, zstd
	MaxBuffered     int
	DeliveryTimeout time.Duration
	CounterInterval time.Duration
	TLS             *tls.Config
	SASL            []kgo.Opt // SASL mechanism options, made by the caller from the properties
	Rows            *SampleRows
	Points          func(now time.Time) []metric.Point
	Log             *slog.Logger

	client *kgo.Client
	stats  counts
	// Delivery outcomes, counted in the promises (franz-go's goroutines).
	sent, full, failed atomic.Uint64
	batches            atomic.Uint64
	failing            atomic.Bool
	lastErr            atomic.Pointer[string]
	authErr            atomic.Pointer[string] // the last SASL authentication's failure, nil once one succeeds
	pool               sync.Pool              // *kgo.Record with a value buffer, reused after delivery
}

// Start connects (lazily: franz-go retries brokers in the background, so a
// Kafka that is down at start costs nothing but counted drops).
func (k *Kafka) Start() error {
	if len(k.Brokers) == 0 {
		return errors.New("kafka.brokers is empty")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.MaxBufferedRecords(k.MaxBuffered),
		kgo.RecordDeliveryTimeout(k.DeliveryTimeout), kgo.ProducerLinger(5 * time.Millisecond),
		// A request to a broker that went away must not hold its records
		// past the delivery timeout either (franz-go's defaults: 10 s + 10 s).
		kgo.ProduceRequestTimeout(k.DeliveryTimeout), kgo.RequestTimeoutOverhead(time.Second),
		// Telemetry would rather lose a record, counted, than wait: an
		// idempotent producer never fails a record whose request may have
		// been written to a broker that went away (its sequence numbers must
		// stay whole), so it would hold it — and the buffer — until the
		// broker comes back. Without idempotence a retried record can be
		// duplicated; leader acks are enough for it.
		kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.AllowAutoTopicCreation(), kgo.ClientID("flowrt")}
	switch k.Compression {
	case "", "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return fmt.Errorf("kafka.compression %q: want none, gzip, snappy, lz4 or zstd", k.Compression)
	}
	if k.Format != "json" && k.Format != "protobuf" {
		return fmt.Errorf("kafka.format %q: want json or protobuf", k.Format)
	}
	if k.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(k.TLS))
	}
	opts = append(opts, k.SASL...)
	if len(k.SASL) > 0 {
		opts = append(opts, kgo.WithHooks(saslHook{k}))
	}
	c, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	k.client = c
	k.pool.New = func() any { return &kgo.Record{} }
	return nil
}

// Close flushes what is buffered (for at most a second) and disconnects.
func (k *Kafka) Close() {
	if k.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	k.client.Flush(ctx)
	k.client.Close()
}

// Stats returns the publisher's counts.
func (k *Kafka) Stats() Stats {
	s := k.stats.snapshot()
	s.Destination = fmt.Sprint(k.Brokers)
	s.Sent, s.Batches = k.sent.Load(), k.batches.Load()
	if n := k.full.Load(); n > 0 {
		s.Dropped["buffer full"] = n
	}
	if n := k.failed.Load(); n > 0 {
		s.Dropped["delivery failed"] = n
	}
	if e := k.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// produce hands one record to franz-go without waiting; value is copied.
func (k *Kafka) produce(topic string, agent netip.Addr, fill func(dst []byte) []byte) {
	r := k.record(topic)
	r.Key = agent.AppendTo(r.Key)
	r.Value = fill(r.Value)
	k.client.TryProduce(context.Background(), r, k.delivered)
}

// record is a pooled record made as new (franz-go stamps a record's time
// and producer fields; a reused one must not carry the last ones, or it
// times out at once), keeping its buffers.
func (k *Kafka) record(topic string) *kgo.Record {
	r := k.pool.Get().(*kgo.Record)
	*r = kgo.Record{Topic: topic, Key: r.Key[:0], Value: r.Value[:0], Headers: r.Headers[:0]}
	return r
}

// delivered is franz-go's promise: counts the outcome, recycles the record.
func (k *Kafka) delivered(r *kgo.Record, err error) {
	switch {
	case err == nil:
		k.sent.Add(1)
		if k.failing.Swap(false) {
			k.Log.Info("Kafka delivery works again", "brokers", k.Brokers)
		}
	case errors.Is(err, kgo.ErrMaxBuffered):
		k.full.Add(1)
	default:
		k.failed.Add(1)
		msg := err.Error()
		if a := k.authErr.Load(); a != nil {
			msg = *a + " (" + msg + ")"
		}
		k.lastErr.Store(&msg)
		if !k.failing.Swap(true) {
			k.Log.Warn("Kafka delivery failing; records are dropped and counted, publishing goes on", "brokers", k.Brokers, "err", msg)
		}
	}
	k.pool.Put(r) // franz-go is done with the record: it can carry the next one
}

// Datagram publishes one raw datagram (the engine's Tap: b is copied).
func (k *Kafka) Datagram(b []byte, agent netip.Addr, src netip.AddrPort) {
	if k.Raw == "" {
		return
	}
	r := k.record(k.Raw)
	r.Key = agent.AppendTo(r.Key)
	r.Value = append(r.Value, b...)
	// The sender's address goes along ("addr:port"): the consuming engine
	// accounts the datagram to it as if it had come over UDP.
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: "src"})
	r.Headers[0].Value = src.AppendTo(r.Headers[0].Value[:0])
	k.client.TryProduce(context.Background(), r, k.delivered)
}

// Sample publishes one decoded flow sample (the engine's sample hook).
func (k *Kafka) Sample(s *flow.Sample, ms int64) {
	if k.Flows == "" {
		return
	}
	k.produce(k.Flows, s.Agent, func(dst []byte) []byte {
		if k.Format == "protobuf" {
			return k.Rows.AppendProto(dst, s, ms)
		}
		return k.Rows.AppendJSON(dst, s, ms)
	})
}

// Run publishes the counters every CounterInterval until ctx ends.
func (k *Kafka) Run(ctx context.Context) {
	if k.Counters == "" || k.Points == nil {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(k.CounterInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			k.publishCounters(now)
		}
	}
}

func (k *Kafka) publishCounters(now time.Time) {
	pts := k.Points(now)
	for i := 0; i < len(pts); {
		j := i
		for j < len(pts) && pts[j].Agent == pts[i].Agent && pts[j].DataSource == pts[i].DataSource {
			j++
		}
		group := pts[i:j]
		agent, _ := netip.ParseAddr(group[0].Agent)
		k.produce(k.Counters, agent, func(dst []byte) []byte {
			if k.Format == "protobuf" {
				return appendCountersProto(dst, group, now.UnixMilli())
			}
			return appendCountersJSON(dst, group, now.UnixMilli())
		})
		i = j
	}
}

// Record publishes one log:true flow record, already encoded.
func (k *Kafka) Record(agent netip.Addr, encode func(dst []byte) []byte) {
	if k.Records == "" {
		return
	}
	k.produce(k.Records, agent, encode)
}

// saslHook watches the SASL authentications: a broker that refuses the
// credentials may answer with an error code or just close the connection
// (the client then sees only EOF), so a failed SASLAuthenticate is said
// for what it is in the records' errors.
type saslHook struct{ k *Kafka }

func (h saslHook) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != int16(kmsg.SASLAuthenticate) {
		return
	}
	if err := e2e.Err(); err != nil {
		msg := fmt.Sprintf("SASL authentication with broker %s:%d failed (%v): check kafka.sasl.mechanism, kafka.sasl.user and kafka.sasl.password",
			meta.Host, meta.Port, err)
		h.k.authErr.Store(&msg)
		return
	}
	h.k.authErr.Store(nil)
}
