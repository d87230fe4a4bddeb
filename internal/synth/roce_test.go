package synth

import (
	"strconv"
	"testing"

	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// flowrt's own packet decoder reads the RoCE mix as RoCEv2: UDP 4791 with a
// base transport header, RDMA WRITE Only frames whose RDMA length is the
// payload, and one flow in CNPEvery a congestion notification — the keys
// ai-metrics filters on.
func TestRoCEDecodes(t *testing.T) {
	g, err := New(Config{Mix: []Proto{RoCE}, Flows: 64, SamplingRate: 100})
	if err != nil {
		t.Fatal(err)
	}
	writes, cnps := 0, 0
	eachDatagram(t, g, 40, func(_ int, d *sflow.Datagram) {
		for _, s := range d.Samples {
			h := sampledHeader(t, &s)
			var p packet.Packet
			p.Decode(h.Protocol, h.Header)
			if got := key(&p, "udpdestinationport"); got != "4791" {
				t.Fatalf("udpdestinationport %s", got)
			}
			if got := string(p.Stack(nil)); got != "eth.ip.udp.ibbt" {
				t.Fatalf("stack %q", got)
			}
			switch op := key(&p, "ibbtopcode"); op {
			case "10":
				writes++
				if key(&p, "ibbtm") != "true" {
					t.Fatalf("RDMA WRITE's migration state %s", key(&p, "ibbtm"))
				}
				if got, want := key(&p, "ibbtrdmalen"), strconv.Itoa(int(RoCEDMALen(h.FrameLength))); got != want || h.FrameLength != 1086 {
					t.Fatalf("RDMA WRITE of a %d-byte frame: ibbtrdmalen %s, want %s", h.FrameLength, got, want)
				}
				if got := key(&p, "ibbtopname"); got != "RDMA_WRITE_ONLY" {
					t.Fatalf("ibbtopname %q", got)
				}
			case "129":
				cnps++
				if got := key(&p, "ibbtoptransport"); got != "CNP" {
					t.Fatalf("CNP's transport %q", got)
				}
				if key(&p, "ibbtse") != "false" || key(&p, "ibbtm") != "false" {
					t.Fatalf("CNP flags se=%s m=%s", key(&p, "ibbtse"), key(&p, "ibbtm"))
				}
			default:
				t.Fatalf("ibbtopcode %s", op)
			}
		}
	})
	if writes == 0 || cnps == 0 {
		t.Fatalf("%d RDMA WRITEs, %d CNPs: want both", writes, cnps)
	}
	t.Logf("%d RDMA WRITEs, %d CNPs", writes, cnps)
}
