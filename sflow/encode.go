package sflow

import (
	"fmt"
)

// AppendBinary appends the datagram in wire format. NumSamples is ignored:
// the count written is len(d.Samples). A sample of a format this package
// does not frame is written from its Data.
func (d *Datagram) AppendBinary(b []byte) ([]byte, error) {
	if !d.Agent.IsValid() {
		return b, fmt.Errorf("sflow: datagram has no agent address")
	}
	w := writer{b: b}
	w.u32(5)
	w.address(d.Agent)
	w.u32(d.SubAgentID)
	w.u32(d.Sequence)
	w.u32(d.Uptime)
	w.u32(uint32(len(d.Samples)))
	for i := range d.Samples {
		var err error
		if w.b, err = d.Samples[i].AppendBinary(w.b); err != nil {
			return b, err
		}
	}
	return w.b, nil
}

// AppendBinary appends the sample (format, length and body) in wire format.
func (s *Sample) AppendBinary(b []byte) ([]byte, error) {
	w := writer{b: b}
	w.u32(uint32(s.Format))
	at := w.lengthAt()
	switch s.Format {
	case FlowSample:
		w.u32(s.Sequence)
		w.u32(s.SourceClass<<24 | s.SourceIndex&0xFFFFFF)
		w.u32(s.SamplingRate)
		w.u32(s.SamplePool)
		w.u32(s.Drops)
		w.u32(s.Input.Compact())
		w.u32(s.Output.Compact())
	case ExpandedFlowSample:
		w.u32(s.Sequence)
		w.u32(s.SourceClass)
		w.u32(s.SourceIndex)
		w.u32(s.SamplingRate)
		w.u32(s.SamplePool)
		w.u32(s.Drops)
		w.u32(s.Input.Format)
		w.u32(s.Input.Value)
		w.u32(s.Output.Format)
		w.u32(s.Output.Value)
	case DiscardedPacketSample:
		w.u32(s.Sequence)
		w.u32(s.SourceClass)
		w.u32(s.SourceIndex)
		w.u32(s.Drops)
		w.u32(s.Input.Compact())
		w.u32(s.Output.Compact())
		w.u32(s.DropReason)
	case CounterSample:
		w.u32(s.Sequence)
		w.u32(s.SourceClass<<24 | s.SourceIndex&0xFFFFFF)
	case ExpandedCounterSample:
		w.u32(s.Sequence)
		w.u32(s.SourceClass)
		w.u32(s.SourceIndex)
	default:
		w.fixed(s.Data)
		w.closeLength(at)
		return w.b, nil
	}
	w.u32(uint32(len(s.Records)))
	for _, rec := range s.Records {
		// A record's length counts its padding: the body is XDR, so it
		// always ends on 4 bytes. Data cut to a structure's end (a
		// sampled header without the sender's padding) is padded with
		// zeros and its length rounded up, as an agent writes it.
		w.u32(uint32(rec.Format))
		rat := w.lengthAt()
		w.fixed(rec.Data)
		w.closeLength(rat)
	}
	w.closeLength(at)
	return w.b, nil
}

// AppendRecordBody appends the wire form of a record structure (a pointer to
// one of this package's record types) without its format and length.
func AppendRecordBody(b []byte, v any) ([]byte, error) {
	p, ptr, err := planOf(v)
	if err != nil {
		return b, err
	}
	w := writer{b: b}
	p.encode(&w, ptr)
	return w.b, nil
}

// NewRecord encodes a record structure into a Record ready to be placed in a
// Sample. It allocates; it is meant for building datagrams, not for the
// receive path.
func NewRecord(v any) (Record, error) {
	f, ok := FormatOf(v)
	if !ok {
		return Record{}, fmt.Errorf("sflow: %T is not a record structure of this package", v)
	}
	data, err := AppendRecordBody(nil, v)
	return Record{Format: f, Data: data}, err
}
