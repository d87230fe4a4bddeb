package export

import (
	"encoding/binary"
	"net/netip"
	"unsafe"
)

// The wire forms of IPFIX (RFC 7011, version 10) and NetFlow version 9
// (RFC 3954): both are a header, then sets of templates and of data
// records; they differ in the header, the template set's id (2 or 0) and in
// how time is told (v9 counts the exporter's uptime).

// Element is an information element of a template: its IANA id and the
// length flowrt sends it with.
type Element struct {
	ID, Length uint16
}

// Information elements (IANA's IPFIX registry; NetFlow v9 uses the same
// numbers for these).
const (
	ieOctetDeltaCount          = 1
	iePacketDeltaCount         = 2
	ieProtocolIdentifier       = 4
	ieIPClassOfService         = 5
	ieTCPControlBits           = 6
	ieSourceTransportPort      = 7
	ieSourceIPv4Address        = 8
	ieIngressInterface         = 10
	ieDestinationTransportPort = 11
	ieDestinationIPv4Address   = 12
	ieEgressInterface          = 14
	ieLastSwitched             = 21 // v9: sysUpTime ms of the last packet
	ieFirstSwitched            = 22
	ieSourceIPv6Address        = 27
	ieDestinationIPv6Address   = 28
	ieSourceMacAddress         = 56
	ieVlanID                   = 58
	ieDestinationMacAddress    = 80
	ieFlowStartMilliseconds    = 152
	ieFlowEndMilliseconds      = 153
	ieNextHeaderIPv6           = 193
	ieDot1qPriority            = 244
	ieEthernetType             = 256
)

// valueKind says how a flow key's text becomes the element's bytes.
type valueKind uint8

const (
	kindUint valueKind = iota // decimal → big-endian unsigned of the element's length
	kindMAC                   // 12 hex digits → 6 bytes
	kindIPv4
	kindIPv6
	kindIfIndex // an ifIndex, or unknown/internal/discard/multiple → 0
)

// keyElement is how a flow key is sent.
type keyElement struct {
	Element
	kind valueKind
}

// keyElements maps each key flow.IPFIXKeys allows to its element.
// ip6nexthdr is protocolIdentifier (which IANA defines for IPv6's next
// header too) unless ipprotocol is also a key, then nextHeaderIPv6.
var keyElements = map[string]keyElement{
	"macsource":          {Element{ieSourceMacAddress, 6}, kindMAC},
	"macdestination":     {Element{ieDestinationMacAddress, 6}, kindMAC},
	"ethernetprotocol":   {Element{ieEthernetType, 2}, kindUint},
	"vlan":               {Element{ieVlanID, 2}, kindUint},
	"priority":           {Element{ieDot1qPriority, 1}, kindUint},
	"ipprotocol":         {Element{ieProtocolIdentifier, 1}, kindUint},
	"ipsource":           {Element{ieSourceIPv4Address, 4}, kindIPv4},
	"ipdestination":      {Element{ieDestinationIPv4Address, 4}, kindIPv4},
	"ip6source":          {Element{ieSourceIPv6Address, 16}, kindIPv6},
	"ip6destination":     {Element{ieDestinationIPv6Address, 16}, kindIPv6},
	"ip6nexthdr":         {Element{ieProtocolIdentifier, 1}, kindUint},
	"tcpsourceport":      {Element{ieSourceTransportPort, 2}, kindUint},
	"tcpdestinationport": {Element{ieDestinationTransportPort, 2}, kindUint},
	"udpsourceport":      {Element{ieSourceTransportPort, 2}, kindUint},
	"udpdestinationport": {Element{ieDestinationTransportPort, 2}, kindUint},
	"inputifindex":       {Element{ieIngressInterface, 4}, kindIfIndex},
	"outputifindex":      {Element{ieEgressInterface, 4}, kindIfIndex},
}

// appendValue appends the element's bytes for a key's text; ok is false
// when the text is not what the key spells (nothing is appended then).
func (k keyElement) appendValue(dst, v []byte) ([]byte, bool) {
	switch k.kind {
	case kindMAC:
		if len(v) != 12 {
			return dst, false
		}
		for i := 0; i < 12; i += 2 {
			hi, ok1 := unhex(v[i])
			lo, ok2 := unhex(v[i+1])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst, true
	case kindIPv4, kindIPv6:
		a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(v), len(v)))
		if err != nil || (k.kind == kindIPv4) != a.Is4() {
			return dst, false
		}
		return append(dst, a.AsSlice()...), true
	case kindIfIndex:
		if n, ok := parseUint(v); ok {
			return appendUintN(dst, n, int(k.Length)), true
		}
		switch string(v) {
		case "unknown", "internal", "discard", "multiple":
			return appendUintN(dst, 0, int(k.Length)), true
		}
		return dst, false
	}
	n, ok := parseUint(v)
	if !ok || k.Length < 8 && n >= 1<<(8*k.Length) {
		return dst, false
	}
	return appendUintN(dst, n, int(k.Length)), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// appendUintN appends n big-endian in size bytes.
func appendUintN(dst []byte, n uint64, size int) []byte {
	for i := size - 1; i >= 0; i-- {
		dst = append(dst, byte(n>>(8*i)))
	}
	return dst
}

// Message builds one IPFIX or NetFlow v9 message at a time.
type Message struct {
	Version uint16 // 10 (IPFIX) or 9
	Domain  uint32 // observation domain (IPFIX), source id (v9)
	Buf     []byte
	set     int // offset of the open set's header, -1 when none
	records int // records in the message (v9's header counts them)
}

// Start begins a message; seq is the IPFIX sequence number (data records
// sent before this message) or v9's (messages sent before it). unixSec is
// the export time; uptimeMs is v9's sysUpTime.
func (m *Message) Start(unixSec, seq, uptimeMs uint32) {
	m.Buf, m.set, m.records = m.Buf[:0], -1, 0
	if m.Version == 9 {
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, 9)
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, 0) // count, at End
		m.Buf = binary.BigEndian.AppendUint32(m.Buf, uptimeMs)
		m.Buf = binary.BigEndian.AppendUint32(m.Buf, unixSec)
	} else {
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, 10)
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, 0) // length, at End
		m.Buf = binary.BigEndian.AppendUint32(m.Buf, unixSec)
	}
	m.Buf = binary.BigEndian.AppendUint32(m.Buf, seq)
	m.Buf = binary.BigEndian.AppendUint32(m.Buf, m.Domain)
}

// Empty reports whether the message has no record yet.
func (m *Message) Empty() bool { return m.records == 0 }

// Records is the number of records in the message.
func (m *Message) Records() int { return m.records }

// openSet starts a set of id unless the open one is it.
func (m *Message) openSet(id uint16) {
	if m.set >= 0 && binary.BigEndian.Uint16(m.Buf[m.set:]) == id {
		return
	}
	m.closeSet()
	m.set = len(m.Buf)
	m.Buf = binary.BigEndian.AppendUint16(m.Buf, id)
	m.Buf = binary.BigEndian.AppendUint16(m.Buf, 0)
}

// closeSet pads the open set to 4 bytes (v9 asks for it; IPFIX allows
// it) and writes its length.
func (m *Message) closeSet() {
	if m.set < 0 {
		return
	}
	if m.Version == 9 {
		for (len(m.Buf)-m.set)%4 != 0 {
			m.Buf = append(m.Buf, 0)
		}
	}
	binary.BigEndian.PutUint16(m.Buf[m.set+2:], uint16(len(m.Buf)-m.set))
	m.set = -1
}

// Template adds a template record.
func (m *Message) Template(id uint16, fields []Element) {
	setID := uint16(2)
	if m.Version == 9 {
		setID = 0
	}
	m.openSet(setID)
	m.Buf = binary.BigEndian.AppendUint16(m.Buf, id)
	m.Buf = binary.BigEndian.AppendUint16(m.Buf, uint16(len(fields)))
	for _, f := range fields {
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, f.ID)
		m.Buf = binary.BigEndian.AppendUint16(m.Buf, f.Length)
	}
	m.records++
}

// Data opens (or continues) the data set of template id; the caller
// appends the record's fields to Buf, then calls Done.
func (m *Message) Data(id uint16) { m.openSet(id) }

// Done counts a data record appended after Data.
func (m *Message) Done() { m.records++ }

// End closes the message and returns it.
func (m *Message) End() []byte {
	m.closeSet()
	if m.Version == 9 {
		binary.BigEndian.PutUint16(m.Buf[2:], uint16(m.records))
	} else {
		binary.BigEndian.PutUint16(m.Buf[2:], uint16(len(m.Buf)))
	}
	return m.Buf
}

// TemplateLen is the bytes a template of n fields adds (with a set header).
func TemplateLen(n int) int { return 4 + 4 + 4*n }
