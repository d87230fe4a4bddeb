package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/metric"
)

// kafkaConfig reads the kafka.* properties: the topics to publish, the
// consumer (sflow.source=kafka) and the inlet mode.
func (x *exporters) kafkaConfig(p properties, e *engine.Engine, log *slog.Logger) error {
	brokers := splitList(p.str("kafka.brokers"))
	source := p.str("sflow.source")
	inlet, err := p.bool("kafka.inlet")
	if err != nil {
		return err
	}
	topics := map[string]string{}
	for _, t := range []string{"raw", "flows", "counters", "records"} {
		topics[t] = p.str("kafka.topic." + t)
	}
	publishing := topics["raw"] != "" && source != "kafka" || topics["flows"] != "" || topics["counters"] != "" || topics["records"] != ""
	if len(brokers) == 0 {
		if publishing || inlet || source == "kafka" {
			return errors.New("kafka.brokers is needed for the kafka.topic.*, kafka.inlet and sflow.source=kafka settings")
		}
		return nil
	}
	opts, err := kafkaSecurity(p)
	if err != nil {
		return err
	}
	if source == "kafka" {
		if inlet {
			return errors.New("sflow.source=kafka and kafka.inlet=yes: an inlet reads UDP and writes Kafka; a consumer reads Kafka")
		}
		earliest := p.str("kafka.offset") == "earliest"
		x.consumer = &collector.KafkaSource{Brokers: brokers, Topic: topics["raw"], Group: p.str("kafka.group"), Earliest: earliest,
			Opts: opts, Logger: log}
		topics["raw"] = "" // what it consumes is not published again
	}
	if inlet && topics["raw"] == "" {
		return errors.New("kafka.inlet=yes needs kafka.topic.raw, the topic the datagrams go to")
	}
	x.inlet = inlet
	if topics["raw"] == "" && topics["flows"] == "" && topics["counters"] == "" && topics["records"] == "" {
		return nil
	}
	var nums []int
	for _, name := range []string{"kafka.buffer"} {
		n, err := p.int(name)
		if err != nil {
			return err
		}
		nums = append(nums, n)
	}
	timeout, err1 := p.seconds("kafka.timeout")
	every, err2 := p.seconds("kafka.counters")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	keys := export.DefaultSampleKeys
	if k := p.str("kafka.keys"); k != "" {
		keys = splitList(k)
	}
	rows, err := export.NewSampleRows(e.Compiler(), keys)
	if err != nil {
		return fmt.Errorf("kafka.keys: %w", err)
	}
	x.kafka = &export.Kafka{Brokers: brokers, Raw: topics["raw"], Flows: topics["flows"], Counters: topics["counters"],
		Records: topics["records"], Format: p.str("kafka.format"), Compression: p.str("kafka.compression"),
		MaxBuffered: nums[0], DeliveryTimeout: timeout, CounterInterval: every, SASL: opts, Rows: rows, Log: log,
		Points: func(now time.Time) []metric.Point { return e.Dump(engine.AllAgents, nil, nil, now) }}
	if err := x.kafka.Start(); err != nil {
		return err
	}
	if x.kafka.Records != "" {
		e.SubscribeFlows(func(r engine.FlowRecord) {
			agent, _ := netip.ParseAddr(r.Agent)
			x.kafka.Record(agent, func(dst []byte) []byte {
				b, _ := json.Marshal(r)
				return append(dst, b...)
			})
		})
	}
	log.Info("publishing to Kafka", "brokers", brokers, "raw", topics["raw"], "flows", topics["flows"], "counters", topics["counters"],
		"records", topics["records"], "format", x.kafka.Format, "inlet", inlet)
	return nil
}

// kafkaSecurity is TLS (kafka.tls, kafka.tls.ca) and SASL
// (kafka.sasl.mechanism plain, scram-sha-256 or scram-sha-512).
func kafkaSecurity(p properties) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	on, err := p.bool("kafka.tls")
	if err != nil {
		return nil, err
	}
	if on {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := p.str("kafka.tls.ca"); ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka.tls.ca %s: no PEM certificate in it", ca)
			}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	user, pass := p.str("kafka.sasl.user"), p.str("kafka.sasl.password")
	switch m := strings.ToLower(p.str("kafka.sasl.mechanism")); m {
	case "", "none":
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism %q: want plain, scram-sha-256 or scram-sha-512", m)
	}
	return opts, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// inletHandler is kafka.inlet=yes: each datagram goes to Kafka as it came,
// keyed by the agent address its header gives, and nothing else happens.
type inletHandler struct {
	k   *export.Kafka
	bad *atomic.Uint64 // datagrams that are not sFlow v5: counted, not published
}

func (h inletHandler) Process(b []byte, src netip.AddrPort, _ time.Time) {
	agent, ok := datagramAgent(b)
	if !ok {
		h.bad.Add(1)
		return
	}
	h.k.Datagram(b, agent, src)
}

// datagramAgent reads an sFlow v5 header's agent address.
func datagramAgent(b []byte) (netip.Addr, bool) {
	if len(b) < 12 || b[0]|b[1]|b[2] != 0 || b[3] != 5 {
		return netip.Addr{}, false
	}
	switch b[7] {
	case 1:
		return netip.AddrFrom4([4]byte(b[8:12])), true
	case 2:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24])), true
		}
	}
	return netip.Addr{}, false
}
