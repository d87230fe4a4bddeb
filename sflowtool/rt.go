package sflowtool

import (
	"encoding/binary"
	"math"
	"net/netip"
	"strconv"

	"github.com/flowrt/flowrt/sflow"
)

// xdrCursor reads the custom-metric samples (rtmetric, rtflow), whose
// self-describing layout does not fit the record structures.
type xdrCursor struct {
	b  []byte
	ok bool
}

func (c *xdrCursor) u32() uint32 {
	if !c.ok || len(c.b) < 4 {
		c.ok = false
		return 0
	}
	v := binary.BigEndian.Uint32(c.b)
	c.b = c.b[4:]
	return v
}

func (c *xdrCursor) u64() uint64 { return uint64(c.u32())<<32 | uint64(c.u32()) }

func (c *xdrCursor) bytes(n int) []byte {
	p := (n + 3) &^ 3
	if !c.ok || n < 0 || len(c.b) < p {
		c.ok = false
		return nil
	}
	v := c.b[:n]
	c.b = c.b[p:]
	return v
}

func (c *xdrCursor) str() []byte { return c.bytes(int(c.u32())) }

// Value encodings of the custom-metric samples, by type code.
type rtKind uint8

const (
	rtString rtKind = iota + 1
	rtU32
	rtU64
	rtF32
	rtF64
	rtMAC
	rtIP4
	rtIP6
)

type rtType struct {
	prefix string
	kind   rtKind
}

var (
	rtmetricTypes = []rtType{{"rtmetric_string_", rtString}, {"rtmetric_counter32_", rtU32},
		{"rtmetric_counter64_", rtU64}, {"rtmetric_gauge32_", rtU32}, {"rtmetric_gauge64_", rtU64},
		{"rtmetric_gaugeFloat_", rtF32}, {"rtmetric_gaugeDouble_", rtF64}}
	rtflowTypes = []rtType{{"rtflow_string_", rtString}, {"rtflow_mac_", rtMAC}, {"rtflow_ip_", rtIP4},
		{"rtflow_ip6_", rtIP6}, {"rtflow_int32_", rtU32}, {"rtflow_int64_", rtU64},
		{"rtflow_float_", rtF32}, {"rtflow_double_", rtF64}}
)

func (w *Writer) rtmetric(data []byte) {
	w.fieldString("sampleType", "RTMETRIC")
	c := xdrCursor{b: data, ok: true}
	if ds := c.str(); len(ds) > 0 {
		w.field("rtmetric_datasource_name", ds)
	}
	w.rtValues(&c, rtmetricTypes, "rtmetric unknown_type")
}

func (w *Writer) rtflow(data []byte) {
	w.fieldString("sampleType", "RTFLOW")
	c := xdrCursor{b: data, ok: true}
	if ds := c.str(); len(ds) > 0 {
		w.field("rtflow_datasource_name", ds)
	}
	w.fieldU32("rtflow_sampling_rate", c.u32())
	w.fieldU32("rtflow_sample_pool", c.u32())
	w.rtValues(&c, rtflowTypes, "rtflow unknown_type")
}

// rtValues prints the (name, type, value) list that ends both samples.
func (w *Writer) rtValues(c *xdrCursor, types []rtType, unknown string) {
	n := c.u32()
	for i := uint32(0); c.ok && i < n; i++ {
		name := string(c.str())
		code := c.u32()
		if int64(code) >= int64(len(types)) {
			w.line(unknown)
			return
		}
		t := types[code]
		var b []byte
		switch t.kind {
		case rtString:
			b = append(b, c.str()...)
		case rtU32:
			b = strconv.AppendUint(b, uint64(c.u32()), 10)
		case rtU64:
			b = strconv.AppendUint(b, c.u64(), 10)
		case rtF32:
			b = strconv.AppendFloat(b, float64(math.Float32frombits(c.u32())), 'f', 3, 64)
		case rtF64:
			b = strconv.AppendFloat(b, math.Float64frombits(c.u64()), 'f', 3, 64)
		case rtMAC:
			if m := c.bytes(6); m != nil {
				b = sflow.MAC(m).AppendHex(b)
			}
		case rtIP4:
			if a := c.bytes(4); a != nil {
				b = appendAddr(b, netip.AddrFrom4([4]byte(a)))
			}
		case rtIP6:
			if a := c.bytes(16); a != nil {
				b = appendAddr(b, netip.AddrFrom16([16]byte(a)))
			}
		}
		if c.ok {
			w.push(t.prefix)
			w.field(name, b)
			w.pop()
		}
	}
}
