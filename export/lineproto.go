package export

import (
	"math"
	"strconv"
)

// Line appends InfluxDB line protocol
// (measurement,tag=v,… field=v,… timestamp), escaping as the protocol
// says: commas and spaces in measurements; commas, equals signs and spaces
// in tag keys, tag values and field keys. Fields here are numbers.
type Line struct {
	buf    []byte
	fields int
}

// Reset empties the buffer, keeping its memory.
func (l *Line) Reset() { l.buf, l.fields = l.buf[:0], 0 }

// Bytes returns the lines written so far.
func (l *Line) Bytes() []byte { return l.buf }

// Len is the bytes written so far.
func (l *Line) Len() int { return len(l.buf) }

// Start begins a line with its measurement.
func (l *Line) Start(measurement string) {
	l.buf = appendLineEscaped(l.buf, measurement, false)
	l.fields = 0
}

// Tag adds a tag (before any field); an empty value is left out, as the
// protocol has no empty tag values.
func (l *Line) Tag(key, value string) {
	if value == "" {
		return
	}
	l.buf = append(l.buf, ',')
	l.buf = appendLineEscaped(l.buf, key, true)
	l.buf = append(l.buf, '=')
	l.buf = appendLineEscaped(l.buf, value, true)
}

// Field adds a float field; NaN and infinities, which the protocol cannot
// carry, are left out (reported by the caller's counts).
func (l *Line) Field(key string, v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if l.fields == 0 {
		l.buf = append(l.buf, ' ')
	} else {
		l.buf = append(l.buf, ',')
	}
	l.fields++
	l.buf = appendLineEscaped(l.buf, key, true)
	l.buf = append(l.buf, '=')
	l.buf = strconv.AppendFloat(l.buf, v, 'g', -1, 64)
	return true
}

// End closes the line with its timestamp in seconds; a line without
// fields is taken back (the protocol needs one).
func (l *Line) End(start int, unixSeconds int64) {
	if l.fields == 0 {
		l.buf = l.buf[:start]
		return
	}
	l.buf = append(l.buf, ' ')
	l.buf = strconv.AppendInt(l.buf, unixSeconds, 10)
	l.buf = append(l.buf, '\n')
}

func appendLineEscaped(dst []byte, s string, equals bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == ' ' || (equals && c == '='):
			dst = append(dst, '\\', c)
		case c == '\n' || c == '\r' || c == '\t':
			dst = append(dst, '\\', ' ') // no newline may end a line early
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
