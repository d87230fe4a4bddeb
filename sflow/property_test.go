package sflow

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// TestEncodeDecodeProperty: for every record structure, random values
// survive decode(encode(x)) unchanged.
func TestEncodeDecodeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := 0
	for _, table := range []map[DataFormat]reflect.Type{flowTypes, counterTypes} {
		for f, typ := range table {
			types++
			for range 200 {
				v := reflect.New(typ)
				fill(rng, v.Elem())
				body, err := AppendRecordBody(nil, v.Interface())
				if err != nil {
					t.Fatal(err)
				}
				got := reflect.New(typ)
				if err := (Record{Format: f, Data: body}).Decode(got.Interface()); err != nil {
					t.Fatalf("%s (%s): %v", f, typ.Name(), err)
				}
				if !reflect.DeepEqual(got.Interface(), v.Interface()) {
					t.Fatalf("%s (%s): decode(encode(x)) != x\n x = %+v\ngot %+v", f, typ.Name(), v.Elem(), got.Elem())
				}
			}
		}
	}
	t.Logf("%d record structures × 200 random values round-trip", types)
}

func fill(rng *rand.Rand, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, sf := v.Field(i), t.Field(i)
		switch {
		case sf.Type == addrType:
			switch tag := sf.Tag.Get("xdr"); {
			case tag == "ip4" || (tag == "" && rng.IntN(3) == 0):
				f.Set(reflect.ValueOf(netip.AddrFrom4([4]byte{byte(rng.Uint32()), 1, 2, byte(rng.Uint32())})))
			case tag == "ip6" || rng.IntN(2) == 0:
				f.Set(reflect.ValueOf(netip.AddrFrom16([16]byte{0x20, 1, 15: byte(rng.Uint32())})))
			}
		case sf.Tag.Get("xdr") == "more":
			more := rng.IntN(2) == 0
			f.SetBool(more)
			if !more {
				return // the optional tail stays zero, as decoding leaves it
			}
		case f.Kind() == reflect.Uint32 || f.Kind() == reflect.Uint64:
			f.SetUint(rng.Uint64())
		case f.Kind() == reflect.Int32:
			f.SetInt(int64(int32(rng.Uint32())))
		case f.Kind() == reflect.Float32 || f.Kind() == reflect.Float64:
			f.SetFloat(float64(float32(rng.NormFloat64())))
		case f.Kind() == reflect.Array:
			for j := 0; j < f.Len(); j++ {
				f.Index(j).SetUint(uint64(rng.IntN(256)))
			}
		case f.Kind() == reflect.Slice:
			n := rng.IntN(4)
			s := reflect.MakeSlice(f.Type(), n, n)
			for j := range n {
				e := s.Index(j)
				switch e.Kind() {
				case reflect.Uint8, reflect.Uint32:
					e.SetUint(uint64(rng.Uint32()) & (1<<(8*e.Type().Size()) - 1))
				case reflect.Array:
					for k := 0; k < e.Len(); k++ {
						e.Index(k).SetUint(uint64(rng.IntN(256)))
					}
				case reflect.Struct:
					fill(rng, e)
				}
			}
			if n == 0 && f.Type().Elem().Kind() != reflect.Uint8 {
				s = reflect.Zero(f.Type()) // an empty array decodes to nil, an empty opaque to []byte{}
			}
			f.Set(s)
		case f.Kind() == reflect.Struct:
			fill(rng, f)
		}
	}
}
