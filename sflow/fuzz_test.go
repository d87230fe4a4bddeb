package sflow_test

import (
	"bytes"
	"testing"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// FuzzDecode: no input panics; every sample decodes or is reported; what
// decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	if dir, ok := tryCaptures(f); ok {
		for _, c := range dir {
			for _, d := range c.Datagrams {
				f.Add(d.Payload)
			}
		}
	}
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 1, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})
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

func tryCaptures(f *testing.F) (c []testdata.Capture, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return testdata.Captures(f), true
}
