// Package bench compares flowrt's sFlow decoder with goflow2's on the same
// real datagrams. It is a module of its own so that goflow2 (and what it
// pulls in) never enters flowrt's dependencies.
package bench

import (
	"bytes"
	"testing"

	goflow "github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// corpus returns the datagrams both decoders accept, and their sample count.
func corpus(tb testing.TB) ([][]byte, int) {
	var out [][]byte
	samples := 0
	var d sflow.Datagram
	for _, c := range testdata.Captures(tb) {
		for _, dg := range c.Datagrams {
			var p goflow.Packet
			if sflow.Decode(dg.Payload, &d) != nil || goflow.DecodeMessageVersion(bytes.NewBuffer(dg.Payload), &p) != nil {
				continue
			}
			out = append(out, dg.Payload)
			samples += len(d.Samples)
		}
	}
	if len(out) == 0 {
		tb.Fatal("no datagram decodes with both decoders")
	}
	return out, samples
}

type flowrtDecoder struct {
	d     sflow.Datagram
	cache sflow.RecordCache
}

// decode decodes the datagram and every record into typed values, the same
// work goflow2's DecodeMessageVersion does.
func (x *flowrtDecoder) decode(b []byte) int {
	if sflow.Decode(b, &x.d) != nil {
		return 0
	}
	n := 0
	for i := range x.d.Samples {
		s := &x.d.Samples[i]
		for _, r := range s.Records {
			if v, err := x.cache.Decode(s.Format, r); v != nil && err == nil {
				n++
			}
		}
	}
	return n
}

func report(b *testing.B, datagrams, samples int) {
	ns := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(ns/float64(b.N*datagrams), "ns/datagram")
	b.ReportMetric(ns/float64(b.N*samples), "ns/sample")
	b.ReportMetric(float64(b.N*datagrams)/b.Elapsed().Seconds(), "datagrams/s")
}

func BenchmarkFlowrt(b *testing.B) {
	datagrams, samples := corpus(b)
	x := &flowrtDecoder{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, dg := range datagrams {
			x.decode(dg)
		}
	}
	report(b, len(datagrams), samples)
}

func BenchmarkGoflow2(b *testing.B) {
	datagrams, samples := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, dg := range datagrams {
			var p goflow.Packet
			_ = goflow.DecodeMessageVersion(bytes.NewBuffer(dg), &p)
		}
	}
	report(b, len(datagrams), samples)
}

// TestSameSampleCounts checks the comparison is fair: both decoders see the
// same samples in every datagram of the corpus.
func TestSameSampleCounts(t *testing.T) {
	datagrams, _ := corpus(t)
	var d sflow.Datagram
	for i, dg := range datagrams {
		var p goflow.Packet
		_ = goflow.DecodeMessageVersion(bytes.NewBuffer(dg), &p)
		_ = sflow.Decode(dg, &d)
		if len(p.Samples) != len(d.Samples) {
			t.Errorf("datagram %d: goflow2 %d samples, flowrt %d", i, len(p.Samples), len(d.Samples))
		}
	}
	t.Logf("%d datagrams compared", len(datagrams))
}
