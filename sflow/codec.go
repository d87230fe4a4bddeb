package sflow

import (
	"fmt"
	"net/netip"
	"reflect"
	"sync"
)

// The record structures are plain Go structs in wire order. Rather than
// hand-write a decoder and an encoder for each of ~80 structures (and risk the
// two drifting apart), a plan is built once per type from its fields and
// interpreted for every record. Decoding writes into a value the caller owns
// and reuses; slices keep their capacity, so steady-state decoding allocates
// nothing.

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
	index int
	kind  opKind
	size  int   // opFixed: N
	sub   *plan // opStruct, opStructSlice
}

type plan struct {
	typ reflect.Type
	ops []fieldOp
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
		op := fieldOp{index: i}
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

func (p *plan) decode(r *reader, v reflect.Value) {
	for i := range p.ops {
		op := &p.ops[i]
		f := v.Field(op.index)
		switch op.kind {
		case opU32:
			f.SetUint(uint64(r.u32()))
		case opI32:
			f.SetInt(int64(int32(r.u32())))
		case opU64:
			f.SetUint(r.u64())
		case opF32:
			f.SetFloat(float64(r.f32()))
		case opF64:
			f.SetFloat(r.f64())
		case opAddr:
			*f.Addr().Interface().(*netip.Addr) = r.address()
		case opIP4:
			*f.Addr().Interface().(*netip.Addr) = r.ip4()
		case opIP6:
			*f.Addr().Interface().(*netip.Addr) = r.ip6()
		case opBytes:
			f.SetBytes(r.opaque())
		case opFixed:
			b := r.take(op.size)
			if b != nil {
				reflect.Copy(f, reflect.ValueOf(b))
			}
		case opU32Slice:
			n := r.count()
			s := f.Addr().Interface().(*[]uint32)
			*s = (*s)[:0]
			for range n {
				*s = append(*s, r.u32())
			}
		case opMACSlice:
			n := r.count()
			s := f.Addr().Interface().(*[]MAC)
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
			if f.Cap() < n {
				f.Set(reflect.MakeSlice(f.Type(), n, n))
			} else {
				f.SetLen(n)
			}
			for j := range n {
				op.sub.decode(r, f.Index(j))
			}
		case opMore:
			more := r.err == nil && r.remaining() > 0
			f.SetBool(more)
			if !more {
				// Zero the optional tail so a reused value does not
				// keep the previous record's numbers.
				for _, rest := range p.ops[i+1:] {
					v.Field(rest.index).SetZero()
				}
				return
			}
		}
		if r.err != nil {
			return
		}
	}
}

func (p *plan) encode(w *writer, v reflect.Value) {
	for i := range p.ops {
		op := &p.ops[i]
		f := v.Field(op.index)
		switch op.kind {
		case opU32:
			w.u32(uint32(f.Uint()))
		case opI32:
			w.u32(uint32(int32(f.Int())))
		case opU64:
			w.u64(f.Uint())
		case opF32:
			w.f32(float32(f.Float()))
		case opF64:
			w.f64(f.Float())
		case opAddr:
			w.address(f.Interface().(netip.Addr))
		case opIP4:
			w.ip4(f.Interface().(netip.Addr))
		case opIP6:
			w.ip6(f.Interface().(netip.Addr))
		case opBytes:
			w.opaque(f.Bytes())
		case opFixed:
			for j := range op.size {
				w.b = append(w.b, byte(f.Index(j).Uint()))
			}
			w.pad(op.size)
		case opU32Slice:
			s := f.Interface().([]uint32)
			w.u32(uint32(len(s)))
			for _, x := range s {
				w.u32(x)
			}
		case opMACSlice:
			s := f.Interface().([]MAC)
			w.u32(uint32(len(s)))
			for _, m := range s {
				w.fixed(m[:])
			}
		case opStruct:
			op.sub.encode(w, f)
		case opStructSlice:
			w.u32(uint32(f.Len()))
			for j := range f.Len() {
				op.sub.encode(w, f.Index(j))
			}
		case opMore:
			if !f.Bool() {
				return
			}
		}
	}
}
