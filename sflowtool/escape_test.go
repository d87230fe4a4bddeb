package sflowtool_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
	"github.com/flowrt/flowrt/sflowtool"
)

// TestJSONEscapesAgentText checks that text an agent sends (here a host
// name with a quote, a backslash and control characters) is escaped in -j
// output, while the values the writer formats itself go out as they are.
func TestJSONEscapesAgentText(t *testing.T) {
	host := "a\"b\\c\td\x01e"
	rec, err := sflow.NewRecord(&sflow.HostDescr{Hostname: []byte(host)})
	if err != nil {
		t.Fatal(err)
	}
	d := sflow.Datagram{Agent: netip.MustParseAddr("192.0.2.1"), Sequence: 7, Samples: []sflow.Sample{{
		Format: sflow.CounterSample, Sequence: 3, SourceClass: 2, SourceIndex: 1, Records: []sflow.Record{rec},
	}}}
	payload, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := sflowtool.NewWriter(&out, sflowtool.JSONLines, sflowtool.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Datagram(payload, netip.Addr{}, time.Time{}, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Agent   string `json:"agent"`
		Samples []struct {
			SourceID string `json:"sourceId"`
			Elements []struct {
				Hostname string `json:"hostname"`
			} `json:"elements"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("-j output is not JSON: %v\n%s", err, out.Bytes())
	}
	if got.Agent != "192.0.2.1" || len(got.Samples) != 1 || got.Samples[0].SourceID != "2:1" ||
		len(got.Samples[0].Elements) != 1 || got.Samples[0].Elements[0].Hostname != host {
		t.Fatalf("decoded %+v from\n%s", got, out.Bytes())
	}
}
