package export

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowrt/flowrt/flow"
)

// TestSampleJSONAndProto: one flow sample as JSON and as the
// flowrt.FlowSample message carry the same fields and keys, read back by
// encoding/json and by protowire (the wire format any protobuf library
// reads).
func TestSampleJSONAndProto(t *testing.T) {
	keys := []string{"ipsource", "ipdestination", "udpdestinationport", "tcpsourceport", "null:[ipsource]:a\"b"}
	r, err := NewSampleRows(flow.NewCompiler(), keys)
	if err != nil {
		t.Fatal(err)
	}
	s := testSample()
	var m struct {
		Time                                                    int64
		Agent, Datasource                                       string
		Dropped                                                 bool
		SamplingRate, Input, Output, FrameLength, Bytes, Frames uint64
		Keys                                                    map[string]string
	}
	js := r.AppendJSON(nil, s, 1_700_000_000_500)
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	wantKeys := map[string]string{"ipsource": "10.0.0.1", "ipdestination": "10.0.0.2", "udpdestinationport": "53", "null:[ipsource]:a\"b": "10.0.0.1"}
	if m.Time != 1_700_000_000_500 || m.Agent != "192.0.2.1" || m.Datasource != "7" || m.SamplingRate != 1000 || m.Input != 7 ||
		m.FrameLength != 66 || m.Bytes != 66000 || m.Frames != 1000 || len(m.Keys) != len(wantKeys) {
		t.Errorf("JSON %s", js)
	}
	for k, v := range wantKeys {
		if m.Keys[k] != v {
			t.Errorf("JSON key %s = %q, want %q", k, m.Keys[k], v)
		}
	}

	pb := r.AppendProto(nil, s, 1_700_000_000_500)
	got := map[protowire.Number][]any{}
	gotKeys := map[string]string{}
	for b := pb; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag in %x", pb)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			got[num] = append(got[num], v)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatalf("bad bytes in %x", pb)
			}
			b = b[n:]
			if num == 11 {
				var k, val string
				for e := v; len(e) > 0; {
					f, _, n := protowire.ConsumeTag(e)
					e = e[n:]
					x, n := protowire.ConsumeBytes(e)
					e = e[n:]
					if f == 1 {
						k = string(x)
					} else {
						val = string(x)
					}
				}
				gotKeys[k] = val
				continue
			}
			got[num] = append(got[num], string(v))
		}
	}
	want := map[protowire.Number]any{1: uint64(1_700_000_000_500), 2: "192.0.2.1", 3: "7", 5: uint64(1000), 6: uint64(7), 7: uint64(0),
		8: uint64(66), 9: uint64(66000), 10: uint64(1000)}
	for n, v := range want {
		if len(got[n]) != 1 || got[n][0] != v {
			t.Errorf("proto field %d = %v, want %v", n, got[n], v)
		}
	}
	if _, ok := got[4]; ok {
		t.Errorf("dropped is set for a flow sample")
	}
	for k, v := range wantKeys {
		if gotKeys[k] != v {
			t.Errorf("proto key %s = %q, want %q", k, gotKeys[k], v)
		}
	}
	// A long value widens its length varint.
	long := strings.Repeat("x", 300)
	b := fixLength(append(append([]byte{}, 0), long...), 0)
	if v, n := protowire.ConsumeBytes(b); n != len(b) || string(v) != long {
		t.Errorf("a 300-byte value's length: %d of %d bytes read", n, len(b))
	}
}

// BenchmarkKafkaSampleJSON and BenchmarkKafkaSampleProto are the encoding
// cost of one flow sample message with the default keys.
func BenchmarkKafkaSampleJSON(b *testing.B) { benchEncode(b, (*SampleRows).AppendJSON) }

func BenchmarkKafkaSampleProto(b *testing.B) { benchEncode(b, (*SampleRows).AppendProto) }

func benchEncode(b *testing.B, enc func(*SampleRows, []byte, *flow.Sample, int64) []byte) {
	r, err := NewSampleRows(flow.NewCompiler(), DefaultSampleKeys)
	if err != nil {
		b.Fatal(err)
	}
	s := testSample()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = enc(r, buf[:0], s, 1_700_000_000_000)
	}
	b.ReportMetric(float64(len(buf)), "bytes/msg")
}
