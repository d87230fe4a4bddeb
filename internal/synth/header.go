package synth

import (
	"encoding/binary"
	"net/netip"
)

// The sampled headers are what a switch's sFlow agent would capture from a
// real frame: Ethernet, IPv4 and the transport header with lengths and
// checksums that agree with the frame length, so that tcpdump and tshark
// read them as well-formed packets (tshark over flowrt decode -t of synth
// traffic reports no malformed frame). A frame longer than its header is
// sampled truncated, as agents sample: the lengths in the header are those
// of the whole frame.

// fcs is the Ethernet frame check sequence, counted in the frame length and
// stripped from the header (SampledHeader.Stripped).
const fcs = 4

const (
	ethLen  = 14
	ipLen   = 20
	udpLen  = 8
	tcpLen  = 20
	icmpLen = 8
)

// buildHeader makes the first bytes of a frame of the flow and, for frames
// that are sampled whole (DNS queries, ICMP messages), sets its size.
func buildHeader(f *Flow) {
	eth := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00}
	var l4 []byte
	proto := byte(17)
	ipTotal := int(f.Size) - ethLen - fcs // a truncated frame's IP packet
	switch f.Proto {
	case TCP:
		proto = 6
		l4 = make([]byte, tcpLen)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
		binary.BigEndian.PutUint32(l4[4:], 0x10000000) // sequence: nextPacket advances it
		binary.BigEndian.PutUint32(l4[8:], 0x20000000) // acknowledgment, as a bulk sender's stays
		l4[12] = tcpLen / 4 << 4
		l4[13] = 0x10 // ACK: a segment in the middle of an established connection
		binary.BigEndian.PutUint16(l4[14:], 64240)
		f.seqAt = ethLen + ipLen + 4
	case SYNFlood:
		proto = 6
		l4 = make([]byte, tcpLen)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
		binary.BigEndian.PutUint32(l4[4:], 0x30000000) // each SYN its own initial sequence
		l4[12] = tcpLen / 4 << 4
		l4[13] = 0x02 // SYN
		binary.BigEndian.PutUint16(l4[14:], 64240)
		f.seqAt = ethLen + ipLen + 4
		ipTotal = ipLen + tcpLen
	case UDP, Reflection:
		l4 = udp(f.SrcPort, f.DstPort, ipTotal-ipLen-udpLen)
	case RoCE:
		bth := roceBTH(f)
		if f.Size == 0 { // CNP: BTH and 16 reserved bytes, then the ICRC
			ipTotal = ipLen + udpLen + len(bth) + 16 + 4
		}
		l4 = append(udp(f.SrcPort, f.DstPort, ipTotal-ipLen-udpLen), bth...)
	case DNS:
		q := dnsQuery(f.QName, f.QType)
		l4 = append(udp(f.SrcPort, 53, len(q)), q...)
		f.idAt = ethLen + ipLen + udpLen
		ipTotal = ipLen + len(l4)
	case Unreachable:
		proto = 1
		// The datagram that could not be delivered, quoted as RFC 792 has
		// it: its IP header and first 8 bytes (its UDP header).
		inner := ipv4(f.Dst, f.Src, 17, udpLen+32)
		inner = append(inner, udp(f.SrcPort, f.DstPort, 32)...)
		l4 = append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, inner...)
		binary.BigEndian.PutUint16(l4[2:], checksum(l4))
		ipTotal = ipLen + len(l4)
		// The ICMP message goes back to the sender of the datagram.
		f.Src, f.Dst = f.Dst, f.Src
	}
	var ip []byte
	if f.Proto == DTN { // TCP over IPv6 (its header is 20 bytes longer)
		binary.BigEndian.PutUint16(eth[12:], 0x86dd)
		proto = 6
		l4 = make([]byte, tcpLen)
		binary.BigEndian.PutUint16(l4[0:], f.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], f.DstPort)
		binary.BigEndian.PutUint32(l4[4:], 0x10000000)
		binary.BigEndian.PutUint32(l4[8:], 0x20000000)
		l4[12] = tcpLen / 4 << 4
		l4[13] = 0x10
		binary.BigEndian.PutUint16(l4[14:], 64240)
		ip = ipv6(f.Src, f.Dst, proto, ipTotal-ip6Len, dtnFlowLabel(f.SrcPort))
		f.seqAt = ethLen + ip6Len + 4
	} else {
		ip = ipv4(f.Src, f.Dst, proto, ipTotal-ipLen)
	}
	f.header = append(append(eth, ip...), l4...)
	f.Size = uint32(ethLen + ipTotal + fcs)
	if f.Size < minFrame { // a short packet is padded to Ethernet's minimum frame
		f.header = append(f.header, make([]byte, minFrame-fcs-len(f.header))...)
		f.Size = minFrame
	}
}

// roceBTH is the InfiniBand base transport header of the flow's packets
// (and, for RDMA WRITE Only, the RDMA extended header): a CNP when Size is
// 0, else an RDMA WRITE Only whose DMA length is the frame's payload (the
// frame less Ethernet, IP, UDP, BTH, RETH, the 4-byte ICRC and the FCS).
func roceBTH(f *Flow) []byte {
	b := make([]byte, 12, 28)
	binary.BigEndian.PutUint16(b[2:], 0xffff) // the default partition key
	qp := uint32(f.SrcPort)<<4 | 1            // a queue pair per flow
	b[5], b[6], b[7] = byte(qp>>16), byte(qp>>8), byte(qp)
	if f.Size == 0 {
		// A CNP has no solicited event and no migration state (flags 0):
		// ai-metrics counts opcode 129 with ibbtse and ibbtm false.
		b[0] = 0x81
		return b
	}
	b[1] = 0x40 // migration state set, no padding, version 0
	b[0] = 0x0a // RC RDMA WRITE Only
	b[8] = 0x80 // acknowledge request
	reth := make([]byte, 16)
	binary.BigEndian.PutUint64(reth, 0x7f0000000000+uint64(f.SrcPort)<<12) // virtual address
	binary.BigEndian.PutUint32(reth[8:], 0x1000|uint32(f.SrcPort))         // R_Key
	binary.BigEndian.PutUint32(reth[12:], RoCEDMALen(f.Size))
	return append(b, reth...)
}

// RoCEDMALen is the DMA length an RDMA WRITE Only frame of size bytes
// carries.
func RoCEDMALen(size uint32) uint32 {
	return size - ethLen - ipLen - udpLen - 12 - 16 - 4 - fcs
}

// minFrame is Ethernet's minimum frame, FCS included.
const minFrame = 64

// nextPacket makes the header that of the flow's n-th sampled packet: TCP
// sequence numbers advance by the segments between samples (rate of them),
// DNS queries get their own transaction ID.
func (f *Flow) nextPacket(n uint64, rate uint32) {
	if f.seqAt > 0 {
		segment := uint64(f.Size) - ethLen - ipLen - tcpLen - fcs
		binary.BigEndian.PutUint32(f.header[f.seqAt:], uint32(0x10000000+n*uint64(rate)*segment))
	}
	if f.idAt > 0 {
		binary.BigEndian.PutUint16(f.header[f.idAt:], uint16(0x1234+n))
	}
}

// udp is a UDP header with no checksum (0, allowed over IPv4): the
// checksum covers the payload, which a truncated sample does not hold.
func udp(src, dst uint16, payload int) []byte {
	b := make([]byte, udpLen)
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(udpLen+payload))
	return b
}

const ip6Len = 40

// ipv6 is an IPv6 header with the given flow label.
func ipv6(src, dst netip.Addr, proto byte, payload int, label uint32) []byte {
	b := make([]byte, ip6Len)
	binary.BigEndian.PutUint32(b, 6<<28|label&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(payload))
	b[6], b[7] = proto, 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return b
}

// dtnFlowLabel is a SciTag-style flow label: a fixed tag (0x804) under the
// mask the dtn app reads it with (0x3fefc), and entropy from the flow in
// bits 8 and 0, outside the mask.
func dtnFlowLabel(srcPort uint16) uint32 {
	return 2<<10 | 1<<2 | uint32(srcPort&1)<<8 | uint32(srcPort>>1&1)
}

func ipv4(src, dst netip.Addr, proto byte, payload int) []byte {
	b := make([]byte, ipLen)
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(ipLen+payload))
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b))
	return b
}

// checksum is the Internet checksum (RFC 1071) of b, whose checksum field
// is zero.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func dnsQuery(name string, qtype uint16) []byte {
	b := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}
