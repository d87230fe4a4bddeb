package export

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/flow"
)

// SampleRows turns decoded flow samples into rows for a store or a
// stream: the sample's own fields (agent, data source, sampling rate,
// interfaces, frame length, and the bytes and packets it stands for —
// frame length × sampling rate, and the sampling rate) and the values of
// chosen flow keys, named as sFlow-RT names them. Keys are compiled once;
// a row costs no allocation.
type SampleRows struct {
	Keys    []string
	exprs   []flow.Expr
	columns []string
}

// DefaultSampleKeys are the keys a flow row carries unless told otherwise:
// enough for the usual questions (top talkers, protocols, ports,
// interfaces, VLANs), IPv4 and IPv6 alike.
var DefaultSampleKeys = []string{"macsource", "macdestination", "ethernetprotocol", "vlan", "ipsource", "ipdestination",
	"ip6source", "ip6destination", "ipprotocol", "ip6nexthdr", "tcpsourceport", "tcpdestinationport", "udpsourceport",
	"udpdestinationport", "tcpflags", "iptos"}

// NewSampleRows compiles the keys.
func NewSampleRows(c *flow.Compiler, keys []string) (*SampleRows, error) {
	r := &SampleRows{Keys: keys}
	for _, k := range keys {
		e, err := c.Key(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		r.exprs = append(r.exprs, e)
		r.columns = append(r.columns, ColumnName(k))
	}
	return r, nil
}

// ColumnName is a key as a column name: characters other than letters,
// digits and _ become _ ("ipsource.1" → ipsource_1, "asn:ipsource" →
// asn_ipsource).
func ColumnName(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, key)
}

// FixedColumns are the sample's own columns, in row order, before the keys.
var FixedColumns = []string{"time", "agent", "datasource", "dropped", "sampling_rate", "input_ifindex", "output_ifindex",
	"frame_length", "bytes", "packets"}

// Columns are every column of a row, in order.
func (r *SampleRows) Columns() []string {
	return append(append([]string{}, FixedColumns...), r.columns...)
}

// AppendTSV appends one row in ClickHouse's TabSeparated format (a key
// the sample does not have is an empty string).
func (r *SampleRows) AppendTSV(dst []byte, s *flow.Sample, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	dst = append(dst, '\t')
	dst = s.Agent.AppendTo(dst)
	dst = append(dst, '\t')
	dst = append(dst, s.DataSource...)
	dst = append(dst, '\t')
	if s.Dropped {
		dst = append(dst, '1')
	} else {
		dst = append(dst, '0')
	}
	rate := uint64(max(s.SamplingRate, 1))
	for _, v := range []uint64{rate, uint64(s.Input.Value), uint64(s.Output.Value), uint64(s.FrameLength),
		uint64(s.FrameLength) * rate, rate} {
		dst = append(dst, '\t')
		dst = strconv.AppendUint(dst, v, 10)
	}
	for _, e := range r.exprs {
		dst = append(dst, '\t')
		start := len(dst)
		out, ok := e.AppendValue(s, dst)
		if !ok {
			dst = dst[:start]
			continue
		}
		dst = escapeTSV(out, start)
	}
	return append(dst, '\n')
}

// escapeTSV escapes the value written from start (tabs, newlines and
// backslashes), in place when it has none.
func escapeTSV(b []byte, start int) []byte {
	n := 0
	for _, c := range b[start:] {
		if c == '\t' || c == '\n' || c == '\\' {
			n++
		}
	}
	if n == 0 {
		return b
	}
	v := append([]byte(nil), b[start:]...)
	b = b[:start]
	for _, c := range v {
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\':
			b = append(b, '\\', '\\')
		default:
			b = append(b, c)
		}
	}
	return b
}
