package pcap

import "testing"

// IPProtocol reads the IP protocol through each link layer DecodeUDP
// handles, and says "not IP" for ARP.
func TestIPProtocol(t *testing.T) {
	ip4 := func(proto byte) []byte { b := make([]byte, 20); b[0], b[9] = 0x45, proto; return b }
	ip6 := func(next byte) []byte { b := make([]byte, 40); b[0], b[6] = 0x60, next; return b }
	eth := func(et uint16, rest []byte) []byte {
		return append(append(make([]byte, 12), byte(et>>8), byte(et)), rest...)
	}
	for _, c := range []struct {
		name  string
		link  uint32
		frame []byte
		proto uint8
		ok    bool
	}{
		{"ethernet TCP", LinkEthernet, eth(0x0800, ip4(6)), 6, true},
		{"802.1Q ICMPv6", LinkEthernet, eth(0x8100, append([]byte{0, 5, 0x86, 0xdd}, ip6(58)...)), 58, true},
		{"ARP", LinkEthernet, eth(0x0806, make([]byte, 28)), 0, false},
		{"Linux cooked UDP", LinkLinuxSLL, append(append(make([]byte, 14), 0x08, 0), ip4(17)...), 17, true},
		{"raw IPv6 TCP", LinkRaw, ip6(6), 6, true},
		{"BSD loopback ICMP", LinkNull, append([]byte{2, 0, 0, 0}, ip4(1)...), 1, true},
		{"truncated", LinkEthernet, eth(0x0800, ip4(6)[:10]), 0, false},
	} {
		if p, ok := IPProtocol(c.link, c.frame); p != c.proto || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.name, p, ok, c.proto, c.ok)
		}
	}
}
