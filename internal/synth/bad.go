package synth

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowrt/flowrt/sflow"
)

// BadRecords returns datagram seq of agent 10.0.0.7 whose samples frame
// correctly but hold records that do not decode, for tests of what the
// engine counts: a flow sample whose sampled_header says 4,000 header bytes
// (it has 42), a counter sample whose host_descr hostname says 4,000 bytes
// beside a good generic interface record, and an rtmetric sample (app1,
// requests = 7·seq) cut short inside its last field.
func BadRecords(seq uint32) ([]byte, error) {
	frame := make([]byte, 42)
	frame[12], frame[13], frame[14] = 0x08, 0x00, 0x45
	hdr, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: 64, Header: frame})
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(hdr.Data[12:], 4000)
	descr, err := sflow.NewRecord(&sflow.HostDescr{Hostname: []byte("web1"), OSName: 2})
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(descr.Data[0:], 4000)
	gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: 1, Type: 6, Speed: 1e9})
	if err != nil {
		return nil, err
	}
	custom, err := sflow.AppendCustom(nil, sflow.RTMetricSample, "app1", 0, 0, []sflow.CustomField{
		{Name: []byte("requests"), Type: sflow.CustomCounter32, U: uint64(7 * seq)},
		{Name: []byte("mode"), Type: sflow.CustomString, Str: []byte("primary")}})
	if err != nil {
		return nil, err
	}
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.7"), Sequence: seq, Uptime: 1000 * seq,
		Samples: []sflow.Sample{
			{Format: sflow.FlowSample, Sequence: seq, SourceIndex: 1, SamplingRate: 1, Records: []sflow.Record{hdr}},
			{Format: sflow.CounterSample, Sequence: seq, SourceClass: 2, SourceIndex: 1, Records: []sflow.Record{descr, gen}},
			{Format: sflow.RTMetricSample, Data: custom[:len(custom)-6]}, // the string field cut short
		}}
	return d.AppendBinary(nil)
}
