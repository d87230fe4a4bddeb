package sflow

import (
	"net/netip"
)

// Datagram is a decoded sFlow version 5 datagram. Decode fills one the
// caller owns; its slices are reused from one call to the next, and byte
// fields alias the input, so a Datagram is valid only until the next Decode
// into it or until the input buffer is reused.
type Datagram struct {
	Version    uint32
	Agent      netip.Addr
	SubAgentID uint32
	Sequence   uint32 // datagram sequence number, per agent and sub-agent
	Uptime     uint32 // milliseconds since the agent started
	NumSamples uint32 // as declared in the header
	Samples    []Sample
	// Size is the number of bytes the header and the declared samples take.
	// Bytes after them (some agents pad) are ignored, as sflowtool does.
	Size int
}

// Sample is one sample_data: a flow sample, counter sample, discarded-packet
// notification (compact or expanded), or any other format kept as Data.
type Sample struct {
	Format DataFormat
	Offset int    // offset of Data in the datagram
	Data   []byte // the sample body, after its format and length

	Sequence    uint32
	SourceClass uint32 // data source type: 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry…
	SourceIndex uint32

	// Flow and discard samples.
	SamplingRate uint32 // flow samples only
	SamplePool   uint32 // flow samples only
	Drops        uint32
	Input        Interface
	Output       Interface
	DropReason   uint32 // discard samples only (sflow_drops.txt reason codes)

	Records []Record
}

// Record is one flow_record or counter_record: its format and body. Decode
// the body with Record.Decode; unknown formats stay as tagged bytes.
type Record struct {
	Format DataFormat
	Offset int    // offset of Data in the datagram
	Data   []byte // the record body, after its format and length
}

// Interface is an input or output interface of a flow sample. Compact
// samples pack Format into the top two bits of a 32-bit word; expanded ones
// carry it separately.
type Interface struct {
	Format uint32 // 0 ifIndex, 1 discarded (Value: reason), 2 multiple (Value: count, 0 unknown)
	Value  uint32
}

// InternalIfIndex is the ifIndex value that means "the packet originated
// from or was delivered to the agent itself" (0x3FFFFFFF).
const InternalIfIndex = 0x3FFFFFFF

// IfIndex returns the interface index when the interface is a single one.
func (i Interface) IfIndex() (uint32, bool) {
	return i.Value, i.Format == 0 && i.Value != InternalIfIndex
}

// Internal reports whether the packet came from, or went to, the agent itself.
func (i Interface) Internal() bool { return i.Format == 0 && i.Value == InternalIfIndex }

// Discarded reports whether the packet was dropped, and the reason code.
func (i Interface) Discarded() (reason uint32, ok bool) { return i.Value, i.Format == 1 }

// Multiple reports whether the packet went out of several interfaces, and
// how many (0 when unknown).
func (i Interface) Multiple() (count uint32, ok bool) { return i.Value, i.Format == 2 }

// Compact returns the interface in the compact 32-bit encoding.
func (i Interface) Compact() uint32 { return i.Format<<30 | i.Value&0x3FFFFFFF }

// CompactInterface unpacks the compact 32-bit encoding.
func CompactInterface(v uint32) Interface { return Interface{Format: v >> 30, Value: v & 0x3FFFFFFF} }

// MaxDatagramSize is the largest datagram Decode accepts: the largest UDP
// payload.
const MaxDatagramSize = 65535

// Decode decodes the sFlow datagram in b into d. Samples and records are
// framed by their declared lengths: a sample whose contents are malformed is
// left out and decoding goes on with the next one, so one bad sample never
// loses the others. The first problem found is returned as an *Error
// (together with every sample that did decode); problems in the datagram
// header leave d with no samples.
//
// Decode only frames records; decode a record's body with Record.Decode.
func Decode(b []byte, d *Datagram) error {
	d.Samples = d.Samples[:0]
	d.Agent = netip.Addr{}
	d.Size = 0
	r := reader{b: b}
	d.Version = r.u32()
	if r.err == nil && d.Version != 5 {
		return &Error{Offset: 0, Err: ErrVersion, value: d.Version}
	}
	d.Agent = r.address()
	d.SubAgentID = r.u32()
	d.Sequence = r.u32()
	d.Uptime = r.u32()
	d.NumSamples = r.u32()
	if r.err != nil {
		return r.err
	}
	if int64(d.NumSamples) > int64(r.remaining()/8) {
		return &Error{Offset: r.off - 4, Err: ErrLimit, value: d.NumSamples}
	}
	var first error
	for i := 1; i <= int(d.NumSamples); i++ {
		start := r.off
		format, body := r.tagged()
		if r.err != nil {
			// The framing itself is broken: nothing after this can be trusted.
			e := r.err.(*Error)
			e.Sample, e.Format = i, format
			if first == nil {
				first = e
			}
			break
		}
		s := d.next()
		s.Format, s.Offset, s.Data = format, start+8, body
		if err := s.decode(i); err != nil {
			d.Samples = d.Samples[:len(d.Samples)-1]
			if first == nil {
				first = err
			}
		}
	}
	d.Size = r.off
	return first
}

// next extends d.Samples by one, reusing the element (and its Records
// capacity) left there by an earlier Decode.
func (d *Datagram) next() *Sample {
	if len(d.Samples) < cap(d.Samples) {
		d.Samples = d.Samples[:len(d.Samples)+1]
	} else {
		d.Samples = append(d.Samples, Sample{})
	}
	s := &d.Samples[len(d.Samples)-1]
	recs := s.Records[:0]
	*s = Sample{Records: recs}
	return s
}

func (s *Sample) decode(index int) error {
	r := reader{b: s.Data}
	switch s.Format {
	case FlowSample:
		s.Sequence = r.u32()
		src := r.u32()
		s.SourceClass, s.SourceIndex = src>>24, src&0xFFFFFF
		s.SamplingRate = r.u32()
		s.SamplePool = r.u32()
		s.Drops = r.u32()
		s.Input = CompactInterface(r.u32())
		s.Output = CompactInterface(r.u32())
	case ExpandedFlowSample:
		s.Sequence = r.u32()
		s.SourceClass = r.u32()
		s.SourceIndex = r.u32()
		s.SamplingRate = r.u32()
		s.SamplePool = r.u32()
		s.Drops = r.u32()
		s.Input = Interface{Format: r.u32(), Value: r.u32()}
		s.Output = Interface{Format: r.u32(), Value: r.u32()}
	case DiscardedPacketSample:
		s.Sequence = r.u32()
		s.SourceClass = r.u32()
		s.SourceIndex = r.u32()
		s.Drops = r.u32()
		s.Input = CompactInterface(r.u32())
		s.Output = CompactInterface(r.u32())
		s.DropReason = r.u32()
	case CounterSample:
		s.Sequence = r.u32()
		src := r.u32()
		s.SourceClass, s.SourceIndex = src>>24, src&0xFFFFFF
	case ExpandedCounterSample:
		s.Sequence = r.u32()
		s.SourceClass = r.u32()
		s.SourceIndex = r.u32()
	default:
		// Unknown sample formats (including the custom-metric rtmetric and
		// rtflow samples) are kept whole in Data.
		return nil
	}
	n := r.u32()
	if r.err == nil && int64(n) > int64(r.remaining()/8) {
		r.err = &Error{Offset: r.off - 4, Err: ErrLimit, value: n}
	}
	for j := 1; r.err == nil && j <= int(n); j++ {
		start := r.off
		format, body := r.tagged()
		if r.err != nil {
			return r.err.(*Error).at(s.Offset, index, j, format)
		}
		s.Records = append(s.Records, Record{Format: format, Offset: s.Offset + start + 8, Data: body})
	}
	if r.err != nil {
		return r.err.(*Error).at(s.Offset, index, 0, s.Format)
	}
	if r.remaining() > 0 {
		return (&Error{Offset: r.off, Err: ErrLength, need: r.off, have: len(s.Data)}).at(s.Offset, index, 0, s.Format)
	}
	return nil
}
