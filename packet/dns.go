package packet

import (
	"encoding/binary"
	"strconv"
)

// DNS keys, named as in sFlow-RT's DNS amplification article: dnsqr false
// for a query, dnsqname "yahoo.com.", dnsqtypename "MX(15)".
var dnsKeys = map[string]keyFunc{
	"dnsid":      dnsU16(0),
	"dnsqr":      dnsBit(2, 7, 1),
	"dnsopcode":  dnsBits(2, 3, 0xf),
	"dnsaa":      dnsBit(2, 2, 1),
	"dnstc":      dnsBit(2, 1, 1),
	"dnsrd":      dnsBit(2, 0, 1),
	"dnsra":      dnsBit(3, 7, 1),
	"dnsz":       dnsBits(3, 4, 7),
	"dnsrcode":   dnsBits(3, 0, 0xf),
	"dnsqdcount": dnsU16(4),
	"dnsancount": dnsU16(6),
	"dnsnscount": dnsU16(8),
	"dnsarcount": dnsU16(10),
	"dnsqname": func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		d := p.b[l.Offset:]
		if binary.BigEndian.Uint16(d[4:]) == 0 {
			return dst, false
		}
		out, _, ok := appendName(dst, d, 12, false)
		return out, ok
	},
	"dnsqtype": func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		t, _, ok := question(p.b[l.Offset:])
		return strconv.AppendUint(dst, uint64(t), 10), ok
	},
	"dnsqtypename": func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		t, _, ok := question(p.b[l.Offset:])
		if !ok {
			return dst, false
		}
		if n := dnsTypes[t]; n != "" {
			dst = append(dst, n...)
		} else {
			dst = append(dst, "TYPE"...)
		}
		dst = append(dst, '(')
		dst = strconv.AppendUint(dst, uint64(t), 10)
		return append(dst, ')'), true
	},
	"dnsqclass": func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		_, c, ok := question(p.b[l.Offset:])
		return strconv.AppendUint(dst, uint64(c), 10), ok
	},
}

func dnsU16(off int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(p.b[l.Offset+off:])), 10), true
	}
}

func dnsBit(off int, shift uint, mask byte) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		return strconv.AppendBool(dst, (p.b[l.Offset+off]>>shift)&mask == 1), true
	}
}

func dnsBits(off int, shift uint, mask byte) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		return strconv.AppendUint(dst, uint64((p.b[l.Offset+off]>>shift)&mask), 10), true
	}
}

// question returns the type and class of the first question.
func question(d []byte) (qtype, qclass uint16, ok bool) {
	if binary.BigEndian.Uint16(d[4:]) == 0 {
		return 0, 0, false
	}
	_, end, ok := appendName(nil, d, 12, true)
	if !ok || end+4 > len(d) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(d[end:]), binary.BigEndian.Uint16(d[end+2:]), true
}

// appendName appends the domain name at off in dot-terminated form
// ("yahoo.com.", "." for the root) and returns the offset after it in the
// message. Compression pointers are followed a bounded number of times.
// With measure set it only finds the end, appending nothing.
func appendName(dst, d []byte, off int, measure bool) ([]byte, int, bool) {
	end, jumps := -1, 0
	empty := true
	for {
		if off >= len(d) {
			return dst, 0, false
		}
		n := int(d[off])
		switch {
		case n == 0:
			if end < 0 {
				end = off + 1
			}
			if empty && !measure {
				dst = append(dst, '.')
			}
			return dst, end, true
		case n&0xc0 == 0xc0:
			if off+1 >= len(d) || jumps > 16 {
				return dst, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off, jumps = int(n&0x3f)<<8|int(d[off+1]), jumps+1
		case n&0xc0 != 0:
			return dst, 0, false
		default:
			if off+1+n > len(d) {
				return dst, 0, false
			}
			if !measure {
				dst = append(dst, d[off+1:off+1+n]...)
				dst = append(dst, '.')
			}
			empty = false
			off += 1 + n
		}
	}
}

var dnsTypes = map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX",
	16: "TXT", 17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR",
	36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
	46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
	53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
	64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY",
	256: "URI", 257: "CAA"}
