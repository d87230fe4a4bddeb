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

func (w *Writer) rtmetric(data []byte) {
	w.fieldString("sampleType", "RTMETRIC")
	c := xdrCursor{b: data, ok: true}
	if ds := c.str(); len(ds) > 0 {
		w.field("rtmetric_datasource_name", ds)
	}
	n := c.u32()
	for i := uint32(0); c.ok && i < n; i++ {
		name := string(c.str())
		var b []byte
		var prefix string
		switch c.u32() {
		case 0:
			prefix, b = "rtmetric_string_", append(b, c.str()...)
		case 1:
			prefix, b = "rtmetric_counter32_", strconv.AppendUint(b, uint64(c.u32()), 10)
		case 2:
			prefix, b = "rtmetric_counter64_", strconv.AppendUint(b, c.u64(), 10)
		case 3:
			prefix, b = "rtmetric_gauge32_", strconv.AppendUint(b, uint64(c.u32()), 10)
		case 4:
			prefix, b = "rtmetric_gauge64_", strconv.AppendUint(b, c.u64(), 10)
		case 5:
			prefix, b = "rtmetric_gaugeFloat_", strconv.AppendFloat(b, float64(math.Float32frombits(c.u32())), 'f', 3, 64)
		case 6:
			prefix, b = "rtmetric_gaugeDouble_", strconv.AppendFloat(b, math.Float64frombits(c.u64()), 'f', 3, 64)
		default:
			w.line("rtmetric unknown_type")
			return
		}
		if c.ok {
			w.push(prefix)
			w.field(name, b)
			w.pop()
		}
	}
}

func (w *Writer) rtflow(data []byte) {
	w.fieldString("sampleType", "RTFLOW")
	c := xdrCursor{b: data, ok: true}
	if ds := c.str(); len(ds) > 0 {
		w.field("rtflow_datasource_name", ds)
	}
	w.fieldU32("rtflow_sampling_rate", c.u32())
	w.fieldU32("rtflow_sample_pool", c.u32())
	n := c.u32()
	for i := uint32(0); c.ok && i < n; i++ {
		name := string(c.str())
		var b []byte
		var prefix string
		switch c.u32() {
		case 0:
			prefix, b = "rtflow_string_", append(b, c.str()...)
		case 1:
			if m := c.bytes(6); m != nil {
				prefix, b = "rtflow_mac_", sflow.MAC(m).AppendHex(b)
			}
		case 2:
			if a := c.bytes(4); a != nil {
				prefix, b = "rtflow_ip_", appendAddr(b, netip.AddrFrom4([4]byte(a)))
			}
		case 3:
			if a := c.bytes(16); a != nil {
				prefix, b = "rtflow_ip6_", appendAddr(b, netip.AddrFrom16([16]byte(a)))
			}
		case 4:
			prefix, b = "rtflow_int32_", strconv.AppendUint(b, uint64(c.u32()), 10)
		case 5:
			prefix, b = "rtflow_int64_", strconv.AppendUint(b, c.u64(), 10)
		case 6:
			prefix, b = "rtflow_float_", strconv.AppendFloat(b, float64(math.Float32frombits(c.u32())), 'f', 3, 64)
		case 7:
			prefix, b = "rtflow_double_", strconv.AppendFloat(b, math.Float64frombits(c.u64()), 'f', 3, 64)
		default:
			w.line("rtflow unknown_type")
			return
		}
		if c.ok {
			w.push(prefix)
			w.field(name, b)
			w.pop()
		}
	}
}
