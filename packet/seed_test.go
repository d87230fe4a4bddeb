package packet_test

import (
	"testing"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

type seed struct {
	proto uint32
	b     []byte
}

// seedHeaders returns every sampled header in the shared captures, or none
// where the captures are absent (fuzzing still runs on the built seeds).
func seedHeaders(tb testing.TB) []seed {
	var captures []testdata.Capture
	if f, ok := tb.(*testing.F); ok {
		captures = testdata.FuzzCaptures(f) // the fuzz target's own seeds are enough without them
	} else {
		captures = testdata.Captures(tb)
	}
	var out []seed
	var d sflow.Datagram
	var h sflow.SampledHeader
	for _, c := range captures {
		for _, dg := range c.Datagrams {
			if sflow.Decode(dg.Payload, &d) != nil {
				continue
			}
			for _, s := range d.Samples {
				for _, r := range s.Records {
					if s.Format.IsFlow() && r.Format == 1 && r.Decode(&h) == nil {
						out = append(out, seed{h.Protocol, append([]byte(nil), h.Header...)})
					}
				}
			}
		}
	}
	return out
}
