package packet_test

import (
	"testing"

	"github.com/flowrt/flowrt/packet"
)

// BenchmarkKeys decodes every sampled header of the shared captures and
// extracts the keys of a typical five-tuple flow definition.
func BenchmarkKeys(b *testing.B) {
	headers := seedHeaders(b)
	keys := []string{"ipsource", "ipdestination", "ipprotocol", "tcpsourceport", "tcpdestinationport"}
	var p packet.Packet
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, h := range headers {
			p.Decode(h.proto, h.b)
			buf = buf[:0]
			for _, k := range keys {
				buf, _ = p.AppendKey(buf, k)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(headers)), "ns/header")
}
