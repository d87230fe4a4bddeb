package sflow

import (
	"encoding/binary"
	"math"
	"net/netip"
)

// reader walks XDR data (RFC 4506: big-endian, every item padded to four
// bytes) with a sticky error, in the manner of Prometheus' Decbuf: once a read
// runs past the end, every later read returns zero and err stays set, so a
// decoder checks err once per structure instead of after every field.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(need int) {
	if r.err == nil {
		r.err = &Error{Offset: r.off, Err: ErrTruncated, need: need, have: len(r.b) - r.off}
	}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

// take returns the next n bytes (n itself, not padded) and advances past the
// XDR padding that follows them.
func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	padded := (n + 3) &^ 3
	if n < 0 || padded > len(r.b)-r.off {
		r.fail(padded)
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += padded
	return v
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 4 {
		r.fail(4)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 8 {
		r.fail(8)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) f32() float32 { return math.Float32frombits(r.u32()) }
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

// opaque reads a variable-length opaque<> or string<>: a length then the bytes.
// The result aliases the datagram.
func (r *reader) opaque() []byte {
	n := r.u32()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail(int(min(n, math.MaxInt32)))
		return nil
	}
	return r.take(int(n))
}

// tagged reads the framing shared by samples and records: a data format, a
// length, and that many bytes. A length that overruns what is left is
// ErrLength (the agent's framing is wrong), not ErrTruncated.
func (r *reader) tagged() (DataFormat, []byte) {
	start := r.off
	format := DataFormat(r.u32())
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(r.remaining()) {
		r.err = &Error{Offset: start + 4, Err: ErrLength, need: int(min(n, 1<<30)), have: r.remaining()}
	}
	return format, r.take(int(n))
}

// address reads the sFlow address union: a type (1 = IPv4, 2 = IPv6, 0 =
// unknown) followed by the address bytes.
func (r *reader) address() netip.Addr {
	switch t := r.u32(); t {
	case 0:
		return netip.Addr{}
	case 1:
		return r.ip4()
	case 2:
		return r.ip6()
	default:
		if r.err == nil {
			r.err = &Error{Offset: r.off - 4, Err: ErrAddressType, value: t}
		}
		return netip.Addr{}
	}
}

func (r *reader) ip4() netip.Addr {
	b := r.take(4)
	if b == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func (r *reader) ip6() netip.Addr {
	b := r.take(16)
	if b == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

// writer is reader's append-side twin.
type writer struct{ b []byte }

func (w *writer) u32(v uint32)  { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)  { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) f32(v float32) { w.u32(math.Float32bits(v)) }
func (w *writer) f64(v float64) { w.u64(math.Float64bits(v)) }

func (w *writer) pad(n int) {
	for ; n%4 != 0; n++ {
		w.b = append(w.b, 0)
	}
}

func (w *writer) fixed(v []byte) {
	w.b = append(w.b, v...)
	w.pad(len(v))
}

func (w *writer) opaque(v []byte) {
	w.u32(uint32(len(v)))
	w.fixed(v)
}

func (w *writer) address(a netip.Addr) {
	switch {
	case !a.IsValid():
		w.u32(0)
	case a.Is4():
		w.u32(1)
		w.ip4(a)
	default:
		w.u32(2)
		w.ip6(a)
	}
}

func (w *writer) ip4(a netip.Addr) {
	v := a.Unmap().As4()
	w.b = append(w.b, v[:]...)
}

func (w *writer) ip6(a netip.Addr) {
	v := a.As16()
	w.b = append(w.b, v[:]...)
}

// lengthAt reserves a length word and returns its position; closeLength later
// fills it with the number of bytes written since.
func (w *writer) lengthAt() int {
	w.u32(0)
	return len(w.b)
}

func (w *writer) closeLength(at int) {
	binary.BigEndian.PutUint32(w.b[at-4:], uint32(len(w.b)-at))
}
