package sflow_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// golden reads sflowtool's -j output for a capture; ok is false where there
// is none or sflowtool's JSON is not valid (see the golden README).
func golden(t *testing.T, name string) ([]map[string]any, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata.Dir(t), "sflowtool-6.11", name+".jsonl"))
	if err != nil {
		return nil, false
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

func TestDecodeAgreesWithSflowtool(t *testing.T) {
	var compared int
	for _, c := range testdata.Captures(t) {
		t.Run(c.Name, func(t *testing.T) {
			want, ok := golden(t, c.Name)
			if ok && len(want) != len(c.Datagrams) {
				t.Fatalf("sflowtool saw %d datagrams, the capture has %d", len(want), len(c.Datagrams))
			}
			var d sflow.Datagram
			for i, dg := range c.Datagrams {
				err := sflow.Decode(dg.Payload, &d)
				if !ok {
					continue
				}
				g := want[i]
				if g["datagramVersion"] != "5" {
					if !errors.Is(err, sflow.ErrVersion) {
						t.Errorf("datagram %d: version %v: want ErrVersion, got %v", i, g["datagramVersion"], err)
					}
					continue
				}
				if err != nil {
					t.Errorf("datagram %d: %v", i, err)
					continue
				}
				compared++
				check := func(field string, got any) {
					t.Helper()
					if s := strconv.FormatUint(uint64(toU64(got)), 10); g[field] != s {
						t.Errorf("datagram %d: %s = %s, sflowtool says %v", i, field, s, g[field])
					}
				}
				check("packetSequenceNo", d.Sequence)
				check("sysUpTime", d.Uptime)
				check("agentSubId", d.SubAgentID)
				check("samplesInPacket", d.NumSamples)
				if sameAddr(g["agent"].(string), d.Agent.String()) == false {
					t.Errorf("datagram %d: agent %s, sflowtool says %v", i, d.Agent, g["agent"])
				}
				samples, _ := g["samples"].([]any)
				if len(samples) != len(d.Samples) {
					t.Fatalf("datagram %d: %d samples, sflowtool has %d", i, len(d.Samples), len(samples))
				}
				for j, s := range d.Samples {
					gs := samples[j].(map[string]any)
					if gs["sampleType_tag"] != s.Format.String() {
						t.Errorf("datagram %d sample %d: format %s, sflowtool %v", i, j, s.Format, gs["sampleType_tag"])
					}
					if gs["sampleSequenceNo"] != strconv.FormatUint(uint64(s.Sequence), 10) {
						t.Errorf("datagram %d sample %d: sequence %d, sflowtool %v", i, j, s.Sequence, gs["sampleSequenceNo"])
					}
					els, _ := gs["elements"].([]any)
					if len(els) != len(s.Records) {
						t.Errorf("datagram %d sample %d: %d records, sflowtool %d", i, j, len(s.Records), len(els))
					}
				}
			}
		})
	}
	if compared == 0 {
		t.Fatal("no datagram was compared with sflowtool's output")
	}
	t.Logf("%d datagrams agree with sflowtool", compared)
}

func toU64(v any) uint64 {
	switch x := v.(type) {
	case uint32:
		return uint64(x)
	case uint64:
		return x
	}
	panic("toU64")
}

// sameAddr compares sflowtool's uncompressed IPv6 text with ours.
func sameAddr(sflowtool, ours string) bool {
	if sflowtool == ours {
		return true
	}
	a, err1 := parseAddr(sflowtool)
	b, err2 := parseAddr(ours)
	return err1 == nil && err2 == nil && a == b
}

func TestRoundTripCaptures(t *testing.T) {
	var datagrams, records, dirtyPadding int
	for _, c := range testdata.Captures(t) {
		var d sflow.Datagram
		for i, dg := range c.Datagrams {
			if err := sflow.Decode(dg.Payload, &d); err != nil {
				continue
			}
			out, err := d.AppendBinary(nil)
			if err != nil {
				t.Fatalf("%s #%d: encode: %v", c.Name, i, err)
			}
			if !bytes.Equal(out, dg.Payload[:d.Size]) {
				t.Errorf("%s #%d: encode(decode(b)) != b (%d vs %d bytes)", c.Name, i, len(out), len(dg.Payload))
			}
			datagrams++
			var cache sflow.RecordCache
			for _, s := range d.Samples {
				for _, rec := range s.Records {
					v, err := cache.Decode(s.Format, rec)
					if v == nil {
						continue
					}
					if err != nil {
						t.Errorf("%s #%d: record %s: %v", c.Name, i, rec.Format, err)
						continue
					}
					body, _ := sflow.AppendRecordBody(nil, v)
					padded := append(append([]byte(nil), rec.Data...), make([]byte, (4-len(rec.Data)%4)%4)...)
					records++
					if bytes.Equal(body, padded) {
						continue
					}
					// Some agents leave garbage in XDR padding, which an
					// encoder rightly writes as zeros: then the lengths
					// match and decoding our bytes gives the same value.
					again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
					if len(body) != len(padded) || (sflow.Record{Format: rec.Format, Data: body}).Decode(again) != nil || !reflect.DeepEqual(again, v) {
						t.Errorf("%s #%d: record %s: encode(decode(r)) differs:\n got %x\nwant %x", c.Name, i, rec.Format, body, padded)
					}
					dirtyPadding++
				}
			}
		}
	}
	t.Logf("%d datagrams round-trip byte for byte; %d typed records round-trip (%d of them had non-zero XDR padding from the agent)", datagrams, records, dirtyPadding)
}

// Every prefix of every real datagram must decode without panic and, when
// shorter than the datagram, with an error.
func TestEveryTruncationFails(t *testing.T) {
	var n int
	for _, c := range testdata.Captures(t) {
		var d sflow.Datagram
		for _, dg := range c.Datagrams {
			full := sflow.Decode(dg.Payload, &d)
			size := d.Size
			for l := 0; l < size; l++ {
				err := sflow.Decode(dg.Payload[:l], &d)
				if err == nil && full == nil {
					t.Fatalf("%s: prefix of %d/%d bytes decoded without error", c.Name, l, len(dg.Payload))
				}
				var e *sflow.Error
				if err != nil && !errors.As(err, &e) {
					t.Fatalf("%s: error is not an *sflow.Error: %v", c.Name, err)
				}
				decodeAllRecords(&d)
				n++
			}
		}
	}
	t.Logf("%d truncated datagrams rejected", n)
}

// recordCache is shared by the tests that decode every record (none runs in
// parallel), so that the truncation and fuzz loops do not allocate a cache
// per datagram.
var recordCache sflow.RecordCache

func decodeAllRecords(d *sflow.Datagram) {
	for _, s := range d.Samples {
		for _, rec := range s.Records {
			_, _ = recordCache.Decode(s.Format, rec)
		}
	}
}

func TestErrorSaysWhere(t *testing.T) {
	var d sflow.Datagram
	for _, c := range testdata.Captures(t) {
		if c.Name != "akvorado_data-1140" {
			continue
		}
		b := c.Datagrams[0].Payload
		err := sflow.Decode(b[:200], &d)
		var e *sflow.Error
		if !errors.As(err, &e) || !errors.Is(err, sflow.ErrLength) {
			t.Fatalf("want ErrLength *Error, got %v", err)
		}
		if e.Sample != 1 || e.Offset == 0 {
			t.Errorf("error does not locate the sample: %+v", e)
		}
		t.Log(err)
		bad := append([]byte(nil), b...)
		bad[3] = 4
		if err := sflow.Decode(bad, &d); !errors.Is(err, sflow.ErrVersion) || err.Error() != "sflow: datagram header at byte 0: not an sFlow version 5 datagram (4)" {
			t.Errorf("version 4: %v", err)
		}
		return
	}
	t.Fatal("akvorado_data-1140 missing")
}
