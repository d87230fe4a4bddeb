package main_test

import (
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// TestSendSockets: flowrt send spreads its agents over one source port
// each by default, and sends every agent from one with -sockets 1 (one
// exporter, or a relay: what SO_REUSEPORT hashes to a single socket).
func TestSendSockets(t *testing.T) {
	for _, c := range []struct {
		args  []string
		ports int
	}{{nil, 4}, {[]string{"-sockets", "1"}, 1}, {[]string{"-sockets", "2"}, 2}} {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"send", "-to", conn.LocalAddr().String(), "-agents", "4", "-count", "40", "-rate", "2000",
			"-counters", "0"}, c.args...)
		if out, err := exec.Command(flowrt, args...).CombinedOutput(); err != nil {
			t.Fatalf("flowrt %v: %v\n%s", args, err, out)
		}
		ports := map[uint16]bool{}
		agents := map[netip.Addr]bool{}
		var d sflow.Datagram
		buf := make([]byte, 65536)
		for range 40 {
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("%v: %v", c.args, err)
			}
			ports[uint16(from.(*net.UDPAddr).Port)] = true
			if sflow.Decode(buf[:n], &d) == nil {
				agents[d.Agent] = true
			}
		}
		conn.Close()
		if len(ports) != c.ports || len(agents) != 4 {
			t.Errorf("flowrt %v: 4 agents sent from %d source ports (want %d), %d agents received", args, len(ports), c.ports, len(agents))
		}
	}
}
