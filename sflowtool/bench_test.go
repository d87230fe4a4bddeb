package sflowtool_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
	"github.com/flowrt/flowrt/sflowtool"
)

// writerModes are the formats the benchmarks and the allocation test
// cover. customFields mixes datagram, sample and record fields.
var writerModes = []struct {
	name string
	mode sflowtool.Mode
}{
	{"text", sflowtool.Text}, {"grep", sflowtool.Grep}, {"jsonl", sflowtool.JSONLines},
	{"json", sflowtool.JSON}, {"line", sflowtool.Line}, {"custom", sflowtool.CustomLine}, {"pcap", sflowtool.Pcap},
}

var customFields = []string{"agent", "sampleSequenceNo", "srcIP", "dstIP", "IPProtocol", "TCPSrcPort",
	"TCPDstPort", "ifIndex", "ifInOctets", "tunnel_ipv4_in_srcIP", "sfp_lane_rx_power_uW.0"}

// corpus is every datagram of the shared captures and the number of
// records (flow and counter) in those that decode.
func corpus(tb testing.TB) ([]testdata.Datagram, int) {
	var out []testdata.Datagram
	records := 0
	var d sflow.Datagram
	for _, c := range testdata.Captures(tb) {
		for _, dg := range c.Datagrams {
			out = append(out, dg)
			if sflow.Decode(dg.Payload, &d) == nil {
				for i := range d.Samples {
					records += len(d.Samples[i].Records)
				}
			}
		}
	}
	return out, records
}

func newWriter(tb testing.TB, mode sflowtool.Mode) *sflowtool.Writer {
	w, err := sflowtool.NewWriter(io.Discard, mode, sflowtool.Options{Location: time.UTC, Fields: customFields})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// BenchmarkWriter writes every well-formed datagram of the shared captures
// in each format (to io.Discard: the cost measured is formatting, not the
// pipe).
func BenchmarkWriter(b *testing.B) {
	dgs := wellFormed(b)
	records := 0
	var d sflow.Datagram
	for _, dg := range dgs {
		_ = sflow.Decode(dg.Payload, &d)
		for i := range d.Samples {
			records += len(d.Samples[i].Records)
		}
	}
	for _, m := range writerModes {
		b.Run(m.name, func(b *testing.B) {
			w := newWriter(b, m.mode)
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range dgs {
					_ = w.Datagram(d.Payload, netip.Addr{}, time.Time{}, d.Time)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds())
			b.ReportMetric(ns/float64(b.N*len(dgs)), "ns/datagram")
			b.ReportMetric(ns/float64(b.N*records), "ns/record")
		})
	}
}

// wellFormed is the datagrams of the corpus that decode without error,
// every record included. (A malformed one is reported with an error value,
// which is allocated: that is not the steady state.)
func wellFormed(tb testing.TB) []testdata.Datagram {
	all, _ := corpus(tb)
	var out []testdata.Datagram
	var d sflow.Datagram
	var cache sflow.RecordCache
next:
	for _, dg := range all {
		if sflow.Decode(dg.Payload, &d) != nil {
			continue
		}
		for i := range d.Samples {
			for _, r := range d.Samples[i].Records {
				if _, err := cache.Decode(d.Samples[i].Format, r); err != nil {
					continue next
				}
			}
		}
		out = append(out, dg)
	}
	if len(out) < len(all)/2 {
		tb.Fatalf("only %d of %d datagrams are well formed", len(out), len(all))
	}
	tb.Logf("%d of %d datagrams well formed", len(out), len(all))
	return out
}

// TestWriterAllocatesNothing pins the writer's steady state: once it has
// seen every record type of the corpus, writing the corpus again in any
// format allocates nothing (names, formats and -L keys are resolved once
// per record type; values are formatted into reused buffers).
func TestWriterAllocatesNothing(t *testing.T) {
	dgs := wellFormed(t)
	for _, m := range writerModes {
		t.Run(m.name, func(t *testing.T) {
			w := newWriter(t, m.mode)
			write := func() {
				for _, d := range dgs {
					_ = w.Datagram(d.Payload, netip.Addr{}, time.Time{}, d.Time)
				}
			}
			write() // warm up: plans, buffers
			if n := testing.AllocsPerRun(5, write); n != 0 {
				t.Errorf("%s: %.1f allocations per pass over %d datagrams, want 0", m.name, n, len(dgs))
			}
		})
	}
}

// TestJSONEscapeMatchesByteByByte checks the eight-bytes-at-a-time JSON
// escaping against the plain rule on every byte value at every position.
func TestJSONEscapeMatchesByteByByte(t *testing.T) {
	plain := func(s []byte) string {
		var out []byte
		for _, c := range s {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c < 0x20:
				out = append(out, fmt.Sprintf(`\u%04x`, c)...)
			default:
				out = append(out, c)
			}
		}
		return string(out)
	}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 19; pos++ {
			s := []byte("abcdefghijklmnopqrs")
			s[pos] = byte(c)
			if got, want := sflowtool.AppendJSONForTest(nil, s), plain(s); string(got) != want {
				t.Fatalf("byte %#x at %d: got %q, want %q", c, pos, got, want)
			}
		}
	}
}

// TestAppendUintMatchesStrconv checks the small-number fast path on each
// boundary and beyond.
func TestAppendUintMatchesStrconv(t *testing.T) {
	vs := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 10001, 65535, 1<<32 - 1, 1<<64 - 1}
	for p := uint64(10); p < 1e19; p *= 10 { // every number of digits, at its edges
		vs = append(vs, p-1, p, p+1)
	}
	vs = append(vs, 1e19-1, 1e19, 1e19+1)
	for i := range 64 { // and of bits
		vs = append(vs, 1<<i-1, 1<<i, 1<<i+1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		vs = append(vs, r.Uint64()>>r.IntN(64))
	}
	for _, v := range vs {
		if got, want := string(sflowtool.AppendUintForTest([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("%d: got %q, want %q", v, got, want)
		}
	}
}

// TestAppendHeaderHexMatchesReference: headerBytes as sflowtool prints
// them (upper-case hex pairs joined by '-') for every length from 0 to 300,
// odd and even, after text already in the buffer and with room to spare
// or none.
func TestAppendHeaderHexMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 301 {
		h := make([]byte, n)
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		pairs := make([]string, n)
		for i, c := range h {
			pairs[i] = fmt.Sprintf("%02X", c)
		}
		want := "headerBytes " + strings.Join(pairs, "-")
		for _, room := range []int{0, 1, 2, 1000} {
			b := append(make([]byte, 0, len("headerBytes ")+room), "headerBytes "...)
			if got := string(sflowtool.AppendHeaderHexForTest(b, h)); got != want {
				t.Fatalf("%d bytes, room %d: got %q, want %q", n, room, got, want)
			}
		}
	}
}
