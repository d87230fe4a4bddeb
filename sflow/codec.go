package sflow

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"sync"
	"unsafe"
)

// The record structures are plain Go structs in wire order. Rather than
// hand-write a decoder and an encoder for each of ~80 structures (and risk the
// two drifting apart), a plan is built once per type from its fields and
// interpreted for every record. Decoding writes into a value the caller owns
// and reuses; slices keep their capacity, so steady-state decoding allocates
// nothing.
//
// The plan records each field's offset and kind, checked against its type
// once, when the plan is built; the interpreter then writes fields through
// unsafe pointers. Going through reflect.Value for every field cost more than
// the decoding itself (per-call exported and assignable checks; see
// docs/performance.md).

type opKind uint8

const (
	opU32 opKind = iota
	opI32
	opU64
	opF32
	opF64
	opAddr
	opIP4
	opIP6
	opBytes    // opaque<> / string<>
	opFixed    // opaque[N]
	opU32Slice // unsigned int<>
	opMACSlice // opaque mac[6]<>
	opStruct
	opStructSlice
	opMore
)

type fieldOp struct {
	index  int
	offset uintptr
	kind   opKind
	size   int          // opFixed: N
	sub    *plan        // opStruct, opStructSlice
	typ    reflect.Type // opStructSlice: the slice type
}

type plan struct {
	typ reflect.Type
	ops []fieldOp
	// fixed is the encoded size when every field has a fixed size (most
	// counter structures): one bounds check then covers the whole record.
	// -1 otherwise.
	fixed int
}

func fixedSize(op fieldOp) int {
	switch op.kind {
	case opU32, opI32, opF32, opIP4:
		return 4
	case opU64, opF64:
		return 8
	case opIP6:
		return 16
	case opFixed:
		return (op.size + 3) &^ 3
	case opStruct:
		return op.sub.fixed
	}
	return -1
}

var plans sync.Map // reflect.Type → *plan

var (
	addrType = reflect.TypeFor[netip.Addr]()
	macType  = reflect.TypeFor[MAC]()
)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{typ: t}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		op := fieldOp{index: i, offset: f.Offset, typ: f.Type}
		switch {
		case f.Type == addrType:
			switch f.Tag.Get("xdr") {
			case "ip4":
				op.kind = opIP4
			case "ip6":
				op.kind = opIP6
			default:
				op.kind = opAddr
			}
		case f.Type.Kind() == reflect.Bool && f.Tag.Get("xdr") == "more":
			op.kind = opMore
		case f.Type.Kind() == reflect.Uint32:
			op.kind = opU32
		case f.Type.Kind() == reflect.Int32:
			op.kind = opI32
		case f.Type.Kind() == reflect.Uint64:
			op.kind = opU64
		case f.Type.Kind() == reflect.Float32:
			op.kind = opF32
		case f.Type.Kind() == reflect.Float64:
			op.kind = opF64
		case f.Type.Kind() == reflect.Array && f.Type.Elem().Kind() == reflect.Uint8:
			op.kind, op.size = opFixed, f.Type.Len()
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8:
			op.kind = opBytes
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint32:
			op.kind = opU32Slice
		case f.Type.Kind() == reflect.Slice && f.Type.Elem() == macType:
			op.kind = opMACSlice
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			op.kind, op.sub = opStructSlice, planFor(f.Type.Elem())
		case f.Type.Kind() == reflect.Struct:
			op.kind, op.sub = opStruct, planFor(f.Type)
		default:
			panic(fmt.Sprintf("sflow: no XDR mapping for %s.%s (%s)", t, f.Name, f.Type))
		}
		p.ops = append(p.ops, op)
	}
	for _, op := range p.ops {
		n := fixedSize(op)
		if n < 0 {
			p.fixed = -1
			break
		}
		p.fixed += n
	}
	plans.Store(t, p)
	return p
}

// maxElems bounds any variable-length array so a lying count cannot make
// the decoder allocate: every element takes at least four bytes, so more
// elements than a quarter of the bytes left is already a lie.
func (r *reader) count() int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if int64(n) > int64(r.remaining()/4) {
		r.err = &Error{Offset: r.off - 4, Err: ErrLimit, value: n}
		return 0
	}
	return int(n)
}

func (p *plan) decode(r *reader, base unsafe.Pointer) {
	if p.fixed >= 0 && r.err == nil && r.remaining() >= p.fixed {
		p.decodeFixed(r.b[r.off:r.off+p.fixed], base)
		r.off += p.fixed
		return
	}
	for i := range p.ops {
		op := &p.ops[i]
		f := unsafe.Add(base, op.offset)
		switch op.kind {
		case opU32:
			*(*uint32)(f) = r.u32()
		case opI32:
			*(*int32)(f) = int32(r.u32())
		case opU64:
			*(*uint64)(f) = r.u64()
		case opF32:
			*(*float32)(f) = r.f32()
		case opF64:
			*(*float64)(f) = r.f64()
		case opAddr:
			*(*netip.Addr)(f) = r.address()
		case opIP4:
			*(*netip.Addr)(f) = r.ip4()
		case opIP6:
			*(*netip.Addr)(f) = r.ip6()
		case opBytes:
			*(*[]byte)(f) = r.opaque()
		case opFixed:
			dst := unsafe.Slice((*byte)(f), op.size)
			if b := r.take(op.size); b != nil {
				copy(dst, b)
			} else {
				clear(dst)
			}
		case opU32Slice:
			n := r.count()
			s := (*[]uint32)(f)
			*s = (*s)[:0]
			for range n {
				*s = append(*s, r.u32())
			}
		case opMACSlice:
			n := r.count()
			s := (*[]MAC)(f)
			*s = (*s)[:0]
			for range n {
				var m MAC
				if b := r.take(6); b != nil {
					m = MAC(b)
				}
				*s = append(*s, m)
			}
		case opStruct:
			op.sub.decode(r, f)
		case opStructSlice:
			n := r.count()
			sv := reflect.NewAt(op.typ, f).Elem()
			if sv.Cap() < n {
				sv.Set(reflect.MakeSlice(op.typ, n, n))
			} else {
				sv.SetLen(n)
			}
			if n > 0 {
				elem := op.sub.typ.Size()
				first := sv.Index(0).Addr().UnsafePointer()
				for j := range n {
					op.sub.decode(r, unsafe.Add(first, uintptr(j)*elem))
				}
			}
		case opMore:
			more := r.err == nil && r.remaining() > 0
			*(*bool)(f) = more
			if !more {
				// Zero the optional tail so a reused value does not
				// keep the previous record's numbers.
				for _, rest := range p.ops[i+1:] {
					reflect.NewAt(rest.typ, unsafe.Add(base, rest.offset)).Elem().SetZero()
				}
				return
			}
		}
		if r.err != nil {
			return
		}
	}
}

// decodeFixed decodes a fixed-size structure from b, which holds exactly
// p.fixed bytes.
func (p *plan) decodeFixed(b []byte, base unsafe.Pointer) {
	for i := range p.ops {
		op := &p.ops[i]
		f := unsafe.Add(base, op.offset)
		switch op.kind {
		case opU32:
			*(*uint32)(f) = binary.BigEndian.Uint32(b)
			b = b[4:]
		case opI32:
			*(*int32)(f) = int32(binary.BigEndian.Uint32(b))
			b = b[4:]
		case opF32:
			*(*float32)(f) = math.Float32frombits(binary.BigEndian.Uint32(b))
			b = b[4:]
		case opU64:
			*(*uint64)(f) = binary.BigEndian.Uint64(b)
			b = b[8:]
		case opF64:
			*(*float64)(f) = math.Float64frombits(binary.BigEndian.Uint64(b))
			b = b[8:]
		case opIP4:
			*(*netip.Addr)(f) = netip.AddrFrom4([4]byte(b))
			b = b[4:]
		case opIP6:
			*(*netip.Addr)(f) = netip.AddrFrom16([16]byte(b))
			b = b[16:]
		case opFixed:
			copy(unsafe.Slice((*byte)(f), op.size), b)
			b = b[(op.size+3)&^3:]
		case opStruct:
			op.sub.decodeFixed(b[:op.sub.fixed], f)
			b = b[op.sub.fixed:]
		}
	}
}

func (p *plan) encode(w *writer, base unsafe.Pointer) {
	for i := range p.ops {
		op := &p.ops[i]
		f := unsafe.Add(base, op.offset)
		switch op.kind {
		case opU32:
			w.u32(*(*uint32)(f))
		case opI32:
			w.u32(uint32(*(*int32)(f)))
		case opU64:
			w.u64(*(*uint64)(f))
		case opF32:
			w.f32(*(*float32)(f))
		case opF64:
			w.f64(*(*float64)(f))
		case opAddr:
			w.address(*(*netip.Addr)(f))
		case opIP4:
			w.ip4(*(*netip.Addr)(f))
		case opIP6:
			w.ip6(*(*netip.Addr)(f))
		case opBytes:
			w.opaque(*(*[]byte)(f))
		case opFixed:
			w.fixed(unsafe.Slice((*byte)(f), op.size))
		case opU32Slice:
			s := *(*[]uint32)(f)
			w.u32(uint32(len(s)))
			for _, x := range s {
				w.u32(x)
			}
		case opMACSlice:
			s := *(*[]MAC)(f)
			w.u32(uint32(len(s)))
			for _, m := range s {
				w.fixed(m[:])
			}
		case opStruct:
			op.sub.encode(w, f)
		case opStructSlice:
			sv := reflect.NewAt(op.typ, f).Elem()
			w.u32(uint32(sv.Len()))
			for j := range sv.Len() {
				op.sub.encode(w, sv.Index(j).Addr().UnsafePointer())
			}
		case opMore:
			if !*(*bool)(f) {
				return
			}
		}
	}
}
