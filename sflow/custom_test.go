package sflow

import (
	"net/netip"
	"testing"
)

func TestCustomRoundTrip(t *testing.T) {
	fields := []CustomField{
		{Name: []byte("requests"), Type: CustomCounter32, U: 42},
		{Name: []byte("bytes"), Type: CustomCounter64, U: 1 << 40},
		{Name: []byte("temp"), Type: CustomGaugeDouble, F: 21.5},
		{Name: []byte("state"), Type: CustomString, Str: []byte("ok")},
	}
	b, err := AppendCustom(nil, RTMetricSample, "app1", 0, 0, fields)
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeCustom(RTMetricSample, b)
	if err != nil || string(c.DataSource) != "app1" {
		t.Fatalf("%v %q", err, c.DataSource)
	}
	var f CustomField
	for i := 0; c.Next(&f); i++ {
		w := fields[i]
		if string(f.Name) != string(w.Name) || f.Type != w.Type || f.U != w.U || f.F != w.F || string(f.Str) != string(w.Str) {
			t.Errorf("field %d: %+v, want %+v", i, f, w)
		}
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	flowFields := []CustomField{{Name: []byte("src"), Type: CustomIP, Addr: netip.MustParseAddr("10.1.2.3")},
		{Name: []byte("mac"), Type: CustomMAC, MAC: MAC{1, 2, 3, 4, 5, 6}}, {Name: []byte("n"), Type: CustomInt32, U: 7}}
	b, _ = AppendCustom(nil, RTFlowSample, "app2", 100, 5000, flowFields)
	c, _ = DecodeCustom(RTFlowSample, b)
	if c.SamplingRate != 100 || c.SamplePool != 5000 {
		t.Errorf("rtflow header %+v", c)
	}
	n := 0
	for c.Next(&f) {
		n++
	}
	if n != 3 || c.Err() != nil || f.U != 7 {
		t.Errorf("rtflow: %d fields, %v", n, c.Err())
	}
	// Every truncation is an error, never a panic.
	for i := range len(b) {
		c, err := DecodeCustom(RTFlowSample, b[:i])
		if err != nil {
			continue
		}
		for c.Next(&f) {
		}
		if c.Err() == nil && c.left > 0 {
			t.Errorf("truncated at %d: no error", i)
		}
	}
}
