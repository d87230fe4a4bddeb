// Package packet decodes the sampled packet headers carried in sFlow into
// the flow keys of sFlow-RT (ipsource, tcpflags, dnsqname, icmpunreachableport,
// ipsource.1 for the first tunnelled header …).
//
// Decoding is lazy and allocation-free: Decode walks the header once,
// reading only the fields that say which protocol comes next, and records
// each layer's protocol, tunnel level and offset. A key's value is parsed
// from the bytes only when AppendKey asks for it, so a flow definition that
// uses two keys pays for two fields, not for the whole packet.
package packet

import "encoding/binary"

// Protocol is a layer of a decoded header.
type Protocol uint8

const (
	Ethernet Protocol = iota + 1
	Dot1Q             // an 802.1Q or 802.1ad tag
	MPLS              // one MPLS label stack entry
	ARP
	IPv4
	IPv6
	IPv6Fragment
	TCP
	UDP
	ICMP
	ICMPv6
	GRE
	VXLAN
	Geneve
	DNS
	Payload // bytes after the last layer decoded
	IBBT    // InfiniBand base transport header: RoCEv2, UDP port 4791
)

var protocolNames = [...]string{Ethernet: "eth", Dot1Q: "dot1q", MPLS: "mpls", ARP: "arp", IPv4: "ip",
	IPv6: "ip6", IPv6Fragment: "ip6frag", TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPv6: "icmp6", GRE: "gre",
	VXLAN: "vxlan", Geneve: "geneve", DNS: "dns", Payload: "payload", IBBT: "ibbt"}

func (p Protocol) String() string {
	if int(p) < len(protocolNames) && protocolNames[p] != "" {
		return protocolNames[p]
	}
	return "unknown"
}

// Header protocols of sFlow's sampled_header record that Decode understands.
const (
	HeaderEthernet = 1
	HeaderIPv4     = 11
	HeaderIPv6     = 12
)

// Layer is one decoded layer.
type Layer struct {
	Proto  Protocol
	Level  uint8 // 0 for the outer packet, 1 inside the first tunnel, …
	Offset int   // offset of the layer's header in the sampled bytes
}

// MaxLayers bounds the layers recorded for one header; deeper layers (a
// pathological stack of tags or tunnels) are not decoded.
const MaxLayers = 24

// MaxLevel is the deepest tunnel level decoded.
const MaxLevel = 3

// Packet is a decoded header. The zero value is ready for Decode; a Packet
// is reused from one header to the next and refers to the bytes it was
// given, which must not change while it is in use.
type Packet struct {
	b      []byte
	layers [MaxLayers]Layer
	n      int
}

// Decode walks the header. headerProtocol is the sampled_header's
// header_protocol (1 Ethernet, 11 IPv4, 12 IPv6); other protocols decode to
// no layers.
func (p *Packet) Decode(headerProtocol uint32, b []byte) {
	p.b, p.n = b, 0
	switch headerProtocol {
	case HeaderEthernet:
		p.ethernet(0, 0)
	case HeaderIPv4:
		p.ip(0, 0, 4)
	case HeaderIPv6:
		p.ip(0, 0, 6)
	}
}

// Bytes returns the header bytes given to Decode.
func (p *Packet) Bytes() []byte { return p.b }

// Layers returns the decoded layers, outermost first.
func (p *Packet) Layers() []Layer { return p.layers[:p.n] }

// Find returns the first layer of the given protocol at the given tunnel
// level.
func (p *Packet) Find(proto Protocol, level int) (Layer, bool) {
	for _, l := range p.layers[:p.n] {
		if l.Proto == proto && int(l.Level) == level {
			return l, true
		}
	}
	return Layer{}, false
}

func (p *Packet) add(proto Protocol, level, off int) bool {
	if p.n == MaxLayers {
		return false
	}
	p.layers[p.n] = Layer{Proto: proto, Level: uint8(level), Offset: off}
	p.n++
	return true
}

func (p *Packet) u16(off int) (uint16, bool) {
	if off < 0 || off+2 > len(p.b) {
		return 0, false
	}
	return binary.BigEndian.Uint16(p.b[off:]), true
}

func (p *Packet) ethernet(off, level int) {
	if len(p.b)-off < 14 || !p.add(Ethernet, level, off) {
		return
	}
	p.etherType(off+12, level)
}

// etherType continues from the two-byte type at off.
func (p *Packet) etherType(off, level int) {
	for {
		t, ok := p.u16(off)
		if !ok {
			return
		}
		next := off + 2
		switch t {
		case 0x8100, 0x88a8, 0x9100, 0x9200, 0x9300:
			if len(p.b)-next < 4 || !p.add(Dot1Q, level, next) {
				return
			}
			off = next + 2
			continue
		case 0x0800:
			p.ip(next, level, 4)
		case 0x86dd:
			p.ip(next, level, 6)
		case 0x0806:
			if len(p.b)-next >= 28 {
				p.add(ARP, level, next)
			}
		case 0x8847, 0x8848:
			p.mpls(next, level)
		default:
			if t <= 1500 {
				p.llc(next, level)
			} else if next < len(p.b) {
				p.add(Payload, level, next)
			}
		}
		return
	}
}

// llc follows an 802.3 length field: SNAP with an EtherType, or nothing.
func (p *Packet) llc(off, level int) {
	if len(p.b)-off >= 8 && p.b[off] == 0xAA && p.b[off+1] == 0xAA && p.b[off+2] == 3 &&
		p.b[off+3] == 0 && p.b[off+4] == 0 && p.b[off+5] == 0 {
		p.etherType(off+6, level)
	}
}

func (p *Packet) mpls(off, level int) {
	for len(p.b)-off >= 4 {
		if !p.add(MPLS, level, off) {
			return
		}
		bos := p.b[off+2]&1 == 1
		off += 4
		if bos {
			// No protocol field: guess from the first nibble, as analysers do.
			if off < len(p.b) {
				switch p.b[off] >> 4 {
				case 4:
					p.ip(off, level, 4)
				case 6:
					p.ip(off, level, 6)
				}
			}
			return
		}
	}
}

func (p *Packet) ip(off, level, version int) {
	b := p.b
	switch version {
	case 4:
		if len(b)-off < 20 || b[off]>>4 != 4 {
			return
		}
		ihl := int(b[off]&15) * 4
		if ihl < 20 || len(b)-off < ihl || !p.add(IPv4, level, off) {
			return
		}
		if binary.BigEndian.Uint16(b[off+6:])&0x1fff != 0 {
			return // not the first fragment: no transport header
		}
		p.transport(b[off+9], off+ihl, level, false)
	case 6:
		if len(b)-off < 40 || b[off]>>4 != 6 || !p.add(IPv6, level, off) {
			return
		}
		next, q := b[off+6], off+40
		for {
			switch next {
			case 0, 43, 60, 51: // hop-by-hop, routing, destination options, AH
				if len(b)-q < 8 {
					return
				}
				n := (int(b[q+1]) + 1) * 8
				if next == 51 {
					n = (int(b[q+1]) + 2) * 4
				}
				next, q = b[q], q+n
				continue
			case 44: // fragment
				if len(b)-q < 8 || !p.add(IPv6Fragment, level, q) {
					return
				}
				if binary.BigEndian.Uint16(b[q+2:])&0xfff8 != 0 {
					return
				}
				next, q = b[q], q+8
				continue
			}
			break
		}
		p.transport(next, q, level, true)
	}
}

func (p *Packet) transport(proto byte, off, level int, v6 bool) {
	b := p.b
	switch proto {
	case 6:
		if len(b)-off >= 14 {
			p.add(TCP, level, off)
		}
	case 17:
		if len(b)-off < 8 || !p.add(UDP, level, off) {
			return
		}
		sport, dport := binary.BigEndian.Uint16(b[off:]), binary.BigEndian.Uint16(b[off+2:])
		q := off + 8
		switch {
		case dport == 4789 || sport == 4789:
			if len(b)-q >= 8 && level < MaxLevel && p.add(VXLAN, level, q) {
				p.ethernet(q+8, level+1)
			}
		case dport == 6081:
			if len(b)-q >= 8 && level < MaxLevel && p.add(Geneve, level, q) {
				optLen := int(b[q]&0x3f) * 4
				p.tunnelled(binary.BigEndian.Uint16(b[q+2:]), q+8+optLen, level+1)
			}
		case dport == 4791:
			if len(b)-q >= 12 {
				p.add(IBBT, level, q)
			}
		case dport == 53 || sport == 53 || dport == 5353 || sport == 5353:
			if len(b)-q >= 12 {
				p.add(DNS, level, q)
			}
		}
	case 1:
		if len(b)-off >= 4 && !v6 {
			p.add(ICMP, level, off)
		}
	case 58:
		if len(b)-off >= 4 && v6 {
			p.add(ICMPv6, level, off)
		}
	case 47:
		p.gre(off, level)
	case 4:
		if level < MaxLevel {
			p.ip(off, level+1, 4)
		}
	case 41:
		if level < MaxLevel {
			p.ip(off, level+1, 6)
		}
	}
}

func (p *Packet) gre(off, level int) {
	b := p.b
	if len(b)-off < 4 || level >= MaxLevel || !p.add(GRE, level, off) {
		return
	}
	flags := binary.BigEndian.Uint16(b[off:])
	q := off + 4
	if flags&0x8000 != 0 { // checksum present
		q += 4
	}
	if flags&0x2000 != 0 { // key (NVGRE: VSID)
		q += 4
	}
	if flags&0x1000 != 0 { // sequence
		q += 4
	}
	p.tunnelled(binary.BigEndian.Uint16(b[off+2:]), q, level+1)
}

// tunnelled decodes the payload of a GRE or Geneve tunnel, whose protocol
// field is an EtherType (0x6558: a whole Ethernet frame).
func (p *Packet) tunnelled(proto uint16, off, level int) {
	switch proto {
	case 0x6558:
		p.ethernet(off, level)
	case 0x0800:
		p.ip(off, level, 4)
	case 0x86dd:
		p.ip(off, level, 6)
	}
}

// Stack returns the protocol stack as sFlow-RT's stack key shows it, e.g.
// "eth.ip.udp.dns", appended to dst.
func (p *Packet) Stack(dst []byte) []byte {
	for i, l := range p.layers[:p.n] {
		if l.Proto == Payload {
			continue
		}
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = append(dst, l.Proto.String()...)
	}
	return dst
}
