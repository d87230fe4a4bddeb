package packet

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
)

// AppendKey appends the value of flow key name (e.g. "ipsource",
// "tcpflags", "dnsqname", "macsource.1") to dst. ok is false when the
// packet has no such field (a UDP key on a TCP packet) or the key is not a
// packet key. Values are formatted as sFlow-RT formats them: MAC addresses
// as 12 upper-case hex digits, numbers in decimal, TCP flags as a 9-character
// bit string (NS CWR ECE URG ACK PSH RST SYN FIN), booleans as true/false.
//
// AppendKey looks the name up on every call; code that asks for the same
// key for every packet resolves it once with Lookup.
func (p *Packet) AppendKey(dst []byte, name string) (out []byte, ok bool) {
	k, known := Lookup(name)
	if !known {
		return dst, false
	}
	return k.Append(p, dst)
}

// Key is a packet key resolved once by Lookup: its field and tunnel level.
// The zero Key is not valid.
type Key struct {
	k     key
	level int
	stack bool
	// addr: where an address-valued key's address is in its layer (len 0:
	// not an address), so Addr can give it without formatting.
	addr addrField
}

type addrField struct{ at, len int }

// addrKeys are the address-valued keys, as keys has them (ip4At, ip6At).
var addrKeys = map[string]addrField{
	"arpipsender": {14, 4}, "arpiptarget": {24, 4},
	"ipsource": {12, 4}, "ipdestination": {16, 4},
	"ip6source": {8, 16}, "ip6destination": {24, 16},
}

// Lookup resolves a key name, with an optional ".N" tunnel-level suffix.
func Lookup(name string) (Key, bool) {
	level := 0
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 0 || n > MaxLevel {
			return Key{}, false
		}
		name, level = name[:i], n
	}
	if name == "stack" {
		return Key{stack: true}, true
	}
	k, known := keys[name]
	if !known {
		return Key{}, false
	}
	return Key{k: k, level: level, addr: addrKeys[name]}, true
}

// Append appends the key's value for packet p to dst, as AppendKey does.
func (k Key) Append(p *Packet, dst []byte) ([]byte, bool) {
	if k.stack {
		return p.Stack(dst), p.n > 0
	}
	if k.k.fn == nil {
		return dst, false
	}
	l, found := p.Find(k.k.proto, k.level)
	if !found {
		return dst, false
	}
	return k.k.fn(p, l, dst)
}

// IsAddr reports whether the key's values are IP addresses (ipsource,
// ip6destination.1, arpipsender …), which Addr gives without formatting.
func (k Key) IsAddr() bool { return k.addr.len != 0 }

// Addr returns an address-valued key's value for packet p: the address
// Append formats. ok is false where Append's is, and for keys that are
// not addresses.
func (k Key) Addr(p *Packet) (netip.Addr, bool) {
	if k.addr.len == 0 {
		return netip.Addr{}, false
	}
	l, found := p.Find(k.k.proto, k.level)
	if !found {
		return netip.Addr{}, false
	}
	o := l.Offset + k.addr.at
	if o+k.addr.len > len(p.b) {
		return netip.Addr{}, false
	}
	if k.addr.len == 4 {
		return netip.AddrFrom4([4]byte(p.b[o:])), true
	}
	return netip.AddrFrom16([16]byte(p.b[o:])), true
}

// IsKey reports whether name (without a level suffix) is a packet key.
func IsKey(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	_, ok := keys[name]
	return ok || name == "stack"
}

// Keys returns the names of the packet keys.
func Keys() []string {
	out := []string{"stack"}
	for k := range keys {
		out = append(out, k)
	}
	return out
}

type keyFunc func(p *Packet, l Layer, dst []byte) ([]byte, bool)

type key struct {
	proto Protocol
	fn    keyFunc
}

func u8At(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o >= len(p.b) {
			return dst, false
		}
		return strconv.AppendUint(dst, uint64(p.b[o]), 10), true
	}
}

func u16At(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		v, ok := p.u16(l.Offset + delta)
		return strconv.AppendUint(dst, uint64(v), 10), ok
	}
}

func u32At(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o+4 > len(p.b) {
			return dst, false
		}
		return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[o:])), 10), true
	}
}

func macAt(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o+6 > len(p.b) {
			return dst, false
		}
		return AppendMAC(dst, p.b[o:o+6]), true
	}
}

// AppendMAC appends a MAC address as the flow keys (macsource,
// macdestination) spell it: 12 upper-case hex digits.
func AppendMAC(dst, mac []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range mac {
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}

func ip4At(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o+4 > len(p.b) {
			return dst, false
		}
		return netip.AddrFrom4([4]byte(p.b[o:])).AppendTo(dst), true
	}
}

func ip6At(delta int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o+16 > len(p.b) {
			return dst, false
		}
		return netip.AddrFrom16([16]byte(p.b[o:])).AppendTo(dst), true
	}
}

func bitsAt(delta int, shift, width uint) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		o := l.Offset + delta
		if o >= len(p.b) {
			return dst, false
		}
		v := p.b[o] >> shift
		for i := int(width) - 1; i >= 0; i-- {
			dst = append(dst, '0'+(v>>uint(i))&1)
		}
		return dst, true
	}
}

func boolOf(f func(p *Packet, l Layer) (bool, bool)) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		v, ok := f(p, l)
		return strconv.AppendBool(dst, v), ok
	}
}

// etherTypeOf finds the EtherType of an Ethernet layer, after any tags.
func (p *Packet) etherTypeOf(l Layer) (uint16, bool) {
	off := l.Offset + 12
	for {
		t, ok := p.u16(off)
		if !ok {
			return 0, false
		}
		if t != 0x8100 && t != 0x88a8 && t != 0x9100 && t != 0x9200 && t != 0x9300 {
			return t, true
		}
		off += 4
	}
}

var dscpNames = map[uint8]string{0: "cs0", 8: "cs1", 10: "af11", 12: "af12", 14: "af13", 16: "cs2", 18: "af21",
	20: "af22", 22: "af23", 24: "cs3", 26: "af31", 28: "af32", 30: "af33", 32: "cs4", 34: "af41", 36: "af42",
	38: "af43", 40: "cs5", 44: "va", 46: "ef", 48: "cs6", 56: "cs7", 1: "le"}

func dscpName(dscp uint8, dst []byte) ([]byte, bool) {
	if n, ok := dscpNames[dscp]; ok {
		return append(dst, n...), true
	}
	return strconv.AppendUint(dst, uint64(dscp), 10), true
}

var keys map[string]key

func init() {
	keys = map[string]key{
		// Ethernet
		"macdestination": {Ethernet, macAt(0)},
		"macsource":      {Ethernet, macAt(6)},
		"ethernetprotocol": {Ethernet, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			t, ok := p.etherTypeOf(l)
			return strconv.AppendUint(dst, uint64(t), 10), ok
		}},
		"isunicast":   {Ethernet, boolOf(func(p *Packet, l Layer) (bool, bool) { return p.b[l.Offset]&1 == 0, true })},
		"ismulticast": {Ethernet, boolOf(func(p *Packet, l Layer) (bool, bool) { return p.b[l.Offset]&1 == 1, true })},
		"isbroadcast": {Ethernet, boolOf(func(p *Packet, l Layer) (bool, bool) {
			for _, c := range p.b[l.Offset : l.Offset+6] {
				if c != 0xff {
					return false, true
				}
			}
			return true, true
		})},
		// 802.1Q: the outer tag
		"vlan": {Dot1Q, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			v, ok := p.u16(l.Offset)
			return strconv.AppendUint(dst, uint64(v&0xfff), 10), ok
		}},
		"priority": {Dot1Q, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			v, ok := p.u16(l.Offset)
			return strconv.AppendUint(dst, uint64(v>>13), 10), ok
		}},
		// MPLS: the top label
		"mplslabel": {MPLS, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[l.Offset:])>>12), 10), true
		}},
		"mplsexp": {MPLS, bitsAt(2, 1, 3)},
		"mplsttl": {MPLS, u8At(3)},
		"mplslabels": {MPLS, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			first := true
			for _, m := range p.layers[:p.n] {
				if m.Proto == MPLS && m.Level == l.Level {
					if !first {
						dst = append(dst, '.')
					}
					first = false
					dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[m.Offset:])>>12), 10)
				}
			}
			return dst, true
		}},
		// ARP
		"arpoperation": {ARP, u16At(6)},
		"arpmacsender": {ARP, macAt(8)},
		"arpipsender":  {ARP, ip4At(14)},
		"arpmactarget": {ARP, macAt(18)},
		"arpiptarget":  {ARP, ip4At(24)},
		// IPv4
		"ipsource":      {IPv4, ip4At(12)},
		"ipdestination": {IPv4, ip4At(16)},
		"ipprotocol":    {IPv4, u8At(9)},
		"iptos":         {IPv4, u8At(1)},
		"ipdscp": {IPv4, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(p.b[l.Offset+1]>>2), 10), true
		}},
		"ipdscpname": {IPv4, func(p *Packet, l Layer, dst []byte) ([]byte, bool) { return dscpName(p.b[l.Offset+1]>>2, dst) }},
		"ipecn":      {IPv4, bitsAt(1, 0, 2)},
		"ipttl":      {IPv4, u8At(8)},
		"ipid":       {IPv4, u16At(4)},
		"ipflags":    {IPv4, bitsAt(6, 5, 3)},
		"ipfragoffset": {IPv4, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			v, _ := p.u16(l.Offset + 6)
			return strconv.AppendUint(dst, uint64(v&0x1fff), 10), true
		}},
		"ipbytes": {IPv4, u16At(2)},
		"ip_offset": {IPv4, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendInt(dst, int64(l.Offset), 10), true
		}},
		// IPv6
		"ip6source":      {IPv6, ip6At(8)},
		"ip6destination": {IPv6, ip6At(24)},
		"ip6nexthdr":     {IPv6, u8At(6)},
		"ip6ttl":         {IPv6, u8At(7)},
		"ip6tos": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(ip6TrafficClass(p.b[l.Offset:])), 10), true
		}},
		"ip6dscp": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(ip6TrafficClass(p.b[l.Offset:])>>2), 10), true
		}},
		"ip6dscpname": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return dscpName(ip6TrafficClass(p.b[l.Offset:])>>2, dst)
		}},
		"ip6ecn": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			tc := ip6TrafficClass(p.b[l.Offset:])
			return append(dst, '0'+(tc>>1)&1, '0'+tc&1), true
		}},
		"ip6flowlabel": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[l.Offset:])&0xfffff), 10), true
		}},
		"ip6bytes": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			v, _ := p.u16(l.Offset + 4)
			return strconv.AppendUint(dst, uint64(v)+40, 10), true
		}},
		"ip6fragm": {IPv6, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			_, frag := p.Find(IPv6Fragment, int(l.Level))
			if frag {
				return append(dst, "yes"...), true
			}
			return append(dst, "no"...), true
		}},
		"ip6fragoffset": {IPv6Fragment, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			v, ok := p.u16(l.Offset + 2)
			return strconv.AppendUint(dst, uint64(v>>3), 10), ok
		}},
		// TCP
		"tcpsourceport":      {TCP, u16At(0)},
		"tcpdestinationport": {TCP, u16At(2)},
		"tcpflags": {TCP, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			flags := uint16(p.b[l.Offset+12]&1)<<8 | uint16(p.b[l.Offset+13])
			for i := 8; i >= 0; i-- {
				dst = append(dst, '0'+byte(flags>>uint(i))&1)
			}
			return dst, true
		}},
		"tcpseq":    {TCP, u32At(4)},
		"tcpack":    {TCP, u32At(8)},
		"tcpwindow": {TCP, u16At(14)},
		"tcpurgent": {TCP, u16At(18)},
		"tcpheaderbytes": {TCP, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(p.b[l.Offset+12]>>4)*4, 10), true
		}},
		// UDP
		"udpsourceport":      {UDP, u16At(0)},
		"udpdestinationport": {UDP, u16At(2)},
		"udpbytes":           {UDP, u16At(4)},
		// ICMP
		"icmptype":   {ICMP, u8At(0)},
		"icmpcode":   {ICMP, u8At(1)},
		"icmpid":     {ICMP, echoField(4, 0)},
		"icmpseqno":  {ICMP, echoField(6, 0)},
		"icmp6type":  {ICMPv6, u8At(0)},
		"icmp6code":  {ICMPv6, u8At(1)},
		"icmp6id":    {ICMPv6, echoField(4, 128)},
		"icmp6seqno": {ICMPv6, echoField(6, 128)},
		// ICMP destination unreachable: what the quoted header says
		"icmpunreachablenet":      {ICMP, unreachable(0)},
		"icmpunreachablehost":     {ICMP, unreachable(1)},
		"icmpunreachableprotocol": {ICMP, unreachable(2)},
		"icmpunreachableport":     {ICMP, unreachable(3)},
		"icmp6unreachablenet":     {ICMPv6, unreachable6(0)},
		"icmp6unreachablehost":    {ICMPv6, unreachable6(3)},
		"icmp6unreachableport":    {ICMPv6, unreachable6(4)},
		// Tunnels
		"vxlanvni": {VXLAN, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[l.Offset+4:])>>8), 10), true
		}},
		"genevevni": {Geneve, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[l.Offset+4:])>>8), 10), true
		}},
		"greprotocol": {GRE, u16At(2)},
		"grevsid": {GRE, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			flags := binary.BigEndian.Uint16(p.b[l.Offset:])
			if flags&0x2000 == 0 {
				return dst, false
			}
			o := l.Offset + 4
			if flags&0x8000 != 0 {
				o += 4
			}
			if o+4 > len(p.b) {
				return dst, false
			}
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[o:])>>8), 10), true
		}},
	}
	for name, k := range dnsKeys {
		keys[name] = key{DNS, k}
	}
	for name, k := range ibbtKeys() { // ibbt.go
		keys[name] = k
	}
}

func ip6TrafficClass(b []byte) uint8 { return b[0]<<4 | b[1]>>4 }

// echoField reads the identifier or sequence number of echo messages only.
func echoField(delta int, v6base byte) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		t := p.b[l.Offset]
		echo := t == 0 || t == 8
		if v6base != 0 {
			echo = t == 128 || t == 129
		}
		if !echo {
			return dst, false
		}
		v, ok := p.u16(l.Offset + delta)
		return strconv.AppendUint(dst, uint64(v), 10), ok
	}
}

// unreachable reads the header quoted in an ICMPv4 destination unreachable
// (type 3) with the given code: the destination address (net, host), the
// protocol, or protocol_port (e.g. udp_30000).
func unreachable(code byte) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		b := p.b[l.Offset:]
		if b[0] != 3 || b[1] != code || len(b) < 8+20 {
			return dst, false
		}
		q := b[8:]
		ihl := int(q[0]&15) * 4
		if q[0]>>4 != 4 || ihl < 20 || ihl > len(q) {
			return dst, false
		}
		return quoted(dst, code, q[9], netip.AddrFrom4([4]byte(q[16:20])), q[ihl:])
	}
}

// unreachable6 is unreachable for ICMPv6 (type 1): code 0 no route (net),
// 3 address unreachable (host), 4 port unreachable.
func unreachable6(code byte) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		b := p.b[l.Offset:]
		if b[0] != 1 || b[1] != code || len(b) < 8+40 {
			return dst, false
		}
		q := b[8:]
		var as byte // the ICMPv4 code with the same meaning
		switch code {
		case 3:
			as = 1
		case 4:
			as = 3
		}
		return quoted(dst, as, q[6], netip.AddrFrom16([16]byte(q[24:40])), q[40:])
	}
}

func quoted(dst []byte, code, proto byte, addr netip.Addr, l4 []byte) ([]byte, bool) {
	switch code {
	case 0, 1:
		return addr.AppendTo(dst), true
	case 2:
		return strconv.AppendUint(dst, uint64(proto), 10), true
	}
	if len(l4) < 4 {
		return dst, false
	}
	switch proto {
	case 6:
		dst = append(dst, "tcp_"...)
	case 17:
		dst = append(dst, "udp_"...)
	case 132:
		dst = append(dst, "sctp_"...)
	default:
		return strconv.AppendUint(dst, uint64(proto), 10), true
	}
	return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(l4[2:])), 10), true
}
