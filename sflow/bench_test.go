package sflow_test

import (
	"testing"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// corpus returns every v5 datagram of the shared captures.
func corpus(tb testing.TB) (datagrams [][]byte, samples int) {
	var d sflow.Datagram
	for _, c := range testdata.Captures(tb) {
		for _, dg := range c.Datagrams {
			if sflow.Decode(dg.Payload, &d) == nil {
				datagrams = append(datagrams, dg.Payload)
				samples += len(d.Samples)
			}
		}
	}
	return datagrams, samples
}

// decoder holds one reusable value per record structure, as the engine and
// the decode command do.
type decoder struct {
	d     sflow.Datagram
	cache sflow.RecordCache
}

func newDecoder() *decoder {
	return &decoder{}
}

// full decodes the datagram and every record in it into typed values.
func (x *decoder) full(b []byte) (records int) {
	if sflow.Decode(b, &x.d) != nil {
		return 0
	}
	for i := range x.d.Samples {
		s := &x.d.Samples[i]
		for _, r := range s.Records {
			if v, err := x.cache.Decode(s.Format, r); v != nil && err == nil {
				records++
			}
		}
	}
	return records
}

func TestDecodeAllocatesNothing(t *testing.T) {
	datagrams, _ := corpus(t)
	x := newDecoder()
	for _, b := range datagrams {
		x.full(b) // warm up: size slices, create record values
	}
	allocs := testing.AllocsPerRun(20, func() {
		for _, b := range datagrams {
			x.full(b)
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding %d datagrams and all their records allocated %v times, want 0", len(datagrams), allocs)
	}
}

// BenchmarkDecode: datagram framing only (what a forwarder or counter of
// samples needs).
func BenchmarkDecode(b *testing.B) {
	datagrams, samples := corpus(b)
	var d sflow.Datagram
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, dg := range datagrams {
			_ = sflow.Decode(dg, &d)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(datagrams)), "ns/datagram")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
}

// BenchmarkDecodeRecords: framing plus every record into typed values —
// the like-for-like comparison with goflow2 (see bench/).
func BenchmarkDecodeRecords(b *testing.B) {
	datagrams, samples := corpus(b)
	x := newDecoder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, dg := range datagrams {
			x.full(dg)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(datagrams)), "ns/datagram")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
}
