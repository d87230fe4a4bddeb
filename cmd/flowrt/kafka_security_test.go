package main_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// TestKafkaTLSAndSASL: a kfake broker that takes only TLS and SASL. Engines
// that trust its CA and give a right password (SASL PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) publish every datagram; one with a wrong password
// delivers none, counts every record dropped and says in its log and in
// /analyzer/json that authentication failed; one that does not trust the
// broker's certificate says that.
func TestKafkaTLSAndSASL(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	dir := t.TempDir()
	ca := newCA(t, dir, "kafka-ca")
	ca.issue(t, 2, dir+"/broker.pem", dir+"/broker.key")
	cert, err := tls.LoadX509KeyPair(dir+"/broker.pem", dir+"/broker.key")
	if err != nil {
		t.Fatal(err)
	}
	pool, caFile := x509.NewCertPool(), ca.pem
	pool.AddCert(ca.cert)
	port := freePort(t, "tcp")
	k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(2, "plain", "scram256", "scram512", "wrong", "untrusted"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "pl", "plain-pass"), kfake.Superuser("SCRAM-SHA-256", "s256", "scram-256-pass"),
		kfake.Superuser("SCRAM-SHA-512", "s512", "scram-512-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	type run struct {
		topic, mechanism, user, pass, ca string
		e                                *engine
	}
	runs := []*run{{"plain", "plain", "pl", "plain-pass", caFile, nil}, {"scram256", "scram-sha-256", "s256", "scram-256-pass", caFile, nil},
		{"scram512", "scram-sha-512", "s512", "scram-512-pass", caFile, nil}, {"wrong", "scram-sha-256", "s256", "not-the-password", caFile, nil},
		{"untrusted", "plain", "pl", "plain-pass", "", nil}}
	for _, r := range runs {
		props := []string{"-Dkafka.brokers=" + brokers, "-Dkafka.topic.raw=" + r.topic, "-Dkafka.timeout=2", "-Dkafka.tls=yes",
			"-Dkafka.sasl.mechanism=" + r.mechanism, "-Dkafka.sasl.user=" + r.user, "-Dkafka.sasl.password=" + r.pass}
		if r.ca != "" {
			props = append(props, "-Dkafka.tls.ca="+r.ca)
		}
		r.e = startEngine(t, props...)
		send(t, r.e.sflow, "-agents", "2", "-count", "200", "-rate", "1000", "-counters", "0")
	}
	type export struct {
		Sent      uint64
		Dropped   map[string]uint64
		LastError string
	}
	for _, r := range runs {
		var x export
		waitFor(t, 20*time.Second, r.topic+": every datagram delivered or dropped", func() bool {
			var an struct{ Exports map[string]export }
			r.e.get(t, "/analyzer/json", &an)
			x = an.Exports["kafka"]
			return x.Sent+x.Dropped["delivery failed"]+x.Dropped["buffer full"] == 200
		})
		switch r.topic {
		case "wrong", "untrusted":
			want := map[string]string{"wrong": "SASL authentication with broker " + k.ListenAddrs()[0] + " failed (EOF): check kafka.sasl.mechanism, kafka.sasl.user and kafka.sasl.password", "untrusted": "x509: certificate signed by unknown authority"}[r.topic]
			if x.Sent != 0 || x.Dropped["delivery failed"] != 200 || !strings.Contains(x.LastError, want) {
				t.Errorf("%s: exports.kafka %+v; want 200 dropped, the last error saying %q", r.topic, x, want)
			}
			if log := r.e.logText(); !strings.Contains(log, "Kafka delivery failing") || !strings.Contains(log, want) {
				t.Errorf("%s: the log does not say %q:\n%s", r.topic, want, log)
			}
			t.Logf("%s: %s", r.topic, x.LastError)
		default:
			if x.Sent != 200 || len(x.Dropped) != 0 {
				t.Errorf("%s: exports.kafka %+v; want 200 sent, none dropped", r.topic, x)
			}
		}
	}
	// What the brokers hold, read with TLS and SASL too.
	c, err := kgo.NewClient(kgo.SeedBrokers(k.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(plain.Auth{User: "pl", Pass: "plain-pass"}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, r := range runs {
		want := map[string]int64{"wrong": 0, "untrusted": 0}[r.topic]
		if r.topic != "wrong" && r.topic != "untrusted" {
			want = 200
		}
		if n := topicRecords(t, c, r.topic, 2); n != want {
			t.Errorf("topic %s: %d records, want %d", r.topic, n, want)
		}
	}
}

// topicRecords is the records a topic holds: its partitions' end offsets.
func topicRecords(t *testing.T, c *kgo.Client, topic string, partitions int32) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1 // the end
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	var n int64
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				t.Fatalf("list offsets of %s: %v", topic, err)
			}
			n += p.Offset
		}
	}
	return n
}
