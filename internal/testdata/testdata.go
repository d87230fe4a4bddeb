// Package testdata finds the shared sFlow captures (../shared/testdata/sflow
// beside the repository, or $FLOWRT_SHARED/testdata/sflow) and reads their
// datagrams. Tests that need them skip with a clear message where they are
// absent; CI sets FLOWRT_REQUIRE_SHARED=1 so that a missing directory fails
// instead.
package testdata

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
)

// Dir returns the shared sflow testdata directory or skips the test.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d, ok := find(); ok {
		return d
	}
	msg := "shared sFlow captures not found: put the shared/ directory beside the repository (../shared/testdata/sflow) or set FLOWRT_SHARED"
	if os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

func find() (string, bool) {
	if s := os.Getenv("FLOWRT_SHARED"); s != "" {
		d := filepath.Join(s, "testdata", "sflow")
		_, err := os.Stat(d)
		return d, err == nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared", "testdata", "sflow")
			if _, err := os.Stat(d); err == nil {
				return d, true
			}
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

// Datagram is one sFlow datagram from a capture.
type Datagram struct {
	Time    time.Time
	Payload []byte
}

// Capture is a named set of datagrams: a pcap file or a raw .bin datagram.
type Capture struct {
	Name      string // golden-file base name in sflowtool-6.11/
	Path      string
	Datagrams []Datagram
}

// RawTime is the timestamp the golden files give raw datagrams (they were
// wrapped in a one-packet pcap stamped 1700000000).
var RawTime = time.Unix(1700000000, 0).UTC()

// Captures returns every capture: each pcap's UDP payloads and each raw
// datagram, sorted by name.
func Captures(tb testing.TB) []Capture {
	tb.Helper()
	dir := Dir(tb)
	var out []Capture
	pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	for _, p := range pcaps {
		c := Capture{Name: strings.TrimSuffix(filepath.Base(p), ".pcap"), Path: p}
		c.Datagrams = ReadPcap(tb, p)
		out = append(out, c)
	}
	raws, _ := filepath.Glob(filepath.Join(dir, "raw", "*.bin"))
	syn, _ := filepath.Glob(filepath.Join(dir, "raw", "synthetic", "*.bin"))
	for _, p := range append(raws, syn...) {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		name := "raw_" + strings.TrimSuffix(filepath.Base(p), ".bin")
		out = append(out, Capture{Name: name, Path: p, Datagrams: []Datagram{{Time: RawTime, Payload: b}}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FuzzCaptures returns the captures as fuzzing seeds where the shared
// directory is present. Where it is absent a fuzz target still runs on its
// own built-in seeds: it logs that it does, and fails instead under
// FLOWRT_REQUIRE_SHARED (CI), which must fuzz from the real captures. It
// never skips: a skipped fuzz target reports PASS having run nothing.
func FuzzCaptures(f *testing.F) []Capture {
	f.Helper()
	if _, ok := find(); !ok {
		if os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
			f.Fatal("shared sFlow captures not found (../shared/testdata/sflow): CI fuzzes from them")
		}
		f.Log("shared sFlow captures not found: fuzzing from the built-in seeds only")
		return nil
	}
	return Captures(f)
}

// ReadPcap returns the UDP payloads of a pcap file.
func ReadPcap(tb testing.TB, path string) []Datagram {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []Datagram
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if u, ok := pcap.DecodeUDP(p.LinkType, p.Data); ok {
			out = append(out, Datagram{Time: p.Time, Payload: append([]byte(nil), u.Payload...)})
		}
	}
}
