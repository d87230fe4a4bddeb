package main_test

import (
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// TestSendLoopedCaptureCounts: flowrt send -r loops a capture; its report
// counts the samples of every datagram sent, later loops included, as a
// receiver that decodes what arrives counts them (loss figures divide by it).
func TestSendLoopedCaptureCounts(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// One datagram of six flow samples and one counter sample, sent 75 times.
	capture := filepath.Join(testdata.Dir(t), "gopacket_SFlowTestPacket1.pcap")
	out, err := exec.Command(flowrt, "send", "-to", conn.LocalAddr().String(), "-r", capture, "-rate", "1000", "-count", "75").Output()
	if err != nil {
		t.Fatalf("flowrt send: %v", err)
	}
	var rep struct{ Datagrams, FlowSamples, CounterSamples int }
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("flowrt send printed %s: %v", out, err)
	}
	var flows, counters int
	var d sflow.Datagram
	buf := make([]byte, 65536)
	for range rep.Datagrams {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d flow and %d counter samples: %v", flows, counters, err)
		}
		if err := sflow.Decode(buf[:n], &d); err != nil {
			t.Fatalf("flowrt send sent a datagram sflow.Decode refuses: %v", err)
		}
		for _, s := range d.Samples {
			if s.Format.IsFlow() {
				flows++
			} else if s.Format.IsCounter() {
				counters++
			}
		}
	}
	if rep.Datagrams != 75 || rep.FlowSamples != flows || rep.CounterSamples != counters || flows == 0 {
		t.Errorf("send reported %d datagrams, %d flow and %d counter samples; received 75 datagrams of %d flow and %d counter samples",
			rep.Datagrams, rep.FlowSamples, rep.CounterSamples, flows, counters)
	}
}
