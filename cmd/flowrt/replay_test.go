package main_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
)

// captured is what flowrt decode -r -j says a capture holds: its flow
// samples (capture time, key, bytes × sampling rate) and its interface
// counters, with the ms of each datagram.
type captured struct {
	agent   string
	times   []int64 // ms of every datagram, in order
	samples []flowSample
	ifaces  map[string][]ifCounters // ifIndex → counter samples in order
}

type flowSample struct {
	ms    int64
	key   string // ipsource,ipdestination
	bytes float64
}

type ifCounters struct {
	uptime                 int64 // ms
	inOctets, outOctets    float64
	outUcast, outMulticast float64
	speed                  string
}

func decodeCapture(t *testing.T, file string) captured {
	t.Helper()
	out, err := exec.Command(flowrt, "decode", "-r", file, "-j").Output()
	if err != nil {
		t.Fatalf("flowrt decode -r %s: %v", file, err)
	}
	c := captured{ifaces: map[string][]ifCounters{}}
	num := func(s any) float64 {
		f, err := strconv.ParseFloat(fmt.Sprint(s), 64)
		if err != nil {
			t.Fatalf("%v is not a number", s)
		}
		return f
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var d struct {
			Agent, PcapTimestamp, PcapTimestampUS, SysUpTime string
			Samples                                          []map[string]any
		}
		var raw map[string]any
		json.Unmarshal([]byte(line), &raw)
		json.Unmarshal([]byte(line), &d)
		d.PcapTimestampUS, _ = raw["pcapTimestamp_uS"].(string)
		ts, err := time.Parse("2006-01-02T15:04:05-0700", d.PcapTimestamp)
		if err != nil {
			t.Fatalf("pcapTimestamp %q: %v", d.PcapTimestamp, err)
		}
		ms := ts.UnixMilli() + int64(num(d.PcapTimestampUS))/1000
		c.times = append(c.times, ms)
		a, _ := netip.ParseAddr(d.Agent)
		c.agent = a.String()
		for _, s := range d.Samples {
			elements, _ := s["elements"].([]any)
			for _, el := range elements {
				e := el.(map[string]any)
				switch {
				case s["sampleType"] == "FLOWSAMPLE" && e["flowSampleType"] == "HEADER":
					c.samples = append(c.samples, flowSample{ms: ms, key: fmt.Sprint(e["srcIP"], ",", e["dstIP"]),
						bytes: num(e["sampledPacketSize"]) * num(s["meanSkipCount"])})
				case s["sampleType"] == "COUNTERSSAMPLE" && e["counterBlock_tag"] == "0:1":
					idx := fmt.Sprint(e["ifIndex"])
					c.ifaces[idx] = append(c.ifaces[idx], ifCounters{uptime: int64(num(d.SysUpTime)), inOctets: num(e["ifInOctets"]),
						outOctets: num(e["ifOutOctets"]), outUcast: num(e["ifOutUcastPkts"]), outMulticast: num(e["ifOutMulticastPkts"]),
						speed: fmt.Sprint(e["ifSpeed"])})
				}
			}
		}
	}
	return c
}

func (c captured) last() int64 { return slices.Max(c.times) }

// TestFastReplayKeepsCaptureState replays a real capture as fast as possible
// (sflow.file.realtime=no) the ways a user defines flows first: over REST
// in an earlier run (kept in state.dir) and with -Dscript.file. After the
// replay the engine holds what the capture describes, on the capture's
// clock, for as long as it runs: every number is computed here from what
// flowrt decode -r prints for the same capture.
func TestFastReplayKeepsCaptureState(t *testing.T) {
	file := filepath.Join(testdata.Dir(t), "tcpdump_sflow-print-v6.pcap")
	want := decodeCapture(t, file)
	if len(want.samples) == 0 || len(want.ifaces) == 0 {
		t.Fatalf("the capture has %d flow samples, %d interfaces", len(want.samples), len(want.ifaces))
	}
	state := t.TempDir()
	first := startEngine(t, "-Dstate.dir="+state)
	if code, msg := first.do(t, "PUT", "/flow/pairs/json", "{keys:'ipsource,ipdestination', value:'bytes', t:20}"); code != 204 {
		t.Fatalf("PUT: %d %s", code, msg)
	}
	first.stop()
	script := filepath.Join(t.TempDir(), "flows.js")
	os.WriteFile(script, []byte("setFlow('ended', {keys:'ipsource,ipdestination', value:'bytes', t:1, log:true});\n"), 0o644)
	e := startEngine(t, "-Dstate.dir="+state, "-Dscript.file="+script, "-Dsflow.file="+file, "-Dsflow.file.realtime=no")

	var an map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		e.get(t, "/analyzer/json", &an)
		if an["sFlowDatagramsReceived"].(float64) == float64(len(want.times)) {
			break
		}
	}
	end := want.last()
	if an["clock"] != "capture" || an["clockTime"] != float64(end) {
		t.Fatalf("analyzer clock %v at %v, want the capture's, at its last datagram %d", an["clock"], an["clockTime"], end)
	}

	// The flow, smoothed as the engine documents, at the capture's end.
	const tc = 20.0
	wantFlows := map[string]float64{}
	for _, s := range want.samples {
		wantFlows[s.key] += s.bytes * math.Exp(-float64(end-s.ms)/1000/tc) / tc
	}
	check := func(when string) {
		t.Helper()
		var flows []struct {
			Key, Agent, DataSource string
			Value                  float64
		}
		e.get(t, "/activeflows/ALL/pairs/json", &flows)
		if len(flows) != len(wantFlows) {
			t.Fatalf("%s: /activeflows %+v, want %v", when, flows, wantFlows)
		}
		for _, f := range flows {
			// Within 1e-7: forward decay takes the exponential of the time
			// in time constants since 1970 (8e7 at t=20), a float64 good
			// to 1.5e-8 there.
			if w := wantFlows[f.Key]; math.Abs(f.Value-w) > 1e-7*w || f.Agent != want.agent {
				t.Errorf("%s: flow %s = %.9g bytes/s at %s, the capture says %.9g at %s", when, f.Key, f.Value, f.Agent, w, want.agent)
			}
		}
		// Counters: the rate between each interface's last two samples,
		// over the agent's uptime.
		var m map[string]any
		e.get(t, "/metric/"+want.agent+"/json", &m)
		checked := 0
		for idx, cs := range want.ifaces {
			if len(cs) < 2 {
				continue
			}
			p, l := cs[len(cs)-2], cs[len(cs)-1]
			dt := float64(l.uptime-p.uptime) / 1000
			for name, w := range map[string]float64{"ifinoctets": (l.inOctets - p.inOctets) / dt, "ifoutoctets": (l.outOctets - p.outOctets) / dt,
				"ifoutucastpkts": (l.outUcast - p.outUcast) / dt, "ifoutmulticastpkts": (l.outMulticast - p.outMulticast) / dt} {
				got, ok := m[idx+"."+name].(float64)
				if !ok || math.Abs(got-w) > 1e-9*max(1, w) {
					t.Errorf("%s: %s.%s = %v, the capture says %v", when, idx, name, m[idx+"."+name], w)
				}
				checked++
			}
			if fmt.Sprint(m[idx+".ifspeed"]) != l.speed && fmt.Sprintf("%.0f", m[idx+".ifspeed"]) != l.speed {
				t.Errorf("%s: %s.ifspeed = %v, the capture says %s", when, idx, m[idx+".ifspeed"], l.speed)
			}
		}
		if checked == 0 {
			t.Fatalf("%s: no interface with two counter samples", when)
		}
		var agents map[string]struct{ SFlowDatagramsReceived, LastSeen, FirstSeen int64 }
		e.get(t, "/agents/json", &agents)
		if a := agents[want.agent]; a.SFlowDatagramsReceived != int64(len(want.times)) || a.LastSeen != 0 || a.FirstSeen != end-want.times[0] {
			t.Errorf("%s: agent %+v, want %d datagrams, last seen 0 ms and first %d ms before the capture's end", when, a, len(want.times), end-want.times[0])
		}
	}
	check("after the replay")
	time.Sleep(1500 * time.Millisecond) // the wall clock moves on; the engine's does not
	check("1.5 s later")

	// Flows that ended inside the capture (t:1: 4 s without a sample) were
	// swept on the capture's clock and logged with its times: each record
	// is a run of samples with no 4 s gap, and its value their bytes.
	type run struct {
		start, end int64
		bytes      float64
	}
	var runs []run
	for _, s := range want.samples {
		if n := len(runs); n > 0 && s.ms-runs[n-1].end <= 4000 {
			runs[n-1].end, runs[n-1].bytes = s.ms, runs[n-1].bytes+s.bytes
			continue
		}
		runs = append(runs, run{s.ms, s.ms, s.bytes})
	}
	// A run has certainly ended once a datagram came more than 4 s after
	// it and a sweep (once a capture second, with a datagram) followed.
	maxGap := int64(0)
	for i := 1; i < len(want.times); i++ {
		maxGap = max(maxGap, want.times[i]-want.times[i-1])
	}
	var records []struct {
		Name, FlowKeys string
		Value          float64
		Start, End     int64
	}
	e.get(t, "/flows/json?name=ended&maxFlows=100", &records)
	sort.Slice(records, func(i, j int) bool { return records[i].Start < records[j].Start })
	ended := 0
	for _, r := range runs {
		if end-r.end > 4000+1000+maxGap {
			ended++
		}
	}
	if len(records) < ended || len(records) > len(runs) || ended == 0 {
		t.Fatalf("flow log %+v: want the %d runs that ended of %+v", records, ended, runs)
	}
	for i, r := range records {
		if w := runs[i]; r.Start != w.start || r.End != w.end || r.Value != w.bytes || r.FlowKeys != want.samples[0].key {
			t.Errorf("record %+v, the capture has %+v", r, w)
		}
	}
	t.Logf("replayed %d datagrams (%d flow samples, %d interfaces); %d flow records logged on the capture's clock",
		len(want.times), len(want.samples), len(want.ifaces), len(records))
}
