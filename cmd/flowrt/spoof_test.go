package main_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// spoofer sends sFlow that claims to come from many agents, or from many
// data sources of one agent, over one UDP socket: the agent address is in
// the datagram, so one sender can be any number of agents.
type spoofer struct {
	conn net.Conn
	tmpl []byte // one expanded counter sample with a generic interface record
	sent int
}

// Offsets in tmpl: the IPv4 agent address, the datagram sequence number,
// and the expanded counter sample's sequence, source class and index.
const (
	spoofAgentAt  = 8
	spoofSeqAt    = 16
	spoofSmpSeqAt = 36
	spoofClassAt  = 40
	spoofIndexAt  = 44
)

func newSpoofer(t *testing.T, to string) *spoofer {
	t.Helper()
	gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: 1, Type: 6, Speed: 1e9, Direction: 1, Status: 3, InOctets: 1000})
	if err != nil {
		t.Fatal(err)
	}
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.1"), Sequence: 1, Uptime: 1000,
		Samples: []sflow.Sample{{Format: sflow.ExpandedCounterSample, Sequence: 1, SourceIndex: 1, Records: []sflow.Record{gen}}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(b[spoofIndexAt:]); got != 1 {
		t.Fatalf("template layout: source index at %d is %d", spoofIndexAt, got)
	}
	c, err := net.Dial("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &spoofer{conn: c, tmpl: b}
}

// send sends one datagram from agent 10.x.y.z number agent (0-based) and
// data source index ds, with sequence number seq; every 256 datagrams it
// pauses so that a collector on a shared 2-core machine keeps up.
func (s *spoofer) send(t *testing.T, agent uint32, ds uint32, seq uint32) {
	b := s.tmpl
	binary.BigEndian.PutUint32(b[spoofAgentAt:], 10<<24|agent+1)
	binary.BigEndian.PutUint32(b[spoofSeqAt:], seq)
	binary.BigEndian.PutUint32(b[spoofSmpSeqAt:], seq)
	binary.BigEndian.PutUint32(b[spoofIndexAt:], ds)
	if _, err := s.conn.Write(b); err != nil {
		t.Fatal(err)
	}
	s.sent++
	if s.sent%256 == 0 {
		time.Sleep(2 * time.Millisecond)
	}
}

// rss returns a process's resident memory in bytes (VmRSS).
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// received waits until the engine has read n datagrams (or counted the
// rest as kernel drops), at most 60 s.
func (e *engine) received(t *testing.T, n int) (datagrams, drops float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var an map[string]any
		e.get(t, "/analyzer/json", &an)
		datagrams, _ = an["sFlowDatagramsReceived"].(float64)
		drops, _ = an["sFlowKernelDrops"].(float64)
		if datagrams+drops >= float64(n) {
			return datagrams, drops
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine read %v of %d datagrams (%v kernel drops) in 60 s", datagrams, n, drops)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSpoofMeasure is the measurement of docs/performance.md: it sends
// FLOWRT_SPOOF_AGENTS agents or FLOWRT_SPOOF_SOURCES data sources of one
// agent and logs RSS before and after, and the time /agents/json takes.
func TestSpoofMeasure(t *testing.T) {
	agents, _ := strconv.Atoi(os.Getenv("FLOWRT_SPOOF_AGENTS"))
	sources, _ := strconv.Atoi(os.Getenv("FLOWRT_SPOOF_SOURCES"))
	if agents == 0 && sources == 0 {
		t.Skip("a measurement: FLOWRT_SPOOF_AGENTS=200000 or FLOWRT_SPOOF_SOURCES=400000 (and FLOWRT_SPOOF_PROPS)")
	}
	e := startEngine(t, append([]string{"-Dagent.timeout=3600", "-Ddatasource.timeout=3600"},
		strings.Fields(os.Getenv("FLOWRT_SPOOF_PROPS"))...)...)
	time.Sleep(500 * time.Millisecond)
	before := rss(t, e.cmd.Process.Pid)
	s := newSpoofer(t, e.sflow)
	start := time.Now()
	for i := range agents {
		s.send(t, uint32(i), 1, 1)
	}
	for i := range sources {
		s.send(t, 0, uint32(i+1), uint32(i+1))
	}
	got, drops := e.received(t, s.sent)
	t.Logf("sent %d datagrams in %v; received %v, kernel drops %v", s.sent, time.Since(start).Round(time.Millisecond), got, drops)
	after := rss(t, e.cmd.Process.Pid)
	t0 := time.Now()
	code, body := e.do(t, "GET", "/agents/json", "")
	t.Logf("/agents/json: %d, %d bytes in %v", code, len(body), time.Since(t0).Round(time.Millisecond))
	for _, path := range []string{"/dump/ALL/ALL/json", "/table/ALL/ifinoctets/json", "/metric/10.0.0.1/json", "/metric/ALL/sum:ifinoctets/json"} {
		t0 := time.Now()
		code, body := e.do(t, "GET", path, "")
		t.Logf("%s: %d, %d bytes in %v", path, code, len(body), time.Since(t0).Round(time.Millisecond))
	}
	peak := rss(t, e.cmd.Process.Pid)
	var an map[string]any
	e.get(t, "/analyzer/json", &an)
	t.Logf("RSS before %d MiB, after the datagrams %d MiB, after the listings %d MiB; agents %v",
		before>>20, after>>20, peak>>20, an["sFlowAgents"])
}
