package sflowtool_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
	"github.com/flowrt/flowrt/sflowtool"
)

// timestampDatagram is one flow sample carrying extended_timestamp
// (0:1043) after an extended_switch record.
func timestampDatagram(t *testing.T, ns uint64) []byte {
	t.Helper()
	sw, err := sflow.NewRecord(&sflow.ExtendedSwitch{SrcVLAN: 10, DstVLAN: 20})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := sflow.NewRecord(&sflow.ExtendedTimestamp{Nanoseconds: ns})
	if err != nil {
		t.Fatal(err)
	}
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.1"), Sequence: 1,
		Samples: []sflow.Sample{{Format: sflow.FlowSample, Sequence: 1, SourceIndex: 3, SamplingRate: 100,
			Input: sflow.Interface{Value: 3}, Output: sflow.Interface{Value: 4}, Records: []sflow.Record{sw, ts}}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func renderOne(t *testing.T, b []byte, mode sflowtool.Mode) string {
	t.Helper()
	var out bytes.Buffer
	w, _ := sflowtool.NewWriter(&out, mode, sflowtool.Options{Location: time.UTC})
	if err := w.Datagram(b, netip.Addr{}, time.Time{}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return out.String()
}

// TestExtendedTimestamp: 0:1043 prints as sflowtool's
// readExtendedTimestamp prints it (the extendedType label, then the 64-bit
// nanoseconds in decimal), and the records after it still decode.
func TestExtendedTimestamp(t *testing.T) {
	const ns = 1700000000123456789 // above 2^32: the whole 64 bits must arrive
	b := timestampDatagram(t, ns)
	text := renderOne(t, b, sflowtool.Text)
	want := "extendedType SWITCH\nin_vlan 10\nin_priority 0\nout_vlan 20\nout_priority 0\nflowBlock_tag 0:1043\nextendedType timestamp\ntimestamp_nS 1700000000123456789\n"
	if !strings.Contains(text, want) {
		t.Errorf("text output lacks\n%s\nin:\n%s", want, text)
	}
	if strings.Contains(text, "skipping") {
		t.Errorf("record skipped:\n%s", text)
	}
	grep := renderOne(t, b, sflowtool.Grep)
	if !strings.Contains(grep, " 0:3 0:1 0:1043 extendedType timestamp\n1970-01-01T00:00:00+0000 10.0.0.1 0 1 0:3 0:1 0:1043 timestamp_nS 1700000000123456789\n") {
		t.Errorf("grep output lacks the timestamp:\n%s", grep)
	}
	js := renderOne(t, b, sflowtool.JSONLines)
	if !strings.Contains(js, `{"flowBlock_tag":"0:1043","extendedType":"timestamp","timestamp_nS":"1700000000123456789"}`) {
		t.Errorf("JSON output lacks the timestamp:\n%s", js)
	}
	// The decoder gives the same value to Go code.
	var dg sflow.Datagram
	if err := sflow.Decode(b, &dg); err != nil {
		t.Fatal(err)
	}
	var got sflow.ExtendedTimestamp
	for _, r := range dg.Samples[0].Records {
		if r.Format == 1043 {
			if err := r.Decode(&got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.Nanoseconds != ns {
		t.Errorf("decoded %d, want %d", got.Nanoseconds, ns)
	}
}
