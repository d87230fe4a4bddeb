// Package pcap reads classic libpcap and pcapng capture files and writes
// classic libpcap streams, enough for sFlow: it finds the UDP datagrams in a
// capture (Ethernet, Linux cooked, raw IP and BSD loopback link types, IPv4
// and IPv6, 802.1Q tags) and writes Ethernet frames for tcpdump and tshark.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Link types.
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkRaw      = 101
	LinkLinuxSLL = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
)

// Packet is one captured frame.
type Packet struct {
	Time     time.Time
	LinkType uint32
	Data     []byte // valid until the next call to Next
	OrigLen  uint32
}

// Reader reads packets from a pcap or pcapng stream.
type Reader struct {
	r     *bufio.Reader
	buf   []byte
	ng    bool
	order binary.ByteOrder
	nano  bool   // classic: nanosecond timestamps
	link  uint32 // classic: the file's link type
	// pcapng: per-interface link type and timestamp resolution
	ifLink []uint32
	ifRes  []time.Duration
}

// NewReader reads the file header and returns a Reader.
func NewReader(r io.Reader) (*Reader, error) {
	pr := &Reader{r: bufio.NewReaderSize(r, 1<<16)}
	var hdr [24]byte
	if _, err := io.ReadFull(pr.r, hdr[:4]); err != nil {
		return nil, fmt.Errorf("pcap: reading file header: %w", err)
	}
	magic := binary.LittleEndian.Uint32(hdr[:4])
	switch magic {
	case 0xa1b2c3d4, 0xa1b23c4d:
		pr.order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		pr.order = binary.BigEndian
	case 0x0a0d0d0a:
		pr.ng = true
		var h [8]byte
		if _, err := io.ReadFull(pr.r, h[4:]); err != nil {
			return nil, fmt.Errorf("pcapng: reading section header: %w", err)
		}
		return pr, pr.sectionFrom(h)
	default:
		return nil, fmt.Errorf("pcap: not a pcap or pcapng file (magic %08x)", magic)
	}
	pr.nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1
	if _, err := io.ReadFull(pr.r, hdr[4:]); err != nil {
		return nil, fmt.Errorf("pcap: reading file header: %w", err)
	}
	pr.link = pr.order.Uint32(hdr[20:]) & 0x0fffffff
	return pr, nil
}

// Next returns the next packet, or io.EOF at the end of the capture.
func (pr *Reader) Next() (Packet, error) {
	if pr.ng {
		return pr.nextNG()
	}
	var h [16]byte
	if _, err := io.ReadFull(pr.r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Packet{}, fmt.Errorf("pcap: truncated record header: %w", err)
		}
		return Packet{}, err
	}
	sec, frac := pr.order.Uint32(h[0:]), pr.order.Uint32(h[4:])
	capLen, origLen := pr.order.Uint32(h[8:]), pr.order.Uint32(h[12:])
	if capLen > 1<<20 {
		return Packet{}, fmt.Errorf("pcap: record of %d bytes is too large; the file is corrupt", capLen)
	}
	data, err := pr.read(int(capLen))
	if err != nil {
		return Packet{}, fmt.Errorf("pcap: truncated record: %w", err)
	}
	ns := int64(frac) * 1000
	if pr.nano {
		ns = int64(frac)
	}
	return Packet{Time: time.Unix(int64(sec), ns).UTC(), LinkType: pr.link, Data: data, OrigLen: origLen}, nil
}

func (pr *Reader) read(n int) ([]byte, error) {
	if cap(pr.buf) < n {
		pr.buf = make([]byte, n)
	}
	pr.buf = pr.buf[:n]
	_, err := io.ReadFull(pr.r, pr.buf)
	return pr.buf, err
}

// pcapng block types.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 1
	blockSPB = 3
	blockEPB = 6
)

func (pr *Reader) nextNG() (Packet, error) {
	for {
		var h [8]byte
		if _, err := io.ReadFull(pr.r, h[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return Packet{}, fmt.Errorf("pcapng: truncated block header: %w", err)
			}
			return Packet{}, err
		}
		if binary.LittleEndian.Uint32(h[:4]) == blockSHB {
			// A new section may switch byte order.
			if err := pr.sectionFrom(h); err != nil {
				return Packet{}, err
			}
			continue
		}
		typ, n := pr.order.Uint32(h[:4]), pr.order.Uint32(h[4:])
		if n < 12 || n%4 != 0 || n > 1<<20 {
			return Packet{}, fmt.Errorf("pcapng: bad block length %d", n)
		}
		body, err := pr.read(int(n) - 8)
		if err != nil {
			return Packet{}, fmt.Errorf("pcapng: truncated block: %w", err)
		}
		body = body[:len(body)-4] // trailing length
		switch typ {
		case blockIDB:
			if len(body) < 8 {
				return Packet{}, fmt.Errorf("pcapng: short interface block")
			}
			pr.ifLink = append(pr.ifLink, uint32(pr.order.Uint16(body)))
			pr.ifRes = append(pr.ifRes, pr.tsResolution(body[8:]))
		case blockEPB:
			if len(body) < 20 {
				return Packet{}, fmt.Errorf("pcapng: short packet block")
			}
			id := pr.order.Uint32(body)
			if int(id) >= len(pr.ifLink) {
				return Packet{}, fmt.Errorf("pcapng: packet for unknown interface %d", id)
			}
			ts := uint64(pr.order.Uint32(body[4:]))<<32 | uint64(pr.order.Uint32(body[8:]))
			capLen, origLen := pr.order.Uint32(body[12:]), pr.order.Uint32(body[16:])
			if int(capLen) > len(body)-20 {
				return Packet{}, fmt.Errorf("pcapng: packet longer than its block")
			}
			res := pr.ifRes[id]
			t := time.Unix(0, 0).Add(time.Duration(ts/uint64(time.Second/res))*time.Second + time.Duration(ts%uint64(time.Second/res))*res)
			return Packet{Time: t.UTC(), LinkType: pr.ifLink[id], Data: body[20 : 20+capLen], OrigLen: origLen}, nil
		case blockSPB:
			if len(body) < 4 || len(pr.ifLink) == 0 {
				return Packet{}, fmt.Errorf("pcapng: bad simple packet block")
			}
			origLen := pr.order.Uint32(body)
			data := body[4:]
			if int(origLen) < len(data) {
				data = data[:origLen]
			}
			return Packet{LinkType: pr.ifLink[0], Data: data, OrigLen: origLen}, nil
		}
	}
}

func (pr *Reader) sectionFrom(h [8]byte) error {
	var bom [4]byte
	if _, err := io.ReadFull(pr.r, bom[:]); err != nil {
		return fmt.Errorf("pcapng: reading section header: %w", err)
	}
	switch binary.LittleEndian.Uint32(bom[:]) {
	case 0x1a2b3c4d:
		pr.order = binary.LittleEndian
	case 0x4d3c2b1a:
		pr.order = binary.BigEndian
	default:
		return fmt.Errorf("pcapng: bad byte-order magic")
	}
	n := pr.order.Uint32(h[4:])
	if n < 28 || n%4 != 0 || n > 1<<20 {
		return fmt.Errorf("pcapng: bad section header length %d", n)
	}
	if _, err := pr.read(int(n) - 12); err != nil {
		return fmt.Errorf("pcapng: reading section header: %w", err)
	}
	pr.ifLink, pr.ifRes = pr.ifLink[:0], pr.ifRes[:0]
	return nil
}

// tsResolution reads the if_tsresol option (default microseconds).
func (pr *Reader) tsResolution(opts []byte) time.Duration {
	for len(opts) >= 4 {
		code, n := pr.order.Uint16(opts), int(pr.order.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 9 && n >= 1 {
			v := opts[4]
			if v&0x80 == 0 && v <= 9 {
				d := time.Second
				for range v {
					d /= 10
				}
				return d
			}
		}
		opts = opts[4+(n+3)&^3:]
	}
	return time.Microsecond
}

// UDP is a UDP datagram found in a captured frame.
type UDP struct {
	Src, Dst netip.AddrPort
	Payload  []byte
}

// DecodeUDP finds the UDP datagram in a frame of the given link type. ok is
// false for anything else (ARP, TCP, IP fragments after the first…).
func DecodeUDP(link uint32, b []byte) (u UDP, ok bool) {
	et, b, ok := network(link, b)
	if !ok {
		return u, false
	}
	return decodeIP(et, b)
}

// IPProtocol returns the protocol number a frame's IP header names (6 TCP,
// 17 UDP, 1 ICMP, 58 ICMPv6…), so that a capture without sFlow can be
// described; ok is false for frames that carry no IP packet (ARP, LLDP…).
func IPProtocol(link uint32, b []byte) (proto uint8, ok bool) {
	et, b, ok := network(link, b)
	switch {
	case !ok:
	case et == 0x0800 && len(b) >= 20 && b[0]>>4 == 4:
		return b[9], true
	case et == 0x86dd && len(b) >= 40 && b[0]>>4 == 6:
		return b[6], true
	}
	return 0, false
}

// network strips the link layer: the EtherType of what follows and its bytes.
func network(link uint32, b []byte) (ethertype uint16, rest []byte, ok bool) {
	switch link {
	case LinkEthernet:
		if len(b) < 14 {
			return 0, nil, false
		}
		et, p := binary.BigEndian.Uint16(b[12:]), 14
		for (et == 0x8100 || et == 0x88a8) && len(b) >= p+4 {
			et, p = binary.BigEndian.Uint16(b[p+2:]), p+4
		}
		return et, b[p:], true
	case LinkLinuxSLL:
		if len(b) < 16 {
			return 0, nil, false
		}
		return binary.BigEndian.Uint16(b[14:]), b[16:], true
	case LinkRaw, LinkIPv4, LinkIPv6:
		if len(b) < 1 {
			return 0, nil, false
		}
		if b[0]>>4 == 6 {
			return 0x86dd, b, true
		}
		return 0x0800, b, true
	case LinkNull:
		if len(b) < 4 {
			return 0, nil, false
		}
		fam := binary.LittleEndian.Uint32(b)
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(b)
		}
		if fam == 2 {
			return 0x0800, b[4:], true
		}
		return 0x86dd, b[4:], true
	}
	return 0, nil, false
}

func decodeIP(ethertype uint16, b []byte) (u UDP, ok bool) {
	var src, dst netip.Addr
	switch ethertype {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 {
			return u, false
		}
		ihl := int(b[0]&15) * 4
		if ihl < 20 || len(b) < ihl || b[9] != 17 || binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return u, false
		}
		if tot := int(binary.BigEndian.Uint16(b[2:])); tot >= ihl && tot <= len(b) {
			b = b[:tot]
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:]
	case 0x86dd:
		if len(b) < 40 || b[0]>>4 != 6 || b[6] != 17 {
			return u, false
		}
		if pl := int(binary.BigEndian.Uint16(b[4:])); pl > 0 && 40+pl <= len(b) {
			b = b[:40+pl]
		}
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
	default:
		return u, false
	}
	if len(b) < 8 {
		return u, false
	}
	payload := b[8:]
	if n := int(binary.BigEndian.Uint16(b[4:])); n >= 8 && n-8 <= len(payload) {
		payload = payload[:n-8]
	}
	return UDP{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b)),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:])),
		Payload: payload,
	}, true
}

// Writer writes a classic libpcap stream (microsecond timestamps).
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter writes the file header for link type link and snapshot length
// snaplen and returns a Writer.
func NewWriter(w io.Writer, link, snaplen uint32) (*Writer, error) {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], link)
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &Writer{w: w}, nil
}

// WritePacket writes one record. Each record goes out in a single Write, so
// a reader on the other end of a pipe never sees half a packet.
func (pw *Writer) WritePacket(t time.Time, origLen uint32, parts ...[]byte) error {
	b := pw.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()/1000))
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, max(origLen, uint32(n)))
	for _, p := range parts {
		b = append(b, p...)
	}
	pw.buf = b
	_, err := pw.w.Write(b)
	return err
}
