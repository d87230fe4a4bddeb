package sflowtool_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflowtool"
)

// -t stamps each sampled header with the time sflowtool gives it: the
// capture record's seconds and microseconds when reading a capture, the
// receive time when live.
func TestPcapRecordTimes(t *testing.T) {
	records := 0
	for _, c := range testdata.Captures(t) {
		for i, d := range c.Datagrams {
			for _, live := range []bool{false, true} {
				received, captured := time.Time{}, d.Time
				want := d.Time.Truncate(time.Microsecond)
				if live {
					received = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
					captured, want = time.Time{}, received.Truncate(time.Microsecond)
				}
				var out bytes.Buffer
				w, err := sflowtool.NewWriter(&out, sflowtool.Pcap, sflowtool.Options{})
				if err != nil {
					t.Fatal(err)
				}
				_ = w.Datagram(d.Payload, netip.Addr{}, received, captured)
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				r, err := pcap.NewReader(&out)
				if err != nil {
					t.Fatal(err)
				}
				for {
					p, err := r.Next()
					if err != nil {
						break
					}
					records++
					if !p.Time.Equal(want) {
						t.Fatalf("%s datagram %d (live %v): record time %s, want %s", c.Name, i+1, live, p.Time, want)
					}
				}
			}
		}
	}
	if records == 0 {
		t.Fatal("no sampled header written")
	}
	t.Logf("%d records stamped with the capture's or the receive time", records)
}
