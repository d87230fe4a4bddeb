package export

import (
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// The messages flowrt publishes, as JSON or as protobuf (docs/flowrt.proto
// has the schema; the field numbers below are its own).

// AppendJSON appends one flow sample as a JSON object: the sample's fields
// and "keys", the values of the keys the sample has.
func (r *SampleRows) AppendJSON(dst []byte, s *flow.Sample, ms int64) []byte {
	rate := uint64(max(s.SamplingRate, 1))
	dst = append(dst, `{"time":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	dst = append(dst, `,"agent":"`...)
	dst = s.Agent.AppendTo(dst)
	dst = append(dst, `","datasource":`...)
	dst = appendJSONString(dst, s.DataSource)
	dst = append(dst, `,"dropped":`...)
	dst = strconv.AppendBool(dst, s.Dropped)
	for _, f := range []struct {
		name string
		v    uint64
	}{{`,"samplingRate":`, rate}, {`,"input":`, uint64(s.Input.Value)}, {`,"output":`, uint64(s.Output.Value)},
		{`,"frameLength":`, uint64(s.FrameLength)}, {`,"bytes":`, uint64(s.FrameLength) * rate}, {`,"frames":`, rate}} {
		dst = append(dst, f.name...)
		dst = strconv.AppendUint(dst, f.v, 10)
	}
	dst = append(dst, `,"keys":{`...)
	first := true
	for i, e := range r.exprs {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, r.Keys[i])
		dst = append(dst, ':')
		start := len(dst)
		out, ok := e.AppendValue(s, dst)
		if !ok {
			dst = dst[:mark]
			continue
		}
		dst = quoteInPlace(out, start) // the value was appended raw
		first = false
	}
	return append(dst, "}}"...)
}

// quoteInPlace turns the raw bytes from start into a JSON string.
func quoteInPlace(b []byte, start int) []byte {
	needs := false
	for _, c := range b[start:] {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			needs = true
			break
		}
	}
	if !needs {
		b = append(b, 0, 0)
		copy(b[start+1:], b[start:len(b)-2])
		b[start], b[len(b)-1] = '"', '"'
		return b
	}
	v := string(b[start:])
	return appendJSONString(b[:start], v)
}

// appendJSONString appends s as a JSON string (invalid UTF-8 as U+FFFD).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// appendCountersJSON is one data source's numeric metrics.
func appendCountersJSON(dst []byte, pts []metric.Point, ms int64) []byte {
	dst = append(dst, `{"time":`...)
	dst = strconv.AppendInt(dst, ms, 10)
	dst = append(dst, `,"agent":`...)
	dst = appendJSONString(dst, pts[0].Agent)
	dst = append(dst, `,"datasource":`...)
	dst = appendJSONString(dst, pts[0].DataSource)
	dst = append(dst, `,"metrics":{`...)
	first := true
	for _, p := range pts {
		v, ok := number(p.MetricValue)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, p.MetricName)
		dst = append(dst, ':')
		dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return append(dst, "}}"...)
}

// AppendProto appends one flow sample as a flowrt.FlowSample message.
func (r *SampleRows) AppendProto(dst []byte, s *flow.Sample, ms int64) []byte {
	rate := uint64(max(s.SamplingRate, 1))
	dst = protowire.AppendTag(dst, 1, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(ms))
	dst = protowire.AppendTag(dst, 2, protowire.BytesType)
	at := len(dst)
	dst = fixLength(s.Agent.AppendTo(append(dst, 0)), at)
	dst = protowire.AppendTag(dst, 3, protowire.BytesType)
	dst = protowire.AppendString(dst, s.DataSource)
	if s.Dropped {
		dst = protowire.AppendTag(dst, 4, protowire.VarintType)
		dst = protowire.AppendVarint(dst, 1)
	}
	for i, v := range [...]uint64{rate, uint64(s.Input.Value), uint64(s.Output.Value), uint64(s.FrameLength),
		uint64(s.FrameLength) * rate, rate} {
		dst = protowire.AppendTag(dst, protowire.Number(5+i), protowire.VarintType)
		dst = protowire.AppendVarint(dst, v)
	}
	for i, e := range r.exprs {
		// A map entry: a length-prefixed message of key (1) and value (2).
		mark := len(dst)
		dst = protowire.AppendTag(dst, 11, protowire.BytesType)
		lenAt := len(dst)
		dst = append(dst, 0) // one byte of length, moved if longer
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendString(dst, r.Keys[i])
		dst = protowire.AppendTag(dst, 2, protowire.BytesType)
		vAt := len(dst)
		dst = append(dst, 0)
		out, ok := e.AppendValue(s, dst)
		if !ok {
			dst = dst[:mark]
			continue
		}
		dst = fixLength(out, vAt)
		dst = fixLength(dst, lenAt)
	}
	return dst
}

// fixLength writes the length of what follows the placeholder byte at at,
// widening the varint when it needs more than one byte.
func fixLength(b []byte, at int) []byte {
	n := len(b) - at - 1
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		b = append(b, make([]byte, size-1)...)
		copy(b[at+size:], b[at+1:at+1+n])
	}
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}

// appendCountersProto is one data source's metrics as a flowrt.Counters
// message.
func appendCountersProto(dst []byte, pts []metric.Point, ms int64) []byte {
	dst = protowire.AppendTag(dst, 1, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(ms))
	dst = protowire.AppendTag(dst, 2, protowire.BytesType)
	dst = protowire.AppendString(dst, pts[0].Agent)
	dst = protowire.AppendTag(dst, 3, protowire.BytesType)
	dst = protowire.AppendString(dst, pts[0].DataSource)
	for _, p := range pts {
		v, ok := number(p.MetricValue)
		if !ok {
			continue
		}
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, p.MetricName)
		entry = protowire.AppendTag(entry, 2, protowire.Fixed64Type)
		entry = protowire.AppendFixed64(entry, math.Float64bits(v))
		dst = protowire.AppendTag(dst, 4, protowire.BytesType)
		dst = protowire.AppendBytes(dst, entry)
	}
	return dst
}
