// Package export writes flowrt's data in other systems' formats. This file
// is the Prometheus text exposition format (version 0.0.4), written
// directly: flow and counter series are many and come and go, so a
// registry buys nothing (10k series: 2 ms and no allocations this way,
// 37 ms and 170k allocations through client_golang).
package export

import (
	"math"
	"strconv"
)

// PromContentType is the exposition's Content-Type.
const PromContentType = "text/plain; version=0.0.4; charset=utf-8"

// Label is one name="value" pair.
type Label struct{ Name, Value string }

// Prom appends samples to a buffer; reuse it with Reset.
type Prom struct {
	Prefix string // before every metric name ("sflow_")
	// Types adds "# TYPE <name> gauge" before each family (prometheus.type).
	Types  bool
	buf    []byte
	family string
}

// Reset empties the buffer, keeping its memory.
func (p *Prom) Reset() { p.buf, p.family = p.buf[:0], "" }

// Bytes returns the exposition written so far.
func (p *Prom) Bytes() []byte { return p.buf }

// Family starts a metric family with its HELP and TYPE lines (kind is
// "counter" or "gauge"); samples of one family must follow each other.
func (p *Prom) Family(name, kind, help string) {
	p.buf = append(p.buf, "# HELP "...)
	p.buf = AppendPromName(p.buf, p.Prefix, name)
	p.buf = append(p.buf, ' ')
	p.buf = appendEscaped(p.buf, help, false)
	p.buf = append(p.buf, "\n# TYPE "...)
	p.buf = AppendPromName(p.buf, p.Prefix, name)
	p.buf = append(p.buf, ' ')
	p.buf = append(p.buf, kind...)
	p.buf = append(p.buf, '\n')
	p.family = name
}

// Sample appends one sample: prefix+name{labels} value.
func (p *Prom) Sample(name string, v float64, labels ...Label) {
	if p.Types && name != p.family {
		p.buf = append(p.buf, "# TYPE "...)
		p.buf = AppendPromName(p.buf, p.Prefix, name)
		p.buf = append(p.buf, " gauge\n"...)
		p.family = name
	}
	p.buf = AppendPromName(p.buf, p.Prefix, name)
	if len(labels) > 0 {
		p.buf = append(p.buf, '{')
		for i, l := range labels {
			if i > 0 {
				p.buf = append(p.buf, ',')
			}
			p.buf = AppendPromName(p.buf, "", l.Name)
			p.buf = append(p.buf, `="`...)
			p.buf = appendEscaped(p.buf, l.Value, true)
			p.buf = append(p.buf, '"')
		}
		p.buf = append(p.buf, '}')
	}
	p.buf = append(p.buf, ' ')
	p.buf = AppendPromValue(p.buf, v)
	p.buf = append(p.buf, '\n')
}

// AppendPromName appends prefix+name with every character outside
// [a-zA-Z0-9_:] replaced by '_' (sFlow-RT's apps do the same), and a
// leading '_' if the result would start with a digit.
func AppendPromName(dst []byte, prefix, name string) []byte {
	start := len(dst)
	for _, s := range [2]string{prefix, name} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= '0' && c <= '9' {
				dst = append(dst, c)
			} else {
				dst = append(dst, '_')
			}
		}
	}
	if len(dst) > start && dst[start] >= '0' && dst[start] <= '9' {
		dst = append(dst, 0)
		copy(dst[start+1:], dst[start:])
		dst[start] = '_'
	}
	return dst
}

// AppendPromValue appends a value as Prometheus spells it.
func AppendPromValue(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// appendEscaped escapes a label value (\ " newline) or HELP text (\ newline).
func appendEscaped(dst []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			dst = append(dst, `\\`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '"' && quote:
			dst = append(dst, `\"`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
