package tenant

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// Record formats matching looks into (enterprise 0).
const (
	recSampledHeader   = sflow.DataFormat(1)
	recSampledEthernet = sflow.DataFormat(2)
	recSampledIPv4     = sflow.DataFormat(3)
	recSampledIPv6     = sflow.DataFormat(4)
	recPortName        = sflow.DataFormat(1005) // a counter record
)

// scratch is one datagram's matching state, reused (sync.Pool) so that
// steady-state splitting allocates nothing. Per tenant it keeps the
// indices of the samples picked for it; generation stamps say which
// entries belong to this datagram and this sample without clearing them.
type scratch struct {
	dgen, sgen uint32
	touchedAt  []uint32  // per tenant: dgen when it was first picked in this datagram
	pickedAt   []uint32  // per tenant: sgen when it was picked for the current sample
	picks      [][]int32 // per tenant: the samples picked, valid where touchedAt == dgen
	touched    []int32   // tenants picked in this datagram, in order
	sample     int32     // the sample being matched
	pkt        packet.Packet
	out        sflow.Datagram // the tenant datagram being encoded
	recs       []sflow.Record
}

// reset readies sc for a datagram with n tenants.
func (sc *scratch) reset(n int) {
	if len(sc.touchedAt) < n {
		sc.touchedAt = make([]uint32, n)
		sc.pickedAt = make([]uint32, n)
		sc.picks = append(sc.picks, make([][]int32, n-len(sc.picks))...)
		sc.dgen, sc.sgen = 0, 0
	}
	sc.dgen++
	if sc.dgen == 0 { // wrapped: stamps from 2^32 datagrams ago would match
		clear(sc.touchedAt)
		sc.dgen = 1
	}
	sc.touched = sc.touched[:0]
}

// at starts matching sample i.
func (sc *scratch) at(i int) {
	sc.sample = int32(i)
	sc.sgen++
	if sc.sgen == 0 {
		clear(sc.pickedAt)
		sc.sgen = 1
	}
}

// pick gives the current sample to each tenant of ids (once each).
func (sc *scratch) pick(ids []int32) {
	for _, id := range ids {
		if sc.pickedAt[id] == sc.sgen {
			continue
		}
		sc.pickedAt[id] = sc.sgen
		if sc.touchedAt[id] != sc.dgen {
			sc.touchedAt[id] = sc.dgen
			sc.picks[id] = sc.picks[id][:0]
			sc.touched = append(sc.touched, id)
		}
		sc.picks[id] = append(sc.picks[id], sc.sample)
	}
}

// matchIf picks the tenants of interface (agent, ifIndex).
func (x *index) matchIf(sc *scratch, agent netip.Addr, i sflow.Interface) {
	if idx, ok := i.IfIndex(); ok {
		if ids, ok := x.ifaces[ifKey{agent, idx}]; ok {
			sc.pick(ids)
		}
	}
}

// matchFlow picks the tenants of a flow or discard sample: by its data
// source, its input or output interface, or its sampled packet's addresses.
func (x *index) matchFlow(sc *scratch, agent netip.Addr, s *sflow.Sample) {
	if len(x.ifaces) > 0 {
		if s.SourceClass == 0 {
			if ids, ok := x.ifaces[ifKey{agent, s.SourceIndex}]; ok {
				sc.pick(ids)
			}
		}
		x.matchIf(sc, agent, s.Input)
		x.matchIf(sc, agent, s.Output)
	}
	if !x.addrs {
		return
	}
	for _, r := range s.Records {
		d := r.Data
		switch r.Format {
		case recSampledHeader:
			if len(d) < 16 {
				continue
			}
			n := binary.BigEndian.Uint32(d[12:])
			if uint64(n) > uint64(len(d)-16) {
				continue
			}
			x.matchHeader(sc, binary.BigEndian.Uint32(d), d[16:16+n])
		case recSampledEthernet: // length, src mac (8, padded), dst mac (8), type
			if len(d) >= 20 {
				x.matchMAC(sc, d[4:10])
				x.matchMAC(sc, d[12:18])
			}
		case recSampledIPv4: // length, protocol, src, dst, …
			if len(d) >= 16 {
				x.lookup4(binary.BigEndian.Uint32(d[8:]), 0, sc)
				x.lookup4(binary.BigEndian.Uint32(d[12:]), 0, sc)
			}
		case recSampledIPv6:
			if len(d) >= 40 {
				x.lookup6(binary.BigEndian.Uint64(d[8:]), binary.BigEndian.Uint64(d[16:]), 0, sc)
				x.lookup6(binary.BigEndian.Uint64(d[24:]), binary.BigEndian.Uint64(d[32:]), 0, sc)
			}
		}
	}
}

// matchHeader looks at each Ethernet (outer only: a MAC names a port's
// host) and IP layer of a sampled header.
func (x *index) matchHeader(sc *scratch, proto uint32, h []byte) {
	sc.pkt.Decode(proto, h)
	b := sc.pkt.Bytes()
	for _, l := range sc.pkt.Layers() {
		o := l.Offset
		switch l.Proto {
		case packet.Ethernet:
			if l.Level == 0 && len(x.macs) > 0 && o+12 <= len(b) {
				x.matchMAC(sc, b[o:o+6])
				x.matchMAC(sc, b[o+6:o+12])
			}
		case packet.IPv4:
			if o+20 <= len(b) && len(x.v4Bits[l.Level]) > 0 {
				x.lookup4(binary.BigEndian.Uint32(b[o+12:]), int(l.Level), sc)
				x.lookup4(binary.BigEndian.Uint32(b[o+16:]), int(l.Level), sc)
			}
		case packet.IPv6:
			if o+40 <= len(b) && len(x.v6Bits[l.Level]) > 0 {
				x.lookup6(binary.BigEndian.Uint64(b[o+8:]), binary.BigEndian.Uint64(b[o+16:]), int(l.Level), sc)
				x.lookup6(binary.BigEndian.Uint64(b[o+24:]), binary.BigEndian.Uint64(b[o+32:]), int(l.Level), sc)
			}
		}
	}
}

func (x *index) matchMAC(sc *scratch, m []byte) {
	v := uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	if ids, ok := x.macs[v]; ok {
		sc.pick(ids)
	}
}

// matchCounters picks the tenants of a counter sample's interface.
func (x *index) matchCounters(sc *scratch, agent netip.Addr, s *sflow.Sample) {
	if s.SourceClass != 0 {
		return
	}
	if ids, ok := x.ifaces[ifKey{agent, s.SourceIndex}]; ok {
		sc.pick(ids)
	}
}

// portName returns the name in a counter sample's port-name record.
func portName(s *sflow.Sample) ([]byte, bool) {
	for _, r := range s.Records {
		if r.Format != recPortName || len(r.Data) < 4 {
			continue
		}
		n := binary.BigEndian.Uint32(r.Data)
		if uint64(n) <= uint64(len(r.Data)-4) && n > 0 {
			return r.Data[4 : 4+n], true
		}
	}
	return nil, false
}

// trimmed is a record as it goes into a tenant's datagram: a sampled
// header or a port name loses the bytes after its declared length, so
// that the padding the encoder writes is zeros, not whatever the agent
// left there.
func trimmed(r sflow.Record, counter bool) sflow.Record {
	d := r.Data
	switch {
	case !counter && r.Format == recSampledHeader && len(d) >= 16:
		if n := uint64(binary.BigEndian.Uint32(d[12:])); n <= uint64(len(d)-16) {
			r.Data = d[:16+n]
		}
	case counter && r.Format == recPortName && len(d) >= 4:
		if n := uint64(binary.BigEndian.Uint32(d)); n <= uint64(len(d)-4) {
			r.Data = d[:4+n]
		}
	}
	return r
}
