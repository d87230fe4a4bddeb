package agent

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// connOf reads the TCP or UDP connection of a sampled Ethernet frame (one
// 802.1Q tag at most; IPv4 first fragments or unfragmented; IPv6 with the
// transport header first), seen from this host: a frame the host sent has
// its local socket at the source, one it received at the destination.
func connOf(frame []byte, outgoing bool) (Conn, bool) {
	if len(frame) < 14 {
		return Conn{}, false
	}
	et, off := binary.BigEndian.Uint16(frame[12:]), 14
	if et == 0x8100 && len(frame) >= 18 {
		et, off = binary.BigEndian.Uint16(frame[16:]), 18
	}
	var proto uint8
	var src, dst netip.Addr
	ip := frame[off:]
	switch et {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return Conn{}, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ihl < 20 || binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 { // a later fragment has no ports
			return Conn{}, false
		}
		proto = ip[9]
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		ip = ip[min(ihl, len(ip)):]
	case 0x86dd:
		if len(ip) < 40 {
			return Conn{}, false
		}
		proto = ip[6]
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		ip = ip[40:]
	default:
		return Conn{}, false
	}
	if proto != unix.IPPROTO_TCP && proto != unix.IPPROTO_UDP || len(ip) < 4 {
		return Conn{}, false
	}
	s := netip.AddrPortFrom(src, binary.BigEndian.Uint16(ip[0:]))
	d := netip.AddrPortFrom(dst, binary.BigEndian.Uint16(ip[2:]))
	if outgoing {
		return Conn{Proto: proto, Local: s, Remote: d}, true
	}
	return Conn{Proto: proto, Local: d, Remote: s}, true
}
