package synth

import (
	"testing"

	"github.com/flowrt/flowrt/sflow"
)

// With Discards, every datagram carries one discarded-packet sample after
// its flow samples: a real header of one of the flows, the reasons in turn,
// and per data source sequence numbers that count up by one.
func TestDiscards(t *testing.T) {
	g, err := New(Config{Agents: 1, Ports: 4, Flows: 50, SamplesPerDgram: 3, Discards: true})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, f := range g.Flows() {
		keys[string(f.header[26:34])] = true // IPv4 source and destination
	}
	seq := map[uint32]uint32{}
	reasons := map[string]int{}
	eachDatagram(t, g, 40, func(i int, d *sflow.Datagram) {
		if len(d.Samples) != 4 {
			t.Fatalf("%d samples, want 3 flow samples and a discard", len(d.Samples))
		}
		s := d.Samples[3]
		if s.Format != sflow.DiscardedPacketSample {
			t.Fatalf("last sample's format %v", s.Format)
		}
		if want := DropReasons[i%len(DropReasons)]; s.DropReason != want {
			t.Fatalf("datagram %d: reason %d, want %d", i, s.DropReason, want)
		}
		reasons[sflow.DropReasonName(s.DropReason)]++
		if s.Sequence != seq[s.SourceIndex]+1 {
			t.Fatalf("data source %d: sequence %d after %d", s.SourceIndex, s.Sequence, seq[s.SourceIndex])
		}
		seq[s.SourceIndex] = s.Sequence
		if h := sampledHeader(t, &s); !keys[string(h.Header[26:34])] {
			t.Fatalf("dropped packet is none of the flows: % x", h.Header)
		}
	})
	for _, r := range []string{"unknown_l3", "ttl_exceeded", "acl", "no_buffer_space"} {
		if reasons[r] != 10 {
			t.Errorf("%s: %d drops, want 10 (%v)", r, reasons[r], reasons)
		}
	}
}
