package sflowtool

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"

	"github.com/flowrt/flowrt/sflow"
)

// header prints a sampled_header record and the fields sflowtool decodes
// from the packet bytes (MACs, VLANs, IP and transport headers), with
// sflowtool's names and its quirks: IPID is printed with its bytes swapped,
// as sflowtool prints it on little-endian hosts, so that output compares
// equal.
func (w *Writer) header(h *sflow.SampledHeader) {
	s := &w.smp
	s.headerProtocol, s.sampledPacketSize, s.stripped, s.header = h.Protocol, h.FrameLength, h.Stripped, h.Header
	w.fieldString("flowSampleType", "HEADER")
	w.fieldU32("headerProtocol", h.Protocol)
	w.fieldU32("sampledPacketSize", h.FrameLength)
	w.fieldU32("strippedBytes", h.Stripped)
	w.fieldU32("headerLen", uint32(len(h.Header)))
	switch {
	case w.direct && w.openField("headerBytes"): // the longest value: formatted in place
		w.buf = appendHeaderHex(w.buf, h.Header)
		w.closeField()
	case !w.unseen("headerBytes"):
		w.scratch = appendHeaderHex(w.scratch[:0], h.Header)
		w.field("headerBytes", w.scratch)
	}

	ip4, ip6 := -1, -1
	switch h.Protocol {
	case sflow.HeaderEthernet:
		ip4, ip6 = w.linkLayer(h.Header)
	case sflow.HeaderIPv4:
		ip4 = 0
	case sflow.HeaderIPv6:
		ip6 = 0
	case sflow.Header80211MAC:
		w.wifiMAC(h.Header)
	case 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 16, 17:
		w.line("NO_DECODE headerProtocol=" + strconv.FormatUint(uint64(h.Protocol), 10))
	default:
		w.line("UNKNOWN headerProtocol=" + strconv.FormatUint(uint64(h.Protocol), 10))
	}
	switch {
	case ip4 >= 0:
		s.offsetToIP = ip4
		w.fieldInt("IPSize", int32(h.FrameLength-h.Stripped-uint32(ip4)))
		w.ipv4Header(h.Header, ip4)
	case ip6 >= 0:
		w.fieldInt("IPSize", int32(h.FrameLength-h.Stripped-uint32(ip6)))
		w.ipv6Header(h.Header, ip6)
	}
}

// appendHeaderHex appends the bytes as sflowtool's headerBytes: upper-case
// hex pairs joined by '-'. The longest value of a datagram, so it is
// written by index into room made once.
func appendHeaderHex(b, h []byte) []byte {
	if len(h) == 0 {
		return b
	}
	n := len(b)
	// Each two bytes are one 8-byte store "XX-YY-??" whose last two bytes
	// the next store overwrites (an odd last byte a 4-byte "XX-?"); two
	// spare bytes of room let the last store land too.
	b = slices.Grow(b, 3*len(h)+2)[:n+3*len(h)+2]
	out := b[n:]
	i := 0
	for ; i+2 <= len(h); i += 2 {
		binary.LittleEndian.PutUint64(out[3*i:], uint64(hexPairs[h[i]])|'-'<<16|uint64(hexPairs[h[i+1]])<<24|'-'<<40)
	}
	if i < len(h) {
		binary.LittleEndian.PutUint32(out[3*i:], uint32(hexPairs[h[i]])|'-'<<16)
	}
	return b[:n+3*len(h)-1]
}

// hexPairs holds each byte's two upper-case hex digits, first digit in the
// low byte.
var hexPairs = func() (t [256]uint16) {
	const hexU = "0123456789ABCDEF"
	for i := range t {
		t[i] = uint16(hexU[i>>4]) | uint16(hexU[i&15])<<8
	}
	return t
}()

func (w *Writer) fieldInt(name string, v int32) {
	if w.unseen(name) {
		return
	}
	w.scratch = strconv.AppendInt(w.scratch[:0], int64(v), 10)
	w.field(name, w.scratch)
}

// linkLayer decodes Ethernet, 802.1Q/QinQ tags and 802.2/SNAP, returning
// the offset of an IPv4 or IPv6 header (-1 when there is none).
func (w *Writer) linkLayer(b []byte) (ip4, ip6 int) {
	ip4, ip6 = -1, -1
	s := &w.smp
	if len(b) < 14 {
		return
	}
	s.ethDst, s.ethSrc = sflow.MAC(b[0:6]), sflow.MAC(b[6:12])
	w.fieldMAC("dstMAC", s.ethDst)
	w.fieldMAC("srcMAC", s.ethSrc)
	typ := uint32(binary.BigEndian.Uint16(b[12:]))
	p := 14
	for depth := 0; typ == 0x8100 || typ == 0x88A8 || typ == 0x9100 || typ == 0x9200 || typ == 0x9300; depth++ {
		if len(b)-p < 4 {
			return
		}
		tci := uint32(binary.BigEndian.Uint16(b[p:]))
		vlan, prio := tci&0xfff, tci>>13
		if depth == 0 {
			w.fieldU32("decodedVLAN", vlan)
			w.fieldU32("decodedPriority", prio)
		} else {
			w.num = strconv.AppendUint(w.num[:0], uint64(vlan), 10)
			w.fieldNumbered("decodedVLAN.", depth, w.num)
			w.num = strconv.AppendUint(w.num[:0], uint64(prio), 10)
			w.fieldNumbered("decodedPriority.", depth, w.num)
		}
		s.inVLAN = vlan
		typ = uint32(binary.BigEndian.Uint16(b[p+2:]))
		p += 4
	}
	if len(b) < 20 {
		return
	}
	at := func(i int) byte {
		if p+i < len(b) {
			return b[p+i]
		}
		return 0
	}
	if typ == 0x0200 || typ == 0x0201 || typ == 0x0600 {
		ipxLen := int(at(2))<<8 | int(at(3))
		if at(0) == 0xff && at(1) == 0xff && ipxLen >= 30 && ipxLen <= 30+546 {
			return
		}
	}
	if typ <= 1500 {
		switch {
		case at(0) == 0xAA && at(1) == 0xAA && at(2) == 0x03:
			p += 3
			if at(0) != 0 || at(1) != 0 || at(2) != 0 {
				var oui []byte
				for i := range 3 {
					if i > 0 {
						oui = append(oui, '-')
					}
					oui = hex.AppendEncode(oui, []byte{at(i)})
				}
				w.field("VSNAP_OUI", []byte(upper(oui)))
				return
			}
			p += 3
			typ = uint32(at(0))<<8 | uint32(at(1))
			p += 2
		case at(0) == 0x06 && at(1) == 0x06 && at(2)&1 != 0:
			p += 3
			typ = 0x0800
		default:
			return
		}
	}
	s.ethType = typ
	w.fieldU32("ethernet_type", typ)
	if p > len(b) {
		return
	}
	switch typ {
	case 0x0800:
		if len(b)-p >= 20 && b[p]>>4 == 4 && b[p]&15 >= 5 {
			ip4 = p
		}
	case 0x86DD:
		if len(b)-p >= 1 && b[p]>>4 == 6 {
			ip6 = p
		}
	}
	return
}

func upper(b []byte) string {
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (w *Writer) ipv4Header(b []byte, off int) {
	if len(b)-off < 20 {
		return
	}
	ip := b[off:]
	s := &w.smp
	s.ipSrc, s.ipDst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	s.proto, s.tos, s.ttl = uint32(ip[9]), uint32(ip[1]), uint32(ip[8])
	w.fieldU32("ip.tot_len", uint32(binary.BigEndian.Uint16(ip[2:])))
	w.fieldAddr("srcIP", s.ipSrc)
	w.fieldAddr("dstIP", s.ipDst)
	w.fieldU32("IPProtocol", s.proto)
	w.fieldU32("IPTOS", s.tos)
	w.fieldU32("IPTTL", s.ttl)
	w.fieldU32("IPID", uint32(binary.LittleEndian.Uint16(ip[4:])))
	if frag := binary.BigEndian.Uint16(ip[6:]) & 0x1fff; frag > 0 {
		w.fieldU32("IPFragmentOffset", uint32(frag))
		return
	}
	hl := int(ip[0]&15) * 4
	if len(ip) < hl {
		return
	}
	w.layer4(b, off+hl)
}

func (w *Writer) ipv6Header(b []byte, off int) {
	if len(b)-off < 40 {
		return
	}
	ip := b[off:]
	s := &w.smp
	if ip[0]>>4 != 6 {
		w.line("header decode error: unexpected IP version: " + strconv.Itoa(int(ip[0]>>4)))
		return
	}
	s.tos = uint32(ip[0]&15)<<4 | uint32(ip[1]>>4)
	w.fieldU32("IPTOS", s.tos)
	label := uint32(ip[1]&15)<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	w.field("IP6_label", strconv.AppendUint(append(w.scratch[:0], "0x"...), uint64(label), 16))
	if pl := binary.BigEndian.Uint16(ip[4:]); pl == 0 {
		w.fieldString("IPV6_payloadLen", "<jumbo>")
	} else {
		w.fieldU32("IPV6_payloadLen", uint32(pl))
	}
	next := uint32(ip[6])
	s.ttl = uint32(ip[7])
	w.fieldU32("IPTTL", s.ttl)
	s.ipSrc, s.ipDst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	w.fieldAddr("srcIP6", s.ipSrc)
	w.fieldAddr("dstIP6", s.ipDst)
	p := off + 40
	for next == 0 || next == 43 || next == 44 || next == 51 || next == 60 {
		w.fieldU32("IP6HeaderExtension", next)
		if len(b)-p < 2 {
			return
		}
		next = uint32(b[p])
		p += 8 * (int(b[p+1]) + 1)
		if p > len(b) {
			return
		}
	}
	s.proto = next
	w.fieldU32("IPProtocol", next)
	w.layer4(b, p)
}

func (w *Writer) layer4(b []byte, p int) {
	if p > len(b)-8 {
		return
	}
	s := &w.smp
	l4 := b[p:]
	switch s.proto {
	case 1:
		s.sport, s.dport = uint32(l4[0]), uint32(l4[1])
		w.fieldU32("ICMPType", s.sport)
		w.fieldU32("ICMPCode", s.dport)
	case 6:
		s.sport, s.dport = uint32(binary.BigEndian.Uint16(l4)), uint32(binary.BigEndian.Uint16(l4[2:]))
		if len(l4) > 13 {
			s.tcpFlags = uint32(l4[13])
		}
		w.fieldU32("TCPSrcPort", s.sport)
		w.fieldU32("TCPDstPort", s.dport)
		w.fieldU32("TCPFlags", s.tcpFlags)
	case 17:
		s.sport, s.dport = uint32(binary.BigEndian.Uint16(l4)), uint32(binary.BigEndian.Uint16(l4[2:]))
		w.fieldU32("UDPSrcPort", s.sport)
		w.fieldU32("UDPDstPort", s.dport)
		w.fieldU32("UDPBytes", uint32(binary.BigEndian.Uint16(l4[4:])))
	}
}

// wifiMAC decodes the addresses of an 802.11 data frame.
func (w *Writer) wifiMAC(b []byte) {
	if len(b) < 24 {
		return
	}
	fc := uint32(b[1])<<8 | uint32(b[0])
	if (fc>>2)&3 != 2 {
		return
	}
	toDS, fromDS := (fc>>8)&1 == 1, (fc>>9)&1 == 1
	a1, a2, a3 := sflow.MAC(b[4:10]), sflow.MAC(b[10:16]), sflow.MAC(b[16:22])
	var src, dst sflow.MAC
	switch {
	case toDS && fromDS:
		if len(b) < 30 {
			return
		}
		src, dst = sflow.MAC(b[24:30]), a3
	case toDS:
		src, dst = a2, a3
	case fromDS:
		src, dst = a3, a1
	default:
		src, dst = a2, a1
	}
	w.smp.ethSrc, w.smp.ethDst = src, dst
	w.fieldMAC("srcMAC", src)
	w.fieldMAC("dstMAC", dst)
	w.fieldMAC("txMAC", a2)
	w.fieldMAC("rxMAC", a1)
}
