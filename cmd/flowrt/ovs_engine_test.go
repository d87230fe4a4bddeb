package main_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEngineWithOpenVSwitchAndIperf runs the engine behind a real switch:
// Open vSwitch samples 1 in 2 packets between two namespaces while iperf3
// pushes a paced TCP stream. The engine's /activeflows rate for the stream
// must match iperf3's own report within 15%, and the ifinoctets metric of
// the switch port must match the veth's kernel counters within 15%.
func TestEngineWithOpenVSwitchAndIperf(t *testing.T) {
	need(t, "iperf3")
	lab := startOVS(t)
	e := startEngine(t, "-Dsflow.sockets=1")
	// t=2: within 1.1% of steady state 9 s into a steady stream; about
	// 3,400 samples in the smoothing window, so sampling noise stays under
	// 2% (one standard deviation).
	if code, msg := e.do(t, "PUT", "/flow/iperf/json",
		"{keys:'ipsource,ipdestination', value:'bytes', filter:'tcpdestinationport=5201&ipsource=198.18.0.1', t:2}"); code != 204 {
		t.Fatalf("PUT: %d %s", code, msg)
	}
	lab.sflowTo(e.sflow, 2, 1)

	srv := exec.Command("ip", "netns", "exec", "frtns2", "iperf3", "-s", "-B", "198.18.0.2", "-1")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	time.Sleep(500 * time.Millisecond)
	client := exec.Command("ip", "netns", "exec", "frtns1", "iperf3", "-c", "198.18.0.2", "-t", "12", "-b", "40M", "-J")
	var out strings.Builder
	client.Stdout = &out
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	// Mid-stream: the engine's view, and the veth's counters over the same
	// seconds (frtv1 is the switch port facing the sender: it receives the
	// stream).
	time.Sleep(6 * time.Second)
	rx0, at0 := rxBytes(t, "frtv1"), time.Now()
	time.Sleep(3 * time.Second)
	var flows []struct {
		Key   string
		Value float64
	}
	e.get(t, "/activeflows/ALL/iperf/json", &flows)
	var stats []struct {
		MetricValue float64
		MetricN     int
	}
	e.get(t, "/metric/ALL/max:ifinoctets/json?ifname=frtv1", &stats)
	vethRate := float64(rxBytes(t, "frtv1")-rx0) / time.Since(at0).Seconds()
	if err := client.Wait(); err != nil {
		t.Fatalf("iperf3: %v\n%s", err, out.String())
	}
	lab.stopSFlow()
	var rep struct {
		End struct {
			SumSent struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_sent"`
		}
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("iperf3 -J: %v", err)
	}
	iperf := rep.End.SumSent.BitsPerSecond / 8
	if len(flows) == 0 || flows[0].Key != "198.18.0.1,198.18.0.2" {
		t.Fatalf("active flows %+v\nengine log:\n%s", flows, e.log)
	}
	// sFlow counts whole frames (Ethernet, IP and TCP headers too), iperf3
	// counts payload: the frames of a 1448-byte segment are 4.6% larger.
	t.Logf("iperf3 %.0f B/s payload; engine %.0f B/s frames; veth rx %.0f B/s, ifinoctets %.0f B/s",
		iperf, flows[0].Value, vethRate, stats[0].MetricValue)
	if d := math.Abs(flows[0].Value-iperf) / iperf; d > 0.15 {
		t.Errorf("engine sees the iperf3 stream at %.0f B/s, iperf3 reports %.0f B/s (%.0f%% off)", flows[0].Value, iperf, 100*d)
	}
	if stats[0].MetricN != 1 {
		t.Fatalf("ifinoctets for ifname=frtv1: %+v", stats)
	}
	if d := math.Abs(stats[0].MetricValue-vethRate) / vethRate; d > 0.15 {
		t.Errorf("ifinoctets %.0f B/s, the veth received %.0f B/s (%.0f%% off)", stats[0].MetricValue, vethRate, 100*d)
	}
}

func rxBytes(t *testing.T, dev string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/sys/class/net/" + dev + "/statistics/rx_bytes")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
