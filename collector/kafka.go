package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaSource consumes sFlow datagrams from a Kafka topic instead of a UDP
// socket, as a member of a consumer group: the engines of one group share
// the topic's partitions — and so the agents, whose datagrams an inlet
// keys by agent address — and when one engine goes, Kafka gives its
// partitions to the others. Distribution and failover are Kafka's.
type KafkaSource struct {
	Brokers []string
	Topic   string
	Group   string
	// Earliest starts a group that has no committed offset at the topic's
	// start (default: at its end, only what comes from now on).
	Earliest bool
	Opts     []kgo.Opt // TLS, SASL
	Logger   *slog.Logger

	client *kgo.Client
	// Records and Bad count datagrams consumed and records without one.
	Records, Bad atomic.Uint64
}

// Run consumes until ctx ends, giving each datagram to one Handler (the
// records of a partition keep their order).
func (k *KafkaSource) Run(ctx context.Context, newHandler func() Handler) error {
	if len(k.Brokers) == 0 || k.Topic == "" || k.Group == "" {
		return errors.New("consuming sFlow from Kafka needs kafka.brokers, kafka.topic.raw and kafka.group")
	}
	reset := kgo.NewOffset().AtEnd()
	if k.Earliest {
		reset = kgo.NewOffset().AtStart()
	}
	log := k.Logger
	opts := append([]kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.ConsumerGroup(k.Group), kgo.ConsumeTopics(k.Topic),
		kgo.ConsumeResetOffset(reset), kgo.ClientID("flowrt"),
		// An engine that dies without leaving the group loses its
		// partitions to the others after this long (franz-go's default is
		// 45 s; Kafka's lowest allowed is 6 s).
		kgo.SessionTimeout(10 * time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			log.Info("Kafka partitions assigned to this engine", "topic", k.Topic, "partitions", m[k.Topic])
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			log.Info("Kafka partitions moved away from this engine", "topic", k.Topic, "partitions", m[k.Topic])
		})}, k.Opts...)
	c, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	k.client = c
	// Leaving the group on the way out hands this engine's partitions to
	// the others at once, not after the session timeout.
	defer c.Close()
	h := newHandler()
	log.Info("consuming sFlow from Kafka", "brokers", k.Brokers, "topic", k.Topic, "group", k.Group)
	failing := false
	for {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errs := fs.Errors(); len(errs) > 0 {
			if !failing {
				log.Warn("Kafka fetch failing; consuming goes on when it is back", "err", errs[0].Err)
				failing = true
			}
			time.Sleep(100 * time.Millisecond)
		} else if failing {
			log.Info("Kafka fetches work again")
			failing = false
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			src := netip.AddrPort{}
			for _, hd := range r.Headers {
				if hd.Key == "src" {
					if ap, err := netip.ParseAddrPort(string(hd.Value)); err == nil {
						src = ap
					} else if a, err := netip.ParseAddr(string(hd.Value)); err == nil {
						src = netip.AddrPortFrom(a, 0)
					}
				}
			}
			if len(r.Value) == 0 {
				k.Bad.Add(1)
				return
			}
			k.Records.Add(1)
			h.Process(r.Value, src, now)
		})
	}
}
