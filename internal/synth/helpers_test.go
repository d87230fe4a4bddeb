package synth

import (
	"testing"

	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// decode decodes the sFlow datagram b, failing the test where it does not.
func decode(t *testing.T, b []byte) *sflow.Datagram {
	t.Helper()
	d := new(sflow.Datagram)
	if err := sflow.Decode(b, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// eachDatagram generates n flow datagrams from g (uptime 1000) and hands
// each, decoded, to fn with its number.
func eachDatagram(t *testing.T, g *Generator, n int, fn func(i int, d *sflow.Datagram)) {
	t.Helper()
	for i := range n {
		b, err := g.Datagram(nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		fn(i, decode(t, b))
	}
}

// sampledHeader decodes s's first record as a sampled header.
func sampledHeader(t *testing.T, s *sflow.Sample) sflow.SampledHeader {
	t.Helper()
	var h sflow.SampledHeader
	if err := s.Records[0].Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// key is p's value for the field name as text, "(none)" where p has none.
func key(p *packet.Packet, name string) string {
	v, ok := p.AppendKey(nil, name)
	if !ok {
		return "(none)"
	}
	return string(v)
}
