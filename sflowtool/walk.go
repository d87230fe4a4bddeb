package sflowtool

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// sampleState is what the line formats (-l, -t) need from a sample, filled
// in as its records are printed.
type sampleState struct {
	samplingRate      uint32
	inPort, outPort   uint32
	sampledPacketSize uint32
	stripped          uint32
	headerProtocol    uint32
	header            []byte
	offsetToIP        int
	ethSrc, ethDst    sflow.MAC
	ethType           uint32
	inVLAN, outVLAN   uint32
	ipSrc, ipDst      netip.Addr
	proto, tos, ttl   uint32
	sport, dport      uint32
	tcpFlags          uint32
	ifc               sflow.GenericInterface
}

// Datagram writes one datagram. src is the sender (the zero Addr when
// reading a capture, printed "-" as sflowtool does). received is when it
// arrived on a socket (zero for a capture) and captured its capture
// timestamp (zero when live). As in sflowtool, unixSecondsUTC and localtime
// are the receive time, pcapTimestamp is printed only for a capture record
// whose timestamp is not 0 s, and the time that starts -g lines and stamps
// -t records is the capture's, else the receive time. A datagram that is not
// valid sFlow v5 is written as far as it goes and returned as an error; the
// Writer stays usable. Records that fail to decode are reported on
// Options.Stderr.
func (w *Writer) Datagram(payload []byte, src netip.Addr, received, captured time.Time) error {
	w.ctx = context{}
	// sflowtool keeps both times as whole seconds plus microseconds, 0 s
	// meaning "none"; the zero time.Time is none here.
	read, pcapTime := time.Unix(0, 0), time.Unix(0, 0)
	if !received.IsZero() {
		read = received.Truncate(time.Microsecond)
	}
	if !captured.IsZero() {
		pcapTime = captured.Truncate(time.Microsecond)
	}
	hasPcapTime := pcapTime.Unix() != 0
	w.ctxTime = read
	if hasPcapTime {
		w.ctxTime = pcapTime
	}
	w.pfx, w.marks = w.pfx[:0], w.marks[:0]
	w.ctxFresh = false // the time may have changed
	w.sampleScope = false
	err := sflow.Decode(payload, &w.d)

	w.jsonStart = true
	w.jsonOpen("", '{')
	w.line("startDatagram =================================")
	w.fieldAddr("datagramSourceIP", src)
	w.fieldU32("datagramSize", uint32(len(payload)))
	w.fieldU32("unixSecondsUTC", uint32(read.Unix()))
	w.fieldU32("unixSecondsUTC_uS", uint32(read.Nanosecond()/1000))
	w.scratch = appendTime(w.scratch[:0], read, w.loc)
	w.field("localtime", w.scratch)
	if hasPcapTime {
		w.scratch = appendTime(w.scratch[:0], pcapTime, w.loc)
		w.field("pcapTimestamp", w.scratch)
		w.fieldU32("pcapTimestamp_uS", uint32(pcapTime.Nanosecond()/1000))
	}
	w.fieldU32("datagramVersion", w.d.Version) // set by Decode even when it is not 5
	if err == nil || !headerFailed(err) {
		d := &w.d
		w.ctx.agent, w.ctx.subAgent = d.Agent, d.SubAgentID
		w.fieldU32("agentSubId", d.SubAgentID)
		w.ctx.sequence = d.Sequence
		w.fieldAddr("agent", d.Agent)
		w.fieldU32("packetSequenceNo", d.Sequence)
		w.fieldU32("sysUpTime", d.Uptime)
		w.fieldU32("samplesInPacket", d.NumSamples)
		w.sampleScope = true
		w.jsonOpen("samples", '[')
		for i := range d.Samples {
			w.sample(&d.Samples[i])
		}
		w.jsonClose(']')
	}
	w.jsonClose('}')
	switch w.mode {
	case JSON:
		w.buf = append(w.buf, "\n\n"...)
		w.depth = 0
	case JSONLines:
		w.buf = append(w.buf, '\n')
		w.depth = 0
	case CustomLine:
		w.clearValues(false)
	}
	w.line("endDatagram   =================================")
	stream := w.mode == Pcap || w.mode == Line || w.mode == CustomLine || w.mode == JSONLines
	if len(w.buf) >= flushAt || (stream && !w.batch) {
		// Streams read by another program: do not hold datagrams back
		// (unless the input is a file, Options.Batch).
		if ferr := w.Flush(); ferr != nil {
			return ferr
		}
	}
	if w.err != nil {
		return w.err
	}
	return err
}

func headerFailed(err error) bool {
	var e *sflow.Error
	return errors.As(err, &e) && e.Sample == 0
}

func (w *Writer) sample(s *sflow.Sample) {
	w.smp = sampleState{}
	w.ctx.dsClass, w.ctx.dsIndex, w.ctx.element = 0, 0, 0
	w.ctx.sampleType = s.Format
	w.jsonOpen("", '{')
	w.line("startSample ----------------------")
	w.field("sampleType_tag", s.Format.AppendText(w.scratch[:0]))
	counter := false
	switch s.Format {
	case sflow.FlowSample, sflow.ExpandedFlowSample:
		w.fieldString("sampleType", "FLOWSAMPLE")
		w.ctx.dsClass, w.ctx.dsIndex = s.SourceClass, s.SourceIndex
		w.fieldU32("sampleSequenceNo", s.Sequence)
		w.sourceID(s)
		w.fieldU32("meanSkipCount", s.SamplingRate)
		w.fieldU32("samplePool", s.SamplePool)
		w.fieldU32("dropEvents", s.Drops)
		w.smp.samplingRate = s.SamplingRate
		w.smp.inPort, w.smp.outPort = s.Input.Value, s.Output.Value
		w.field("inputPort", appendPort(w.scratch[:0], s.Input))
		w.field("outputPort", appendPort(w.scratch[:0], s.Output))
	case sflow.DiscardedPacketSample:
		w.fieldString("sampleType", "DISCARD")
		w.ctx.dsClass, w.ctx.dsIndex = s.SourceClass, s.SourceIndex
		w.fieldU32("sampleSequenceNo", s.Sequence)
		w.sourceID(s)
		w.fieldU32("dropEvents", s.Drops)
		w.fieldU32("inputPort", s.Input.Compact())
		w.fieldU32("outputPort", s.Output.Compact())
		w.fieldU32("discardCode", s.DropReason)
		name := sflow.DropReasonName(s.DropReason)
		if name == "" {
			name = "NotFound"
		}
		w.fieldString("discardReason", name)
		w.push("discarded_")
	case sflow.CounterSample, sflow.ExpandedCounterSample:
		counter = true
		w.fieldString("sampleType", "COUNTERSSAMPLE")
		w.fieldU32("sampleSequenceNo", s.Sequence)
		w.ctx.dsClass, w.ctx.dsIndex = s.SourceClass, s.SourceIndex
		w.sourceID(s)
	case sflow.RTMetricSample:
		w.rtmetric(s.Data)
	case sflow.RTFlowSample:
		w.rtflow(s.Data)
	default:
		w.skipping("skipping unknown sample: ", s.Format, len(s.Data))
	}
	if s.Format.IsFlow() || counter {
		w.jsonOpen("elements", '[')
		for _, rec := range s.Records {
			w.record(rec, counter)
		}
		w.jsonClose(']')
	}
	if s.Format == sflow.DiscardedPacketSample {
		w.pop()
	}
	w.jsonClose('}')
	w.line("endSample   ----------------------")
	switch w.mode {
	case Line:
		if s.Format == sflow.FlowSample || s.Format == sflow.ExpandedFlowSample {
			w.flowLine()
		} else if counter {
			w.counterLine()
		}
	case CustomLine:
		if s.Format.IsFlow() || counter {
			w.customLine()
		}
	case Pcap:
		if s.Format == sflow.FlowSample || s.Format == sflow.ExpandedFlowSample {
			w.pcapPacket()
		}
	}
}

func (w *Writer) sourceID(s *sflow.Sample) {
	b := strconv.AppendUint(w.scratch[:0], uint64(s.SourceClass), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(s.SourceIndex), 10)
	w.field("sourceId", b)
}

// appendPort formats a flow sample interface as sflowtool's printInOutPort.
func appendPort(b []byte, i sflow.Interface) []byte {
	switch i.Format {
	case 1:
		b = append(b, "dropCode "...)
	case 2:
		b = append(b, "multiple "...)
	case 3:
		b = append(b, "format==3 "...)
	}
	return strconv.AppendUint(b, uint64(i.Value), 10)
}

func (w *Writer) record(rec sflow.Record, counter bool) {
	w.ctx.element = rec.Format
	w.jsonOpen("", '{')
	if counter {
		w.field("counterBlock_tag", rec.Format.AppendText(w.scratch[:0]))
	} else {
		w.field("flowBlock_tag", rec.Format.AppendText(w.scratch[:0]))
	}
	kind, sampleFormat := "flow_sample_element", sflow.FlowSample
	if counter {
		kind, sampleFormat = "counters_sample_element", sflow.CounterSample
	}
	v, err := w.cache.Decode(sampleFormat, rec)
	switch {
	case v == nil:
		if counter {
			w.skipping("skipping unknown counters_sample_element: ", rec.Format, len(rec.Data))
		} else {
			w.skipping("skipping unknown flow_sample_element: ", rec.Format, len(rec.Data))
		}
	case err != nil:
		fmt.Fprintf(w.errw, "%s: %v\n", appendAddr(nil, w.ctx.agent), err)
		w.line(kind + " decode error: " + err.Error())
	default:
		w.printRecord(rec.Format, counter, v)
	}
	w.jsonClose('}')
}

// flowLine writes sflowtool's -l FLOW line.
func (w *Writer) flowLine() {
	s := &w.smp
	b := append(w.buf, "FLOW,"...)
	b = appendAddr(b, w.ctx.agent)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.inPort)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.outPort)), 10)
	b = append(b, ',')
	b = s.ethSrc.AppendHex(b)
	b = append(b, ',')
	b = s.ethDst.AppendHex(b)
	b = append(b, ",0x"...)
	b = appendHexPad(b, uint64(s.ethType), 4)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.inVLAN)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.outVLAN)), 10)
	b = append(b, ',')
	b = appendAddr(b, s.ipSrc)
	b = append(b, ',')
	b = appendAddr(b, s.ipDst)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.proto)), 10)
	b = append(b, ",0x"...)
	b = appendHexPad(b, uint64(s.tos), 2)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.ttl)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.sport)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.dport)), 10)
	b = append(b, ",0x"...)
	b = appendHexPad(b, uint64(s.tcpFlags), 2)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.sampledPacketSize)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.sampledPacketSize-s.stripped-uint32(s.offsetToIP))), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(int32(s.samplingRate)), 10)
	w.buf = append(b, '\n')
}

// counterLine writes sflowtool's -l CNTR line from the generic counters.
func (w *Writer) counterLine() {
	c := &w.smp.ifc
	b := append(w.buf, "CNTR,"...)
	b = appendAddr(b, w.ctx.agent)
	for _, v := range [...]uint64{uint64(c.Index), uint64(c.Type), c.Speed, uint64(c.Direction), uint64(c.Status),
		c.InOctets, uint64(c.InUcastPkts), uint64(c.InMulticastPkts), uint64(c.InBroadcastPkts),
		uint64(c.InDiscards), uint64(c.InErrors), uint64(c.InUnknownProtos), c.OutOctets,
		uint64(c.OutUcastPkts), uint64(c.OutMulticastPkts), uint64(c.OutBroadcastPkts),
		uint64(c.OutDiscards), uint64(c.OutErrors), uint64(c.PromiscuousMode)} {
		b = append(b, ',')
		b = strconv.AppendUint(b, v, 10)
	}
	w.buf = append(b, '\n')
}

func (w *Writer) customLine() {
	if w.sampleHits > 0 {
		for i, v := range w.values {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = append(w.buf, v...)
		}
		w.buf = append(w.buf, '\n')
	}
	w.clearValues(true)
	w.sampleHits = 0
}

// clearValues forgets the -L values of one scope: the sample's at the end
// of each sample, the datagram's at the end of each datagram.
func (w *Writer) clearValues(sampleScope bool) {
	for i, s := range w.scopes {
		if s == sampleScope {
			w.values[i] = w.values[i][:0]
		}
	}
}

// pcapPacket writes the sample's header as a libpcap record. Headers that
// start at the IP layer get an Ethernet header in front, so tcpdump and
// tshark (reading an Ethernet stream) decode them; other link types, which
// an Ethernet stream cannot carry, are left out.
func (w *Writer) pcapPacket() {
	s := &w.smp
	if len(s.header) == 0 {
		return
	}
	t := w.ctxTime // seconds and microseconds, as sflowtool writes them
	switch s.headerProtocol {
	case sflow.HeaderEthernet:
		w.pcapw.WritePacket(t, s.sampledPacketSize, s.header)
	case sflow.HeaderIPv4, sflow.HeaderIPv6:
		eth := [14]byte{12: 0x08}
		if s.headerProtocol == sflow.HeaderIPv6 {
			eth[12], eth[13] = 0x86, 0xdd
		}
		w.pcapw.WritePacket(t, s.sampledPacketSize+14, eth[:], s.header)
	}
}

func appendHexPad(b []byte, v uint64, width int) []byte {
	const hex = "0123456789abcdef"
	var tmp [16]byte
	n := 0
	for v > 0 || n == 0 {
		tmp[n] = hex[v&15]
		v >>= 4
		n++
	}
	for i := n; i < width; i++ {
		b = append(b, '0')
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, tmp[i])
	}
	return b
}
