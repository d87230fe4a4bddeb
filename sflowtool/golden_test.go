package sflowtool_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflowtool"
)

// knownDifferences lists the golden files where flowrt's output is meant to
// differ from sflowtool's, and why.
var knownDifferences = map[string]string{
	// sflowtool 6.11 does not decode the drop-notification ACL record
	// (0:1037) and prints "skipping unknown"; flowrt decodes it.
	"raw_goflow2_TestSFlowDecodeDropExtendedACL": "flowrt decodes extended_acl (0:1037)",
	// The record's string is not XDR-padded: sflowtool reads past the
	// record and aborts mid-sample; flowrt rejects the sample whole.
	"raw_goflow2_TestSFlowDecodeDropExtendedFunction": "malformed record (unpadded string)",
	// Hand-made gopacket vectors whose record or sample lengths overrun
	// their container: sflowtool prints part of the sample, then aborts
	// (its JSON for them is invalid); flowrt rejects the sample whole and
	// reports where and why.
	"raw_gopacket_SFlowTestPacket5":  "malformed: record length overruns sample",
	"raw_gopacket_SFlowTestPacket8":  "malformed: record length overruns sample",
	"raw_gopacket_SFlowTestPacket11": "malformed: sample length overruns datagram",
}

func render(t *testing.T, c testdata.Capture, mode sflowtool.Mode) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := sflowtool.NewWriter(&out, mode, sflowtool.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Datagrams {
		_ = w.Datagram(d.Payload, netip.Addr{}, time.Time{}, d.Time)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestGoldenSflowtool(t *testing.T) {
	dir := filepath.Join(testdata.Dir(t), "sflowtool-6.11")
	modes := map[string]sflowtool.Mode{".txt": sflowtool.Text, ".grep": sflowtool.Grep, ".jsonl": sflowtool.JSONLines, ".line": sflowtool.Line}
	compared := 0
	for _, c := range testdata.Captures(t) {
		for ext, mode := range modes {
			want, err := os.ReadFile(filepath.Join(dir, c.Name+ext))
			if err != nil {
				continue
			}
			t.Run(c.Name+ext, func(t *testing.T) {
				got := render(t, c, mode)
				if bytes.Equal(got, want) {
					compared++
					return
				}
				if why, ok := knownDifferences[c.Name]; ok {
					t.Skipf("known difference: %s", why)
				}
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("line %d differs:\n got %q\nwant %q", i+1, trunc(gl[i]), trunc(wl[i]))
					}
				}
				t.Fatalf("output has %d lines, sflowtool's %d", len(gl), len(wl))
			})
		}
	}
	if compared == 0 {
		t.Fatal("no golden file compared")
	}
	t.Logf("%d golden files identical to sflowtool 6.11's output", compared)
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
