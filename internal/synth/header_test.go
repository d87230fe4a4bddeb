package synth

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/flowrt/flowrt/sflow"
)

// onesSum is the ones-complement sum of b: 0xffff over a header whose
// checksum is right.
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Every sampled header agrees with itself and with its frame length, and
// each sample of a flow is a different packet. (tshark checks the same
// headers in cmd/flowrt's TestSynthHeadersWellFormedInTshark.)
func TestHeadersWellFormed(t *testing.T) {
	for _, p := range []Proto{TCP, UDP, DNS, Unreachable, Reflection, SYNFlood, RoCE} {
		t.Run(string(p), func(t *testing.T) {
			g, err := New(Config{Mix: []Proto{p}, Flows: 20, SamplingRate: 100})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{} // flow and per-packet field
			headers := 0
			eachDatagram(t, g, 50, func(_ int, d *sflow.Datagram) {
				for _, s := range d.Samples {
					h := sampledHeader(t, &s)
					headers++
					hdr, ip := h.Header, h.Header[14:]
					total := int(binary.BigEndian.Uint16(ip[2:]))
					if int(h.FrameLength) != max(14+total+int(h.Stripped), 64) || h.Stripped != 4 {
						t.Fatalf("frame of %d bytes (%d stripped) holds an IP packet of %d", h.FrameLength, h.Stripped, total)
					}
					if onesSum(ip[:20]) != 0xffff {
						t.Fatalf("IP header checksum wrong: % x", ip[:20])
					}
					l4 := ip[20:]
					var perPacket string
					switch ip[9] {
					case 17:
						if n := int(binary.BigEndian.Uint16(l4[4:])); n != total-20 {
							t.Fatalf("UDP length %d in an IP packet of %d", n, total)
						}
						if p == DNS {
							if len(hdr) != 14+total {
								t.Fatalf("DNS query sampled truncated: %d of %d bytes", len(hdr), 14+total)
							}
							perPacket = fmt.Sprint(binary.BigEndian.Uint16(l4[8:]))
						}
					case 6:
						if off := int(l4[12]>>4) * 4; off != 20 || len(l4) < off {
							t.Fatalf("TCP data offset %d, %d bytes of header", off, len(l4))
						}
						perPacket = fmt.Sprint(binary.BigEndian.Uint32(l4[4:]))
					case 1:
						if len(hdr) != 14+total || onesSum(l4) != 0xffff {
							t.Fatalf("ICMP message truncated or its checksum wrong: % x", l4)
						}
						inner := l4[8:]
						if onesSum(inner[:20]) != 0xffff || inner[9] != 17 {
							t.Fatalf("quoted datagram: % x", inner)
						}
					default:
						t.Fatalf("IP protocol %d", ip[9])
					}
					if perPacket != "" {
						k := string(hdr[26:38]) + string(l4[:4]) + perPacket
						if seen[k] {
							t.Fatalf("two samples of a flow are the same packet (%s)", perPacket)
						}
						seen[k] = true
					}
				}
			})
			t.Logf("%d headers", headers)
		})
	}
}
