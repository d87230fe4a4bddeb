package synth

import (
	"strconv"
	"testing"

	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// The DTN mix is XRootD over IPv6 that flowrt's packet decoder reads, each
// sample with the flow's tcp_info.
func TestDTN(t *testing.T) {
	g, err := New(Config{Mix: []Proto{DTN}, Flows: 30, SamplingRate: 100})
	if err != nil {
		t.Fatal(err)
	}
	rtt := map[string]uint32{}
	for i, f := range g.Flows() {
		rtt[f.Src.String()] = DTNRTT(i)
	}
	eachDatagram(t, g, 20, func(_ int, d *sflow.Datagram) {
		for _, s := range d.Samples {
			var h sflow.SampledHeader
			var ti sflow.ExtendedTCPInfo
			if len(s.Records) != 2 || s.Records[0].Decode(&h) != nil || s.Records[1].Decode(&ti) != nil {
				t.Fatalf("records %+v", s.Records)
			}
			var p packet.Packet
			p.Decode(h.Protocol, h.Header)
			if got := string(p.Stack(nil)); got != "eth.ip6.tcp" {
				t.Fatalf("stack %q", got)
			}
			if got := key(&p, "tcpdestinationport"); got != strconv.Itoa(DTNPort) {
				t.Fatalf("tcpdestinationport %s", got)
			}
			if got := int(h.Header[18])<<8 | int(h.Header[19]); got != int(h.FrameLength)-14-40-4 {
				t.Fatalf("IPv6 payload length %d in a %d-byte frame", got, h.FrameLength)
			}
			src := key(&p, "ip6source")
			want, ok := rtt[src]
			if !ok || ti.RTT != want {
				t.Fatalf("flow from %s: tcp_info rtt %d, want %d", src, ti.RTT, want)
			}
			if l, _ := strconv.Atoi(key(&p, "ip6flowlabel")); l&0x3fefc != 0x804 {
				t.Fatalf("flow label %#x", l)
			}
		}
	})
}
