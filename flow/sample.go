package flow

import (
	"net/netip"
	"strconv"

	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// Sample is what a definition sees of one flow sample (or one dropped-packet
// notification): where it was taken, how it was sampled, the decoded header
// and the extended records that came with it. The engine fills one per
// sample and reuses it; the pointers refer to values that live until the
// next sample.
type Sample struct {
	Agent        netip.Addr
	DataSource   string // "3" for ifIndex 3, "2.1" for other classes
	SourceIndex  uint32
	SamplingRate uint32
	Input        sflow.Interface
	Output       sflow.Interface
	Dropped      bool
	DropReason   uint32

	FrameLength uint32
	Stripped    uint32
	HasHeader   bool
	Packet      packet.Packet

	Switch  *sflow.ExtendedSwitch
	Router  *sflow.ExtendedRouter
	Gateway *sflow.ExtendedGateway
	IPv4    *sflow.SampledIPv4 // when the agent sent no header
	IPv6    *sflow.SampledIPv6
}

// Reset clears the sample for reuse.
func (s *Sample) Reset() {
	p := s.Packet
	*s = Sample{}
	s.Packet = p
	s.Packet.Decode(0, nil)
}

type sampleKeyFunc func(s *Sample, dst []byte) ([]byte, bool)

func appendU(dst []byte, v uint32) []byte { return strconv.AppendUint(dst, uint64(v), 10) }

func appendInterface(dst []byte, i sflow.Interface) ([]byte, bool) {
	switch {
	case i.Internal():
		return append(dst, "internal"...), true
	case i.Format == 1:
		return append(dst, "discard"...), true
	case i.Format == 2:
		return append(dst, "multiple"...), true
	case i.Format == 0 && i.Value == 0:
		return append(dst, "unknown"...), true
	}
	return appendU(dst, i.Value), true
}

func ifIndexOf(i sflow.Interface) (uint32, bool) {
	if i.Format == 0 && i.Value != 0 && !i.Internal() {
		return i.Value, true
	}
	return 0, false
}

// sampleKeys are the keys that come from the sample and its extended
// records rather than from the packet header.
var sampleKeys = map[string]sampleKeyFunc{
	"agent": func(s *Sample, dst []byte) ([]byte, bool) { return s.Agent.AppendTo(dst), s.Agent.IsValid() },
	"datasource": func(s *Sample, dst []byte) ([]byte, bool) {
		return append(dst, s.DataSource...), s.DataSource != ""
	},
	"inputifindex":  func(s *Sample, dst []byte) ([]byte, bool) { return appendInterface(dst, s.Input) },
	"outputifindex": func(s *Sample, dst []byte) ([]byte, bool) { return appendInterface(dst, s.Output) },
	"direction": func(s *Sample, dst []byte) ([]byte, bool) {
		if in, ok := ifIndexOf(s.Input); ok && in == s.SourceIndex {
			return append(dst, "ingress"...), true
		}
		if out, ok := ifIndexOf(s.Output); ok && out == s.SourceIndex {
			return append(dst, "egress"...), true
		}
		return dst, false
	},
	"samplingrate": func(s *Sample, dst []byte) ([]byte, bool) { return appendU(dst, s.SamplingRate), true },
	"bytes": func(s *Sample, dst []byte) ([]byte, bool) {
		return appendU(dst, s.FrameLength), s.FrameLength > 0
	},
	"frames":   func(s *Sample, dst []byte) ([]byte, bool) { return append(dst, '1'), true },
	"stripped": func(s *Sample, dst []byte) ([]byte, bool) { return appendU(dst, s.Stripped), s.HasHeader },
	"reason": func(s *Sample, dst []byte) ([]byte, bool) {
		if !s.Dropped {
			return dst, false
		}
		return append(dst, sflow.DropReasonName(s.DropReason)...), true
	},
	// extended_switch
	"vlansource": func(s *Sample, dst []byte) ([]byte, bool) {
		return switchField(s, dst, func(w *sflow.ExtendedSwitch) uint32 { return w.SrcVLAN })
	},
	"vlandestination": func(s *Sample, dst []byte) ([]byte, bool) {
		return switchField(s, dst, func(w *sflow.ExtendedSwitch) uint32 { return w.DstVLAN })
	},
	"prioritysource": func(s *Sample, dst []byte) ([]byte, bool) {
		return switchField(s, dst, func(w *sflow.ExtendedSwitch) uint32 { return w.SrcPriority })
	},
	"prioritydestination": func(s *Sample, dst []byte) ([]byte, bool) {
		return switchField(s, dst, func(w *sflow.ExtendedSwitch) uint32 { return w.DstPriority })
	},
	// extended_router
	"ipnexthoprouter": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Router == nil || !s.Router.NextHop.IsValid() {
			return dst, false
		}
		return s.Router.NextHop.AppendTo(dst), true
	},
	"ipsourcemaskbits": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Router == nil {
			return dst, false
		}
		return appendU(dst, s.Router.SrcMaskLen), true
	},
	"ipdestinationmaskbits": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Router == nil {
			return dst, false
		}
		return appendU(dst, s.Router.DstMaskLen), true
	},
	// extended_gateway
	"bgpnexthop": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Gateway == nil || !s.Gateway.NextHop.IsValid() {
			return dst, false
		}
		return s.Gateway.NextHop.AppendTo(dst), true
	},
	"bgpas":                gatewayField(func(g *sflow.ExtendedGateway) uint32 { return g.AS }),
	"bgpsourceas":          gatewayField(func(g *sflow.ExtendedGateway) uint32 { return g.SrcAS }),
	"bgpsourcepeeras":      gatewayField(func(g *sflow.ExtendedGateway) uint32 { return g.SrcPeerAS }),
	"bgpdestinationas":     gatewayField((*sflow.ExtendedGateway).DstAS),
	"bgpdestinationpeeras": gatewayField((*sflow.ExtendedGateway).DstPeerAS),
	"bgplocalpref":         gatewayField(func(g *sflow.ExtendedGateway) uint32 { return g.LocalPref }),
	"bgpdestinationaspath": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Gateway == nil {
			return dst, false
		}
		first := true
		for _, seg := range s.Gateway.DstASPath {
			for _, as := range seg.ASNs {
				if !first {
					dst = append(dst, '-')
				}
				dst, first = appendU(dst, as), false
			}
		}
		return dst, true
	},
	"bgpcommunities": func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Gateway == nil {
			return dst, false
		}
		for i, c := range s.Gateway.Communities {
			if i > 0 {
				dst = append(dst, '-')
			}
			dst = appendU(dst, c>>16)
			dst = append(dst, ':')
			dst = appendU(dst, c&0xffff)
		}
		return dst, true
	},
}

func switchField(s *Sample, dst []byte, f func(*sflow.ExtendedSwitch) uint32) ([]byte, bool) {
	if s.Switch == nil {
		return dst, false
	}
	return appendU(dst, f(s.Switch)), true
}

func gatewayField(f func(*sflow.ExtendedGateway) uint32) sampleKeyFunc {
	return func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Gateway == nil {
			return dst, false
		}
		return appendU(dst, f(s.Gateway)), true
	}
}

// sampledIPKeys answer the IP keys from sampled_ipv4 / sampled_ipv6 records
// for agents that send those instead of headers.
var sampledIPKeys = map[string]sampleKeyFunc{
	"ipsource":       v4Key(func(r *sflow.SampledIPv4, dst []byte) []byte { return r.Src.AppendTo(dst) }),
	"ipdestination":  v4Key(func(r *sflow.SampledIPv4, dst []byte) []byte { return r.Dst.AppendTo(dst) }),
	"ipprotocol":     v4Key(func(r *sflow.SampledIPv4, dst []byte) []byte { return appendU(dst, r.Protocol) }),
	"ip6source":      v6Key(func(r *sflow.SampledIPv6, dst []byte) []byte { return r.Src.AppendTo(dst) }),
	"ip6destination": v6Key(func(r *sflow.SampledIPv6, dst []byte) []byte { return r.Dst.AppendTo(dst) }),
	"ip6nexthdr":     v6Key(func(r *sflow.SampledIPv6, dst []byte) []byte { return appendU(dst, r.Protocol) }),
}

func v4Key(f func(r *sflow.SampledIPv4, dst []byte) []byte) sampleKeyFunc {
	return func(s *Sample, dst []byte) ([]byte, bool) {
		if s.IPv4 == nil {
			return dst, false
		}
		return f(s.IPv4, dst), true
	}
}

func v6Key(f func(r *sflow.SampledIPv6, dst []byte) []byte) sampleKeyFunc {
	return func(s *Sample, dst []byte) ([]byte, bool) {
		if s.IPv6 == nil {
			return dst, false
		}
		return f(s.IPv6, dst), true
	}
}
