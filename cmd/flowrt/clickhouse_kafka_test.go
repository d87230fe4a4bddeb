package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// docsClickHouseDDL is every statement of the SQL blocks of
// docs/exports.md's ClickHouse section that make something (the tables,
// the Kafka-engine tables, the views), exactly as written there.
func docsClickHouseDDL(t *testing.T) []string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "docs", "exports.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "\n## ClickHouse\n"), strings.Index(doc, "\n## Kafka\n")
	if start < 0 || end < start {
		t.Fatal("docs/exports.md: no ClickHouse section before the Kafka one")
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(doc[start:end], -1) {
		if !strings.Contains(m[1], "CREATE ") {
			continue // the example queries
		}
		for _, q := range strings.Split(m[1], ";\n") {
			if q = strings.TrimSpace(q); q != "" {
				out = append(out, q)
			}
		}
	}
	return out
}

// exec runs a statement that changes something (POST: a GET is read-only).
func (c *clickhouse) exec(q string) error {
	resp, err := http.Post(c.url+"/", "text/plain", strings.NewReader(q))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}

// TestClickHouseFromKafka: docs/exports.md's DDL — the tables, the
// Kafka-engine tables and the materialized views — in Debian's
// clickhouse-server, reading the topics an engine publishes to a kfake
// broker. Summed in SQL, what lands in ClickHouse is what was sent: one row
// per flow sample, each of the sender's top flows with its samples, frames
// and bytes, and each host's load_one as the engine has it.
func TestClickHouseFromKafka(t *testing.T) {
	t.Parallel() // waits on its peers and timers more than it computes ("Parallel tests", main_test.go)
	ch := startClickHouse(t)
	start := time.Now()
	k := startKafka(t, freePort(t, "tcp"), "flows", "counters")
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	version, _ := ch.query("SELECT version()")
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	ttl := major > 19 || major == 19 && minor >= 6
	ran := 0
	for _, q := range docsClickHouseDDL(t) {
		if strings.Contains(q, "MODIFY TTL") && !ttl {
			continue // as the docs say: 19.6 and later
		}
		q = strings.ReplaceAll(q, "'kafka1:9092'", "'"+brokers+"'")
		if err := ch.exec(q); err != nil {
			t.Fatalf("docs/exports.md's DDL in ClickHouse %s:\n%s\n%v", version, q, err)
		}
		ran++
	}
	for _, table := range []string{"flows_queue", "flows_from_kafka", "counters_queue", "counters_from_kafka"} {
		if got := ch.numbers(t, "SELECT count() FROM system.tables WHERE database = 'flowrt' AND name = '"+table+"'"); got[0] != 1 {
			t.Fatalf("the DDL made no flowrt.%s", table)
		}
	}
	// A new group starts at the end of its topic, and ClickHouse reads
	// only what comes after it subscribed (measured: nothing published
	// before is loaded), so the engine publishes once ClickHouse's two
	// consumers have joined.
	waitFor(t, 60*time.Second, "ClickHouse's consumers in their groups", func() bool {
		return groupStable(t, k.ListenAddrs(), "clickhouse-flows") && groupStable(t, k.ListenAddrs(), "clickhouse-counters")
	})
	joined := time.Since(start)
	e := startEngine(t, "-Dkafka.brokers="+brokers, "-Dkafka.topic.flows=flows", "-Dkafka.topic.counters=counters", "-Dkafka.counters=1")
	rep := send(t, e.sflow, "-agents", "3", "-hosts", "-counters", "1s", "-count", "1500", "-rate", "500")
	if len(rep.TopFlows) == 0 {
		t.Fatal("the sender reported no flows")
	}
	// ClickHouse's Kafka engine flushes a block to the views when it fills
	// or every stream_flush_interval_ms (7.5 s).
	var rows float64
	sent := time.Now()
	// Until every row is there, or none has come for 10 s (a block is
	// flushed within 7.5 s).
	for last, changed := 0.0, time.Now(); time.Since(changed) < 10*time.Second && time.Since(sent) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
		if rows = ch.numbers(t, "SELECT count() FROM flowrt.flows")[0]; rows >= float64(rep.FlowSamples) {
			break
		}
		if rows != last {
			last, changed = rows, time.Now()
		}
	}
	flowsIn := time.Since(sent)
	if rows != float64(rep.FlowSamples) || testing.Verbose() {
		t.Logf("flows table: %v rows, %d flow samples sent", rows, rep.FlowSamples)
	}
	if rows != float64(rep.FlowSamples) {
		c, err := kgo.NewClient(kgo.SeedBrokers(k.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		held, acked := topicRecords(t, c, "flows", 4), committed(t, c, "clickhouse-flows", "flows", 4)
		c.Close()
		// ClickHouse 18.16's Kafka engine, about one run in three, commits
		// the offsets of records it never inserted (measured: the topic
		// held 12,000, the group committed 11,997, the table had 10,016 to
		// 10,744). flowrt's part is exact; that loss is ClickHouse's.
		if held == int64(rep.FlowSamples) && acked >= held-4 && rows < float64(rep.FlowSamples) {
			t.Skipf("ClickHouse %s committed %d of the topic's %d records but inserted %v rows: its Kafka engine lost %v (a defect of this ClickHouse, not flowrt's: the topic holds every sample)",
				version, acked, held, rows, float64(held)-rows)
		}
		t.Fatalf("flows table: %v rows, %d flow samples sent", rows, rep.FlowSamples)
	}
	for _, f := range rep.TopFlows {
		src, dst, _ := strings.Cut(f.Key, ",")
		got := ch.numbers(t, fmt.Sprintf("SELECT count(), sum(packets), sum(bytes) FROM flowrt.flows WHERE ipsource = '%s' AND ipdestination = '%s'", src, dst))
		if got[0] != f.Samples || got[1] != f.Frames || got[2] != f.Bytes {
			t.Errorf("%s: ClickHouse has %v samples, %v packets, %v bytes; sent %v samples, %v frames, %v bytes",
				f.Key, got[0], got[1], got[2], f.Samples, f.Frames, f.Bytes)
		}
	}
	var loads []struct {
		Agent, DataSource string
		MetricValue       float64
	}
	e.get(t, "/dump/ALL/load_one/json", &loads)
	if len(loads) != 3 {
		t.Fatalf("engine: %d hosts' load_one, want 3", len(loads))
	}
	// A topic that never pauses has ClickHouse 18.16 flush its block to the
	// views only about once a minute (measured: the counters, published
	// every second, arrived 61 s after the first, all at once); with the
	// engine stopped, the counters end and the block is flushed within
	// seconds, as the flows' was. The engine's values are read first.
	e.stop()
	for _, l := range loads {
		q := fmt.Sprintf("SELECT argMax(value, time) FROM flowrt.counters WHERE agent = '%s' AND datasource = '%s' AND metric = 'load_one'", l.Agent, l.DataSource)
		var got float64
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got = ch.numbers(t, q)[0]; got == l.MetricValue {
				break
			}
		}
		if got != l.MetricValue {
			sample, _ := ch.query("SELECT count(), uniqExact(metric), groupUniqArray(metric) FROM flowrt.counters")
			t.Logf("flowrt.counters: %.2000s", sample)
			t.Errorf("%s: load_one %v in ClickHouse, %v in the engine", l.Agent, got, l.MetricValue)
		}
	}
	metrics := ch.numbers(t, "SELECT uniqExact(metric) FROM flowrt.counters")[0]
	t.Logf("ClickHouse %s: consumers joined in %v; %d statements of docs/exports.md; %v flow rows (all in %v); %v distinct counter metrics (the last load_one in %v)",
		version, joined.Round(time.Second), ran, rows, flowsIn.Round(time.Second), metrics, time.Since(sent).Round(time.Second))
}

// groupStable says whether a consumer group has members with partitions.
func groupStable(t *testing.T, brokers []string, group string) bool {
	c, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, c)
	if err != nil || len(resp.Groups) != 1 {
		return false
	}
	return resp.Groups[0].State == "Stable" && len(resp.Groups[0].Members) > 0
}

// committed is the sum of a group's committed offsets in a topic.
func committed(t *testing.T, c *kgo.Client, group, topic string, partitions int32) int64 {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatalf("offset fetch of %s: %v", group, err)
	}
	var n int64
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			n += p.Offset
		}
	}
	return n
}
