package sflow_test

import (
	"bytes"
	"testing"

	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// FuzzDecode: no input panics; every sample decodes or is reported; what
// decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, c := range testdata.FuzzCaptures(f) {
		for _, d := range c.Datagrams {
			f.Add(d.Payload)
		}
	}
	// Built-in seeds, so that the target fuzzes real structure without the
	// shared captures: an empty datagram, and synthetic ones with flow
	// samples of every protocol and counter samples of interfaces and hosts.
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 1, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	cfg := synth.DefaultConfig()
	cfg.Hosts = true
	g, err := synth.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 8 {
		b, err := g.Datagram(nil, uint32(i)*1000)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	counters, err := g.Counters(nil, 5000)
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range counters {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d sflow.Datagram
		err := sflow.Decode(b, &d)
		decodeAllRecords(&d)
		if err != nil || !d.Agent.IsValid() {
			return
		}
		out, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var again sflow.Datagram
		if err := sflow.Decode(out, &again); err != nil {
			t.Fatalf("re-encoded datagram does not decode: %v", err)
		}
		out2, _ := again.AppendBinary(nil)
		if !bytes.Equal(out, out2) {
			t.Fatal("encode(decode(encode(x))) != encode(x)")
		}
	})
}
