package sflow

import (
	"errors"
	"strconv"
)

// Sentinel causes. Every decode error is an *Error wrapping one of these, so
// callers count failures by reason with errors.Is.
var (
	ErrTruncated   = errors.New("truncated")
	ErrVersion     = errors.New("not an sFlow version 5 datagram")
	ErrLength      = errors.New("declared length does not match contents")
	ErrAddressType = errors.New("bad address type")
	ErrLimit       = errors.New("count over limit")
)

// Reason names the sentinel behind err in a word suitable for a metric label.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrVersion):
		return "version"
	case errors.Is(err, ErrLength):
		return "length"
	case errors.Is(err, ErrAddressType):
		return "address_type"
	case errors.Is(err, ErrLimit):
		return "limit"
	default:
		return "other"
	}
}

// Error says where in a datagram decoding failed and why. Sample is the
// 1-based index of the sample (0: the datagram header), Record the 1-based
// index of the record within it (0: the sample header).
type Error struct {
	Offset int        // byte offset from the start of the datagram
	Sample int        // 1-based sample index, 0 for the datagram header
	Record int        // 1-based record index, 0 for the sample header
	Format DataFormat // format of the sample or record being decoded, if known
	Err    error      // one of the Err* sentinels

	need, have int
	value      uint32
}

func (e *Error) Error() string {
	b := []byte("sflow: ")
	if e.Sample > 0 {
		b = append(b, "sample "...)
		b = strconv.AppendInt(b, int64(e.Sample), 10)
		if e.Record > 0 {
			b = append(b, " record "...)
			b = strconv.AppendInt(b, int64(e.Record), 10)
		}
		if e.Format != 0 {
			b = append(b, " ("...)
			b = e.Format.AppendText(b)
			b = append(b, ')')
		}
		b = append(b, ' ')
	} else {
		b = append(b, "datagram header "...)
	}
	b = append(b, "at byte "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	b = append(b, ": "...)
	b = append(b, e.Err.Error()...)
	switch {
	case errors.Is(e.Err, ErrTruncated) || errors.Is(e.Err, ErrLength):
		if e.need > 0 || e.have > 0 {
			b = append(b, " (need "...)
			b = strconv.AppendInt(b, int64(e.need), 10)
			b = append(b, " bytes, have "...)
			b = strconv.AppendInt(b, int64(e.have), 10)
			b = append(b, ')')
		}
	case errors.Is(e.Err, ErrVersion), errors.Is(e.Err, ErrAddressType), errors.Is(e.Err, ErrLimit):
		b = append(b, " ("...)
		b = strconv.AppendUint(b, uint64(e.value), 10)
		b = append(b, ')')
	}
	return string(b)
}

func (e *Error) Unwrap() error { return e.Err }

// at rebases an error from a sub-reader onto the datagram and fills in the
// sample and record context the sub-reader did not know.
func (e *Error) at(base, sample, record int, f DataFormat) *Error {
	e.Offset += base
	if e.Sample == 0 {
		e.Sample = sample
	}
	if e.Record == 0 {
		e.Record = record
	}
	if e.Format == 0 {
		e.Format = f
	}
	return e
}
