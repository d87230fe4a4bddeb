package main_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// No Kafka broker is packaged in Debian: these tests run franz-go's own
// in-process cluster (kfake), which speaks the Kafka protocol on a real
// TCP port of 127.0.0.1, to the engines running as separate processes.

func startKafka(t *testing.T, port int, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(4, topics...), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	return c
}

// consumeAll reads a topic from its start until it has been quiet for a
// second.
func consumeAll(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	c, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*kgo.Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := c.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n == 0 {
			return out
		}
	}
}

type kafkaStats struct {
	Exports map[string]struct {
		Sent    uint64
		Dropped map[string]uint64
	}
	SFlowDatagramsReceived uint64
}

// TestKafkaPublish: an engine publishes the raw datagrams, the decoded flow
// samples and the counters. Every datagram sent is one raw record, keyed by
// its agent, and one agent's datagrams are in one partition in sequence
// order; the flow messages are as many as the flow samples, and for each of
// the sender's top flows their frames and bytes sum to what it sent; the
// counters carry each host's load_one as the engine has it.
func TestKafkaPublish(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	k := startKafka(t, freePort(t, "tcp"), "raw", "flows", "counters")
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	e := startEngine(t, "-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dkafka.topic.flows=flows",
		"-Dkafka.topic.counters=counters", "-Dkafka.counters=1", "-Dkafka.keys=ipsource,ipdestination,udpdestinationport")
	rep := send(t, e.sflow, "-agents", "4", "-hosts", "-counters", "1s", "-count", "2000", "-rate", "1000")
	time.Sleep(2 * time.Second)

	raw := consumeAll(t, k.ListenAddrs(), "raw")
	if len(raw) != rep.Datagrams {
		t.Errorf("raw topic: %d records, %d datagrams sent", len(raw), rep.Datagrams)
	}
	partOf := map[string]int32{}
	lastSeq := map[string]uint32{}
	for _, r := range raw {
		agent := string(r.Key)
		if p, ok := partOf[agent]; ok && p != r.Partition {
			t.Fatalf("agent %s in partitions %d and %d", agent, p, r.Partition)
		}
		partOf[agent] = r.Partition
		seq := binary.BigEndian.Uint32(r.Value[16:20]) // v5, IPv4 agent: the datagram sequence number
		if seq <= lastSeq[agent] {
			t.Fatalf("agent %s: datagram %d after %d: out of order", agent, seq, lastSeq[agent])
		}
		lastSeq[agent] = seq
	}
	if len(partOf) != 4 {
		t.Errorf("raw topic: %d agents, want 4", len(partOf))
	}

	flows := consumeAll(t, k.ListenAddrs(), "flows")
	if len(flows) != rep.FlowSamples {
		t.Errorf("flows topic: %d messages, %d flow samples sent", len(flows), rep.FlowSamples)
	}
	type sum struct{ samples, frames, bytes float64 }
	sums := map[string]sum{}
	for _, r := range flows {
		var m struct {
			Agent         string
			Frames, Bytes float64
			Keys          map[string]string
		}
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("flow message %s: %v", r.Value, err)
		}
		if m.Agent != string(r.Key) {
			t.Fatalf("flow message of agent %s keyed %s", m.Agent, r.Key)
		}
		k := m.Keys["ipsource"] + "," + m.Keys["ipdestination"]
		s := sums[k]
		sums[k] = sum{s.samples + 1, s.frames + m.Frames, s.bytes + m.Bytes}
	}
	for _, f := range rep.TopFlows {
		if got := sums[f.Key]; got != (sum{f.Samples, f.Frames, f.Bytes}) {
			t.Errorf("%s: %+v in Kafka, sent %v samples %v frames %v bytes", f.Key, got, f.Samples, f.Frames, f.Bytes)
		}
	}

	var loads []struct {
		Agent, DataSource string
		MetricValue       float64
	}
	e.get(t, "/dump/ALL/load_one/json", &loads)
	last := map[string]float64{}
	for _, r := range consumeAll(t, k.ListenAddrs(), "counters") {
		var m struct {
			Agent, Datasource string
			Metrics           map[string]float64
		}
		json.Unmarshal(r.Value, &m)
		if v, ok := m.Metrics["load_one"]; ok {
			last[m.Agent+"|"+m.Datasource] = v
		}
	}
	for _, l := range loads {
		if v, ok := last[l.Agent+"|"+l.DataSource]; !ok || v != l.MetricValue {
			t.Errorf("%s: load_one %v in Kafka (present %v), %v in the engine", l.Agent, v, ok, l.MetricValue)
		}
	}
	var st kafkaStats
	e.get(t, "/analyzer/json", &st)
	if s := st.Exports["kafka"]; s.Sent == 0 || len(s.Dropped) != 0 {
		t.Errorf("/analyzer/json exports.kafka: %+v", s)
	}
}

// TestKafkaDownAndBack: Kafka is down when the engine starts, comes up,
// goes down mid-run and comes back. Nothing blocks (the engine keeps
// counting datagrams), every record is either delivered or dropped and
// counted — delivered + dropped = datagrams received, exactly — and
// delivery resumes when Kafka is back.
func TestKafkaDownAndBack(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	port := freePort(t, "tcp")
	brokers := fmt.Sprintf("127.0.0.1:%d", port)
	e := startEngine(t, "-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dkafka.timeout=2")
	stats := func() (received, sent, dropped uint64) {
		var st kafkaStats
		e.get(t, "/analyzer/json", &st)
		s := st.Exports["kafka"]
		for _, n := range s.Dropped {
			dropped += n
		}
		return st.SFlowDatagramsReceived, s.Sent, dropped
	}
	settled := func(what string) (uint64, uint64, uint64) {
		var r, s, d uint64
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if r, s, d = stats(); r > 0 && s+d == r {
				return r, s, d
			}
		}
		t.Fatalf("%s: received %d, delivered %d, dropped %d after 30 s: %d records unaccounted", what, r, s, d, r-s-d)
		return r, s, d
	}
	send(t, e.sflow, "-agents", "2", "-count", "300", "-rate", "1000", "-counters", "0")
	r1, s1, d1 := settled("the records sent while Kafka was down to be dropped")
	if r1 != 300 || s1 != 0 || d1 != 300 {
		t.Errorf("Kafka down at start: received %d, delivered %d, dropped %d; want 300, 0, 300", r1, s1, d1)
	}
	// Kafka comes up: the client finds it within a few seconds (records
	// that wait longer than kafka.timeout meanwhile are dropped, counted);
	// then every record is delivered.
	resumed := func(what string) (uint64, uint64, uint64) {
		var r, s, d uint64
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			_, s0, _ := stats()
			send(t, e.sflow, "-agents", "2", "-count", "50", "-rate", "1000", "-counters", "0")
			r, s, d = settled(what)
			if s-s0 == 50 {
				return r, s, d
			}
		}
		t.Fatalf("%s: delivery did not resume (received %d, delivered %d, dropped %d)", what, r, s, d)
		return r, s, d
	}
	k := startKafka(t, port, "raw")
	defer k.Close()
	// Mid-run, the broker stops answering: every request it gets closes the
	// connection, until it is back.
	var down atomic.Bool
	k.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		k.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down (test)"), true
		}
		return nil, nil, false
	})
	r2, s2, d2 := resumed("Kafka up")
	if s2 == 0 || s2+d2 != r2 || d2 < 300 {
		t.Errorf("Kafka up: received %d, delivered %d, dropped %d", r2, s2, d2)
	}
	down.Store(true)
	send(t, e.sflow, "-agents", "2", "-count", "300", "-rate", "1000", "-counters", "0")
	r3, s3, d3 := settled("the records sent after Kafka went down to be accounted")
	if r3 != r2+300 || s3+d3 != r3 || d3 != d2+300 {
		t.Errorf("Kafka down mid-run: received %d, delivered %d, dropped %d", r3, s3, d3)
	}
	down.Store(false)
	r4, s4, d4 := resumed("Kafka back")
	if s4 <= s3 || s4+d4 != r4 {
		t.Errorf("Kafka back: received %d, delivered %d (was %d), dropped %d", r4, s4, s3, d4)
	}
	t.Logf("down at start %d/%d/%d, up %d/%d/%d, down mid-run %d/%d/%d, back %d/%d/%d (received/delivered/dropped)",
		r1, s1, d1, r2, s2, d2, r3, s3, d3, r4, s4, d4)
	if n := strings.Count(e.logText(), "Kafka delivery failing"); n < 1 || n > 2 {
		t.Errorf("delivery failures said %d times, want once per outage", n)
	}
}

// TestKafkaConsumerGroup: an inlet publishes the datagrams of eight agents;
// two engines consume them as one group and share the agents, each agent
// at one engine only, together all of them; when one engine stops, the
// other takes its agents (Kafka's rebalance) and sees their new datagrams.
func TestKafkaConsumerGroup(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	k := startKafka(t, freePort(t, "tcp"), "raw")
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	inlet := startEngine(t, "-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dkafka.inlet=yes")
	consumer := func() *engine {
		return startEngine(t, "-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dsflow.source=kafka",
			"-Dkafka.group=engines", "-Dkafka.offset=earliest")
	}
	a, b := consumer(), consumer()
	agentsOf := func(e *engine) map[string]uint64 {
		var as map[string]struct{ SFlowDatagramsReceived uint64 }
		e.get(t, "/agents/json", &as)
		out := map[string]uint64{}
		for k, v := range as {
			out[k] = v.SFlowDatagramsReceived
		}
		return out
	}
	time.Sleep(3 * time.Second) // both have joined the group
	send(t, inlet.sflow, "-agents", "8", "-count", "1600", "-rate", "1000", "-counters", "0")
	var inA, inB map[string]uint64
	waitFor(t, 15*time.Second, "the two engines to hold the eight agents between them", func() bool {
		inA, inB = agentsOf(a), agentsOf(b)
		total := uint64(0)
		for _, n := range inA {
			total += n
		}
		for _, n := range inB {
			total += n
		}
		return len(inA)+len(inB) == 8 && total == 1600
	})
	for ag := range inA {
		if _, ok := inB[ag]; ok {
			t.Errorf("agent %s at both engines", ag)
		}
	}
	if len(inA) == 0 || len(inB) == 0 {
		t.Errorf("one engine has every agent: %v / %v (the group did not share the partitions)", slices.Sorted(maps.Keys(inA)), slices.Sorted(maps.Keys(inB)))
	}
	t.Logf("engine A: %v, engine B: %v", slices.Sorted(maps.Keys(inA)), slices.Sorted(maps.Keys(inB)))
	var st kafkaStats
	inlet.get(t, "/analyzer/json", &st)
	if st.Exports["kafka"].Sent != 1600 || st.SFlowDatagramsReceived != 0 {
		t.Errorf("inlet: delivered %d of 1600, applied %d itself (want none)", st.Exports["kafka"].Sent, st.SFlowDatagramsReceived)
	}

	b.stop()
	send(t, inlet.sflow, "-agents", "8", "-count", "1600", "-rate", "1000", "-seed", "2", "-counters", "0")
	waitFor(t, 30*time.Second, "engine A to take over engine B's agents", func() bool {
		now := agentsOf(a)
		for ag := range inB {
			if now[ag] == 0 {
				return false
			}
		}
		return len(now) == 8
	})
}
