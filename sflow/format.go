package sflow

import (
	"encoding/hex"
	"strconv"
)

// DataFormat identifies a sample or record structure: a 20-bit enterprise
// number and a 12-bit format number, packed as on the wire. Enterprise 0 is
// sFlow.org's own space (SFLOW-STRUCTS5 and its published extensions).
type DataFormat uint32

// Tag builds a DataFormat from enterprise and format numbers.
func Tag(enterprise, format uint32) DataFormat { return DataFormat(enterprise<<12 | format&0xfff) }

func (f DataFormat) Enterprise() uint32 { return uint32(f) >> 12 }
func (f DataFormat) Format() uint32     { return uint32(f) & 0xfff }

// AppendText appends f as sflowtool prints it: "enterprise:format".
func (f DataFormat) AppendText(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(f.Enterprise()), 10)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(f.Format()), 10)
}

func (f DataFormat) String() string { return string(f.AppendText(nil)) }

// Sample formats (sample_data).
const (
	FlowSample            DataFormat = 1
	CounterSample         DataFormat = 2
	ExpandedFlowSample    DataFormat = 3
	ExpandedCounterSample DataFormat = 4
	DiscardedPacketSample DataFormat = 5
	RTMetricSample        DataFormat = 4300<<12 | 1002
	RTFlowSample          DataFormat = 4300<<12 | 1003
)

// IsFlow reports whether samples of this format carry flow records (packet
// samples and discarded-packet notifications).
func (f DataFormat) IsFlow() bool {
	return f == FlowSample || f == ExpandedFlowSample || f == DiscardedPacketSample
}

// IsCounter reports whether samples of this format carry counter records.
func (f DataFormat) IsCounter() bool { return f == CounterSample || f == ExpandedCounterSample }

// Header protocols of the sampled_header record (SFLOW-STRUCTS5).
const (
	HeaderEthernet   = 1
	HeaderTokenBus   = 2
	HeaderTokenRing  = 3
	HeaderFDDI       = 4
	HeaderFrameRelay = 5
	HeaderX25        = 6
	HeaderPPP        = 7
	HeaderSMDS       = 8
	HeaderAAL5       = 9
	HeaderAAL5IP     = 10
	HeaderIPv4       = 11
	HeaderIPv6       = 12
	HeaderMPLS       = 13
	HeaderPOS        = 14
	Header80211MAC   = 15
	Header80211AMPDU = 16
	Header80211AMSDU = 17
)

// MAC is a 48-bit MAC address, carried in XDR as opaque[6] (padded to 8).
type MAC [6]byte

// AppendHex appends the address as 12 lower-case hex digits, sflowtool's form.
func (m MAC) AppendHex(b []byte) []byte { return hex.AppendEncode(b, m[:]) }

func (m MAC) String() string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, v := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[v>>4], digits[v&15])
	}
	return string(b)
}
