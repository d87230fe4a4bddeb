package sflowtool_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
	"github.com/flowrt/flowrt/sflowtool"
)

// Host sFlow's custom metrics (rtmetric, 4300:1002) print as sflowtool
// prints them.
func TestRTMetric(t *testing.T) {
	var body []byte
	u32 := func(v uint32) { body = binary.BigEndian.AppendUint32(body, v) }
	str := func(s string) {
		u32(uint32(len(s)))
		body = append(body, s...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	str("app1")
	u32(3)
	str("requests")
	u32(1)
	u32(42)
	str("bytes")
	u32(4)
	u32(0)
	u32(7)
	str("state")
	u32(0)
	str("ok")
	d := sflow.Datagram{Agent: netip.MustParseAddr("10.0.0.1"), Samples: []sflow.Sample{{Format: sflow.RTMetricSample, Data: body}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, _ := sflowtool.NewWriter(&out, sflowtool.Text, sflowtool.Options{Location: time.UTC})
	if err := w.Datagram(b, netip.Addr{}, time.Time{}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	for _, want := range []string{"sampleType RTMETRIC", "rtmetric_datasource_name app1", "rtmetric_counter32_requests 42",
		"rtmetric_gauge64_bytes 7", "rtmetric_string_state ok"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}
