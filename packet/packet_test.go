package packet_test

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowrt/flowrt/packet"
)

// build serializes layers with gopacket (used here as an independent
// fixture builder, never in flowrt itself).
func build(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var network gopacket.NetworkLayer
	for _, l := range ls {
		switch v := l.(type) {
		case *layers.IPv4:
			network = v
		case *layers.IPv6:
			network = v
		case *layers.TCP:
			v.SetNetworkLayerForChecksum(network)
		case *layers.UDP:
			v.SetNetworkLayerForChecksum(network)
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	macA = net.HardwareAddr{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = net.HardwareAddr{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}
)

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 61, TOS: 0xb9, Id: 4242, Flags: layers.IPv4DontFragment,
		Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func dnsQuery() []byte {
	return []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		5, 'y', 'a', 'h', 'o', 'o', 3, 'c', 'o', 'm', 0, 0, 15, 0, 1}
}

func keysOf(t *testing.T, proto uint32, b []byte, want map[string]string) {
	t.Helper()
	var p packet.Packet
	p.Decode(proto, b)
	for k, v := range want {
		got, ok := p.AppendKey(nil, k)
		if v == "<none>" {
			if ok {
				t.Errorf("%s = %q, want no value", k, got)
			}
			continue
		}
		if !ok || string(got) != v {
			t.Errorf("%s = %q (ok %v), want %q; stack %s", k, got, ok, v, p.Stack(nil))
		}
	}
}

func TestDNSQuery(t *testing.T) {
	b := build(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "8.8.8.8", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 43801, DstPort: 53}, gopacket.Payload(dnsQuery()))
	keysOf(t, packet.HeaderEthernet, b, map[string]string{
		"stack": "eth.ip.udp.dns", "macsource": "001122334455", "macdestination": "66778899AABB",
		"ethernetprotocol": "2048", "ipsource": "10.0.0.1", "ipdestination": "8.8.8.8", "ipprotocol": "17",
		"ipttl": "61", "iptos": "185", "ipdscp": "46", "ipdscpname": "ef", "ipecn": "01", "ipflags": "010",
		"ipid": "4242", "udpsourceport": "43801", "udpdestinationport": "53", "dnsqr": "false",
		"dnsqname": "yahoo.com.", "dnsqtype": "15", "dnsqtypename": "MX(15)", "dnsqclass": "1",
		"dnsopcode": "0", "dnsrd": "true", "dnsra": "false", "dnsqdcount": "1", "dnsancount": "0",
		"dnsid": "4660", "tcpflags": "<none>", "isunicast": "true",
	})
}

func TestTCPFlagsAndIPv6(t *testing.T) {
	ip := &layers.IPv6{Version: 6, TrafficClass: 0x2a, FlowLabel: 0x12345, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	tcp := &layers.TCP{SrcPort: 46026, DstPort: 22, SYN: true, ACK: true, Window: 29200}
	tcp.SetNetworkLayerForChecksum(ip)
	b := build(t, eth(layers.EthernetTypeIPv6), ip, tcp)
	keysOf(t, packet.HeaderEthernet, b, map[string]string{
		"stack": "eth.ip6.tcp", "ip6source": "2001:db8::1", "ip6destination": "2001:db8::2", "ip6nexthdr": "6",
		"ip6flowlabel": "74565", "ip6tos": "42", "ip6dscp": "10", "ip6ecn": "10", "ip6ttl": "64",
		"tcpsourceport": "46026", "tcpdestinationport": "22", "tcpflags": "000010010", "tcpwindow": "29200",
		"ip6fragm": "no", "ipsource": "<none>",
	})
}

func TestICMPUnreachablePort(t *testing.T) {
	quoted := build(t, ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolUDP), &layers.UDP{SrcPort: 5555, DstPort: 30000})
	b := build(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quoted))
	keysOf(t, packet.HeaderEthernet, b, map[string]string{
		"icmptype": "3", "icmpcode": "3", "icmpunreachableport": "udp_30000",
		"icmpunreachablehost": "<none>", "icmpunreachablenet": "<none>", "icmpseqno": "<none>",
	})
	b = build(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 1)}, gopacket.Payload(quoted))
	keysOf(t, packet.HeaderEthernet, b, map[string]string{"icmpunreachablehost": "10.0.0.1"})
	b = build(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 2)}, gopacket.Payload(quoted))
	keysOf(t, packet.HeaderEthernet, b, map[string]string{"icmpunreachableprotocol": "17"})
}

func TestVXLANInnerKeys(t *testing.T) {
	inner := build(t, &layers.Ethernet{SrcMAC: macB, DstMAC: macA, EthernetType: layers.EthernetTypeIPv4},
		ip4("192.168.1.1", "192.168.1.2", layers.IPProtocolTCP), &layers.TCP{SrcPort: 1000, DstPort: 80, SYN: true})
	vx := []byte{0x08, 0, 0, 0, 0, 0x30, 0x39, 0} // VNI 12345
	b := build(t, eth(layers.EthernetTypeIPv4), ip4("10.1.1.1", "10.2.2.2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 50000, DstPort: 4789}, gopacket.Payload(append(vx, inner...)))
	keysOf(t, packet.HeaderEthernet, b, map[string]string{
		"stack": "eth.ip.udp.vxlan.eth.ip.tcp", "vxlanvni": "12345", "ipsource": "10.1.1.1",
		"ipsource.1": "192.168.1.1", "ipdestination.1": "192.168.1.2", "macsource.1": "66778899AABB",
		"tcpflags.1": "000000010", "tcpdestinationport.1": "80", "ipsource.2": "<none>",
	})
}

func TestQinQAndARP(t *testing.T) {
	b := build(t, eth(layers.EthernetTypeQinQ),
		&layers.Dot1Q{VLANIdentifier: 1062, Priority: 3, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 1493, Type: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: macA, SourceProtAddress: net.IP{10, 0, 0, 30}.To4(),
			DstHwAddress: make([]byte, 6), DstProtAddress: net.IP{10, 0, 0, 232}.To4()})
	keysOf(t, packet.HeaderEthernet, b, map[string]string{
		"stack": "eth.dot1q.dot1q.arp", "vlan": "1062", "priority": "3", "ethernetprotocol": "2054",
		"arpoperation": "1", "arpipsender": "10.0.0.30", "arpiptarget": "10.0.0.232",
	})
}

func TestRawIPv4Header(t *testing.T) {
	b := build(t, ip4("1.2.3.4", "5.6.7.8", layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2})
	keysOf(t, packet.HeaderIPv4, b, map[string]string{"stack": "ip.udp", "ipsource": "1.2.3.4", "udpdestinationport": "2"})
}

func TestAppendKeyAllocatesNothing(t *testing.T) {
	b := build(t, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "8.8.8.8", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 43801, DstPort: 53}, gopacket.Payload(dnsQuery()))
	var p packet.Packet
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(1000, func() {
		p.Decode(packet.HeaderEthernet, b)
		buf = buf[:0]
		for _, k := range []string{"ipsource", "ipdestination", "udpsourceport", "dnsqname", "dnsqtypename", "stack", "ipsource.1"} {
			buf, _ = p.AppendKey(buf, k)
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode + AppendKey allocated %v times per packet, want 0", allocs)
	}
}

// FuzzDecode checks that no input makes Decode or any key panic, and that
// the layer walk agrees with gopacket on the outer IPv4 addresses.
func FuzzDecode(f *testing.F) {
	f.Add(uint32(1), build(f, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "8.8.8.8", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 43801, DstPort: 53}, gopacket.Payload(dnsQuery())))
	quoted := build(f, ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolUDP), &layers.UDP{SrcPort: 5555, DstPort: 30000})
	f.Add(uint32(1), build(f, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quoted)))
	f.Add(uint32(11), quoted)
	// RoCEv2: a BTH with an AETH, then one with an XRC RETH cut short.
	f.Add(uint32(1), build(f, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 49152, DstPort: 4791}, gopacket.Payload([]byte{0x11, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 1, 0x0d, 0, 0, 7})))
	f.Add(uint32(1), build(f, eth(layers.EthernetTypeIPv4), ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 49152, DstPort: 4791}, gopacket.Payload([]byte{0xac, 0, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2})))
	for _, s := range seedHeaders(f) {
		f.Add(s.proto, s.b)
	}
	names := packet.Keys()
	f.Fuzz(func(t *testing.T, proto uint32, b []byte) {
		var p packet.Packet
		p.Decode(proto%13, b)
		for _, k := range names {
			for _, suffix := range []string{"", ".1", ".2"} {
				p.AppendKey(nil, k+suffix)
			}
		}
		if proto%13 != packet.HeaderEthernet {
			return
		}
		g := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Lazy)
		gip, _ := g.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		l, ok := p.Find(packet.IPv4, 0)
		if gip == nil || gip.SrcIP == nil || !ok || l.Offset != 14 {
			return // gopacket and flowrt walk tags and tunnels differently
		}
		src, _ := p.AppendKey(nil, "ipsource")
		if string(src) != gip.SrcIP.String() {
			t.Fatalf("ipsource %s, gopacket says %s", src, gip.SrcIP)
		}
	})
}
