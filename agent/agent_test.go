package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// TestRun runs the agent against a UDP socket on 127.0.0.1 for a few
// polling intervals (under -race in scripts/test): the datagrams decode,
// carry the host's data source 2.1 with the host records, and each
// collector's sequence numbers go 1, 2, 3… As root it also samples lo,
// where its own datagrams pass, 1 in 1.
func TestRun(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	// As root the agent samples its own datagrams on lo, 1 in 1, so they
	// come fast: a socket buffer the kernel's default size would overflow
	// under the race detector on a busy machine, which is not the agent's
	// fault; a gap in the sequence numbers must mean the agent skipped one.
	pc.(*net.UDPConn).SetReadBuffer(16 << 20)
	cfg := DefaultConfig()
	cfg.Polling = 300 * time.Millisecond
	cfg.AgentIP = netip.MustParseAddr("192.0.2.1")
	cfg.Collectors = []Collector{{netip.MustParseAddrPort(pc.LocalAddr().String())}}
	root := os.Geteuid() == 0
	if root {
		cfg.Devices = []Device{{Name: "lo", Sampling: 1}}
	}
	a, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	var d sflow.Datagram
	// The first flow sample is checked as it arrives: its record's bytes
	// alias buf, which the next datagram overwrites.
	var firstFlow error
	seq, hosts, flows := uint32(0), 0, 0
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		if err := sflow.Decode(buf[:n], &d); err != nil {
			t.Fatalf("datagram %d does not decode: %v", seq+1, err)
		}
		seq++
		if d.Sequence != seq || d.Agent != cfg.AgentIP {
			t.Errorf("datagram %d: sequence %d, agent %v", seq, d.Sequence, d.Agent)
		}
		for _, s := range d.Samples {
			switch {
			case s.Format == sflow.CounterSample && s.SourceClass == hostClass && s.SourceIndex == hostIndex:
				hosts++
				if len(s.Records) < 10 {
					t.Errorf("host sample with %d records", len(s.Records))
				}
			case s.Format == sflow.FlowSample:
				flows++
				if flows == 1 {
					var h sflow.SampledHeader
					if err := s.Records[0].Decode(&h); err != nil {
						firstFlow = err
					} else if h.FrameLength < uint32(len(h.Header)) {
						firstFlow = fmt.Errorf("frame length %d shorter than its %d header bytes", h.FrameLength, len(h.Header))
					}
				}
			}
		}
		if hosts >= 3 && (!root || flows > 0) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if hosts < 3 {
		t.Errorf("%d host counter samples in %d datagrams, want 3", hosts, seq)
	}
	if root {
		if flows == 0 {
			t.Fatal("no flow samples from lo")
		}
		if firstFlow != nil {
			t.Errorf("first flow sample's sampled header: %v", firstFlow)
		}
	}
	t.Logf("%d datagrams, %d host samples, %d flow samples", seq, hosts, flows)
}
