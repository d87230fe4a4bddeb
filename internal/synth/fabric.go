package synth

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/flowrt/flowrt/sflow"
)

// Switch is a switch as its sFlow agent describes itself: the hostname in
// host_descr (at data source 2.1) and each port's ifName in port_name,
// the way Host sFlow on Cumulus, SONiC or a containerlab FRR node sends
// them. Topologies of links only name nodes and ports by these names.
type Switch struct {
	Agent netip.Addr
	Name  string
	Ports map[string]uint32 // ifName → ifIndex
	// LAG makes ports members of a link aggregation (ifIndex → the
	// aggregator's ifIndex): their counters carry a LAG port record with the
	// partner's system ID.
	LAG     map[uint32]uint32
	Partner [6]byte
	seq     uint32
}

// Counters returns one datagram with the switch's host_descr and, for each
// port, a generic interface and a port_name record.
func (s *Switch) Counters(uptime uint32) ([]byte, error) {
	s.seq++
	d := sflow.Datagram{Version: 5, Agent: s.Agent, Sequence: s.seq, Uptime: uptime}
	descr, err := sflow.NewRecord(&sflow.HostDescr{Hostname: []byte(s.Name), OSName: 2, MachineType: 3})
	if err != nil {
		return nil, err
	}
	d.Samples = append(d.Samples, sflow.Sample{Format: sflow.CounterSample, Sequence: s.seq, SourceClass: 2,
		SourceIndex: 1, Records: []sflow.Record{descr}})
	names := make([]string, 0, len(s.Ports))
	for n := range s.Ports {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		i := s.Ports[n]
		gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: i, Type: 6, Speed: 10_000_000_000, Direction: 1, Status: 3})
		if err != nil {
			return nil, err
		}
		pn, err := sflow.NewRecord(&sflow.PortName{Name: []byte(n)})
		if err != nil {
			return nil, err
		}
		recs := []sflow.Record{gen, pn}
		if agg, ok := s.LAG[i]; ok {
			lag, err := sflow.NewRecord(&sflow.LAGPort{PartnerSystemID: s.Partner, AttachedAggID: agg})
			if err != nil {
				return nil, err
			}
			recs = append(recs, lag)
		}
		d.Samples = append(d.Samples, sflow.Sample{Format: sflow.CounterSample, Sequence: s.seq, SourceIndex: i,
			Records: recs})
	}
	d.NumSamples = uint32(len(d.Samples))
	return d.AppendBinary(nil)
}

// Frame is one sampled frame between two hosts.
type Frame struct {
	SrcMAC, DstMAC [6]byte
	VLAN           uint16 // 0: untagged
	Src, Dst       netip.Addr
}

// Header returns the frame's first bytes: Ethernet (802.1Q tagged when
// VLAN is set), IPv4 and UDP.
func (f Frame) Header() []byte {
	b := append(f.DstMAC[:0:0], f.DstMAC[:]...)
	b = append(b, f.SrcMAC[:]...)
	if f.VLAN != 0 {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, f.VLAN)
	}
	b = binary.BigEndian.AppendUint16(b, 0x0800)
	b = append(b, ipv4(f.Src, f.Dst, 17, udpLen+32)...)
	return append(b, udp(4000, 5000, 32)...)
}

// Sample returns one datagram from the switch with a flow sample of the
// frame, taken as it came in on ifIndex in and went out on out.
func (s *Switch) Sample(f Frame, in, out uint32, uptime uint32) ([]byte, error) {
	s.seq++
	hdr, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: 128, Stripped: fcs, Header: f.Header()})
	if err != nil {
		return nil, err
	}
	d := sflow.Datagram{Version: 5, Agent: s.Agent, Sequence: s.seq, Uptime: uptime, NumSamples: 1,
		Samples: []sflow.Sample{{Format: sflow.FlowSample, Sequence: s.seq, SourceIndex: in, SamplingRate: 1,
			SamplePool: s.seq, Input: sflow.Interface{Value: in}, Output: sflow.Interface{Value: out},
			Records: []sflow.Record{hdr}}}}
	return d.AppendBinary(nil)
}
