package sflowtool

import (
	"errors"
	"strconv"

	"github.com/flowrt/flowrt/sflow"
)

func (w *Writer) rtmetric(data []byte) {
	w.fieldString("sampleType", "RTMETRIC")
	c, err := sflow.DecodeCustom(sflow.RTMetricSample, data)
	if len(c.DataSource) > 0 {
		fieldText(w, "rtmetric_datasource_name", c.DataSource)
	}
	if err == nil {
		w.rtValues(&c, "rtmetric_", "rtmetric unknown_type")
	}
}

func (w *Writer) rtflow(data []byte) {
	w.fieldString("sampleType", "RTFLOW")
	c, err := sflow.DecodeCustom(sflow.RTFlowSample, data)
	if len(c.DataSource) > 0 {
		fieldText(w, "rtflow_datasource_name", c.DataSource)
	}
	w.fieldU32("rtflow_sampling_rate", c.SamplingRate)
	w.fieldU32("rtflow_sample_pool", c.SamplePool)
	if err == nil {
		w.rtValues(&c, "rtflow_", "rtflow unknown_type")
	}
}

// rtValues prints the (name, type, value) list that ends both samples, each
// field in the context <sample>_<type>_ as sflowtool names it.
func (w *Writer) rtValues(c *sflow.CustomSample, prefix, unknown string) {
	var f sflow.CustomField
	for c.Next(&f) {
		b := w.scratch[:0]
		switch f.Type {
		case sflow.CustomString:
			b = append(b, f.Str...)
		case sflow.CustomGaugeFloat, sflow.CustomGaugeDouble, sflow.CustomFloat, sflow.CustomDouble:
			b = strconv.AppendFloat(b, f.F, 'f', 3, 64)
		case sflow.CustomMAC:
			b = f.MAC.AppendHex(b)
		case sflow.CustomIP, sflow.CustomIP6:
			b = appendAddr(b, f.Addr)
		default:
			b = strconv.AppendUint(b, f.U, 10)
		}
		w.scratch = b
		w.push(prefix)
		w.more(f.Type.String())
		w.more("_")
		fieldText(w, f.Name, b)
		w.pop()
	}
	if errors.Is(c.Err(), sflow.ErrCustomType) {
		w.line(unknown)
	}
}
