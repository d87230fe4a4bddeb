package sflow_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/flowrt/flowrt/sflow"
)

// TestEncodeRecordPadding: a record whose data stops at its structure's
// end (a 54-byte sampled header without its 2 bytes of padding, as the
// tenant splitter cuts it) is written with its length rounded up to the
// padding and zeros in it, so that a decoder reads the header whole.
func TestEncodeRecordPadding(t *testing.T) {
	header := bytes.Repeat([]byte{0xAB}, 54)
	rec, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: 1500, Header: header})
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = rec.Data[:16+54] // cut the padding off
	d := sflow.Datagram{Agent: netip.MustParseAddr("192.0.2.1"), Sequence: 1, Samples: []sflow.Sample{{
		Format: sflow.FlowSample, Sequence: 7, SourceIndex: 3, SamplingRate: 100, Records: []sflow.Record{rec}}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got sflow.Datagram
	if err := sflow.Decode(b, &got); err != nil || len(got.Samples) != 1 || len(got.Samples[0].Records) != 1 {
		t.Fatalf("decode: %v %+v", err, got)
	}
	r := got.Samples[0].Records[0]
	if len(r.Data) != 72 || !bytes.Equal(r.Data[70:], []byte{0, 0}) {
		t.Errorf("record length %d (want 72: 16 + 54 + 2 of padding), ends % x", len(r.Data), r.Data[len(r.Data)-2:])
	}
	var cache sflow.RecordCache
	v, err := cache.Decode(got.Samples[0].Format, r)
	if err != nil {
		t.Fatalf("the sampled header does not decode: %v", err)
	}
	if h, ok := v.(*sflow.SampledHeader); !ok || !bytes.Equal(h.Header, header) || h.FrameLength != 1500 {
		t.Errorf("decoded %+v", v)
	}
	if n := binary.BigEndian.Uint32(b[len(b)-72-4:]); n != 72 {
		t.Errorf("the record's length word is %d, want 72", n)
	}
}
