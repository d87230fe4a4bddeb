package main_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestExportsOnStatusPage: the status page lists each export with what it
// delivered and what it dropped, in all and per reason, the same numbers
// /analyzer/json has. Kafka is a port nothing listens on and the buffer
// holds 5 records, so records are dropped for two reasons: "buffer full"
// at once, "delivery failed" after kafka.timeout.
func TestExportsOnStatusPage(t *testing.T) {
	port := freePort(t, "tcp")
	e := startEngine(t, fmt.Sprintf("-Dkafka.brokers=127.0.0.1:%d", port), "-Dkafka.topic.raw=raw",
		"-Dkafka.buffer=5", "-Dkafka.timeout=1")
	b := startBrowser(t, e)
	b.run("open status", chromedp.Navigate(e.http+"/"))
	send(t, e.sflow, "-agents", "2", "-count", "200", "-rate", "1000", "-counters", "0")
	var an struct {
		SFlowDatagramsReceived uint64
		Exports                map[string]struct {
			Destination string
			Sent        uint64
			Batches     uint64
			Dropped     map[string]uint64
			LastError   string
		}
	}
	waitFor(t, 20*time.Second, "every datagram delivered or dropped", func() bool {
		e.get(t, "/analyzer/json", &an)
		k := an.Exports["kafka"]
		n := k.Sent
		for _, d := range k.Dropped {
			n += d
		}
		return an.SFlowDatagramsReceived == 200 && n == 200
	})
	k := an.Exports["kafka"]
	if k.Dropped["buffer full"] == 0 || k.Dropped["delivery failed"] == 0 {
		t.Fatalf("exports.kafka %+v: want drops for both reasons", k)
	}
	var want [][]string
	total := uint64(0)
	for _, d := range k.Dropped {
		total += d
	}
	want = append(want, []string{"kafka", k.Destination, strconv.FormatUint(k.Sent, 10), strconv.FormatUint(k.Batches, 10),
		"in all", strconv.FormatUint(total, 10), k.LastError})
	for _, r := range slices.Sorted(maps.Keys(k.Dropped)) {
		want = append(want, []string{"", "", "", "", r, strconv.FormatUint(k.Dropped[r], 10), ""})
	}
	var got [][]string
	waitFor(t, 10*time.Second, "the exports table as /analyzer/json has it", func() bool {
		got = b.rows("#exports")
		return fmt.Sprint(got) == fmt.Sprint(want)
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		b.shot("failed-exports-table")
		t.Fatalf("exports table:\n%q\n/analyzer/json:\n%q", got, want)
	}
	t.Logf("exports table: %q", got)
}
