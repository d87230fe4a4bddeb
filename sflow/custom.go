package sflow

import (
	"errors"
	"net/netip"
)

// Custom metrics and flows (Host sFlow's rtmetric 4300:1002 and rtflow
// 4300:1003 samples): a data source name and a self-describing list of
// (name, type, value) fields.

// CustomType is the type of a custom field. The rtmetric and rtflow
// samples number their types differently; CustomType is one space for both.
type CustomType uint8

const (
	CustomString CustomType = iota + 1
	CustomCounter32
	CustomCounter64
	CustomGauge32
	CustomGauge64
	CustomGaugeFloat
	CustomGaugeDouble
	CustomMAC
	CustomIP
	CustomIP6
	CustomInt32
	CustomInt64
	CustomFloat
	CustomDouble
)

var (
	rtmetricCodes = []CustomType{CustomString, CustomCounter32, CustomCounter64, CustomGauge32, CustomGauge64,
		CustomGaugeFloat, CustomGaugeDouble}
	rtflowCodes = []CustomType{CustomString, CustomMAC, CustomIP, CustomIP6, CustomInt32, CustomInt64,
		CustomFloat, CustomDouble}
	customNames = [...]string{CustomString: "string", CustomCounter32: "counter32", CustomCounter64: "counter64",
		CustomGauge32: "gauge32", CustomGauge64: "gauge64", CustomGaugeFloat: "gaugeFloat",
		CustomGaugeDouble: "gaugeDouble", CustomMAC: "mac", CustomIP: "ip", CustomIP6: "ip6", CustomInt32: "int32",
		CustomInt64: "int64", CustomFloat: "float", CustomDouble: "double"}
)

func (t CustomType) String() string {
	if int(t) < len(customNames) {
		return customNames[t]
	}
	return "unknown"
}

// ErrCustomType is the error for a field type code that is not defined.
var ErrCustomType = errors.New("unknown custom field type")

// CustomSample is a decoded rtmetric or rtflow sample. Fields are read one
// at a time with Next, without allocating; byte slices alias the datagram.
type CustomSample struct {
	DataSource   []byte
	SamplingRate uint32 // rtflow only
	SamplePool   uint32 // rtflow only
	flow         bool
	r            reader
	left         uint32
	err          error
}

// CustomField is one field of a custom sample: Str for strings, U for
// counters, integer gauges and integers, F for floating point, Addr for
// addresses, MAC for MAC addresses.
type CustomField struct {
	Name []byte
	Type CustomType
	Str  []byte
	U    uint64
	F    float64
	Addr netip.Addr
	MAC  MAC
}

// DecodeCustom starts decoding the body of an rtmetric or rtflow sample.
func DecodeCustom(format DataFormat, data []byte) (CustomSample, error) {
	c := CustomSample{r: reader{b: data}, flow: format == RTFlowSample}
	if format != RTMetricSample && format != RTFlowSample {
		return c, &Error{Err: ErrVersion, value: uint32(format)}
	}
	c.DataSource = c.r.opaque()
	if c.flow {
		c.SamplingRate = c.r.u32()
		c.SamplePool = c.r.u32()
	}
	c.left = c.r.u32()
	if c.r.err != nil {
		return c, c.r.err
	}
	return c, nil
}

// Next decodes the next field into f; false at the end or on an error
// (see Err).
func (c *CustomSample) Next(f *CustomField) bool {
	if c.left == 0 || c.err != nil {
		return false
	}
	c.left--
	r := &c.r
	*f = CustomField{Name: r.opaque()}
	code := r.u32()
	codes := rtmetricCodes
	if c.flow {
		codes = rtflowCodes
	}
	if r.err == nil && int64(code) >= int64(len(codes)) {
		c.err = ErrCustomType
		return false
	}
	if r.err != nil {
		c.err = r.err
		return false
	}
	f.Type = codes[code]
	switch f.Type {
	case CustomString:
		f.Str = r.opaque()
	case CustomCounter32, CustomGauge32, CustomInt32:
		f.U = uint64(r.u32())
	case CustomCounter64, CustomGauge64, CustomInt64:
		f.U = r.u64()
	case CustomGaugeFloat, CustomFloat:
		f.F = float64(r.f32())
	case CustomGaugeDouble, CustomDouble:
		f.F = r.f64()
	case CustomMAC:
		if b := r.take(6); b != nil { // opaque[6], padded to 8
			copy(f.MAC[:], b)
		}
	case CustomIP:
		f.Addr = r.ip4()
	case CustomIP6:
		f.Addr = r.ip6()
	}
	if r.err != nil {
		c.err = r.err
		return false
	}
	return true
}

// Err returns the error that stopped Next, if any.
func (c *CustomSample) Err() error { return c.err }

// AppendCustom encodes the body of an rtmetric or rtflow sample (for tests,
// load generators and agents). Field types must belong to the format.
func AppendCustom(b []byte, format DataFormat, dataSource string, samplingRate, pool uint32, fields []CustomField) ([]byte, error) {
	codes := rtmetricCodes
	if format == RTFlowSample {
		codes = rtflowCodes
	} else if format != RTMetricSample {
		return b, &Error{Err: ErrVersion, value: uint32(format)}
	}
	w := writer{b: b}
	w.opaque([]byte(dataSource))
	if format == RTFlowSample {
		w.u32(samplingRate)
		w.u32(pool)
	}
	w.u32(uint32(len(fields)))
	for _, f := range fields {
		code := -1
		for i, t := range codes {
			if t == f.Type {
				code = i
			}
		}
		if code < 0 {
			return b, ErrCustomType
		}
		w.opaque(f.Name)
		w.u32(uint32(code))
		switch f.Type {
		case CustomString:
			w.opaque(f.Str)
		case CustomCounter32, CustomGauge32, CustomInt32:
			w.u32(uint32(f.U))
		case CustomCounter64, CustomGauge64, CustomInt64:
			w.u64(f.U)
		case CustomGaugeFloat, CustomFloat:
			w.f32(float32(f.F))
		case CustomGaugeDouble, CustomDouble:
			w.f64(f.F)
		case CustomMAC:
			w.fixed(f.MAC[:])
		case CustomIP:
			w.ip4(f.Addr)
		case CustomIP6:
			w.ip6(f.Addr)
		}
	}
	return w.b, nil
}
