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
	TCPInfo *sflow.ExtendedTCPInfo // Host sFlow's tcp_info for the sampled packet's socket
	// Entities names the data sources (a container, a systemd service) that
	// sent and received the packet (Host sFlow's extended_entities).
	Entities *sflow.ExtendedEntities
	HTTP     *HTTP               // an HTTP transaction (Host sFlow's HTTP modules)
	App      *sflow.AppOperation // an application transaction

	Queue   *sflow.ExtendedEgressQueue  // the egress queue the packet was put in (0:1036)
	Depth   *sflow.ExtendedQueueDepth   // that queue's depth in bytes when it was (0:1040)
	Transit *sflow.ExtendedTransitDelay // nanoseconds through the switch (0:1039)
	VNIIn   *sflow.ExtendedVNIIn        // the virtual network it arrived on, as the agent reports it (0:1030)
	VNIOut  *sflow.ExtendedVNIOut       // the one it leaves on (0:1029)
}

// HTTP is an HTTP transaction from either HTTP request record (0:2201 or
// 0:2206).
type HTTP struct {
	Method, Protocol, Status, Duration   uint32
	URI, Host, Referrer, UserAgent, Mime []byte
	XFF                                  []byte
	Bytes, RequestBytes                  uint64
}

// FromRequest fills h from a 0:2201 record.
func (h *HTTP) FromRequest(r *sflow.HTTPRequest) {
	*h = HTTP{Method: r.Method, Protocol: r.Protocol, Status: r.Status, Duration: r.Duration, URI: r.URI,
		Host: r.Host, Referrer: r.Referrer, UserAgent: r.UserAgent, Mime: r.MimeType, Bytes: r.Bytes}
}

// FromRequest2 fills h from a 0:2206 record.
func (h *HTTP) FromRequest2(r *sflow.HTTPRequest2) {
	*h = HTTP{Method: r.Method, Protocol: r.Protocol, Status: r.Status, Duration: r.Duration, URI: r.URI,
		Host: r.Host, Referrer: r.Referrer, UserAgent: r.UserAgent, Mime: r.MimeType, XFF: r.XFF, Bytes: r.Bytes,
		RequestBytes: r.RequestBytes}
}

// httpMethods are the http_method enumeration of the HTTP structures.
var httpMethods = [...]string{"OTHER", "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"}

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

// Transaction keys: Host sFlow's tcp_info, HTTP and application records.
func init() {
	tcp := func(f func(i *sflow.ExtendedTCPInfo) uint32) sampleKeyFunc {
		return func(s *Sample, dst []byte) ([]byte, bool) {
			if s.TCPInfo == nil {
				return dst, false
			}
			return appendU(dst, f(s.TCPInfo)), true
		}
	}
	sampleKeys["tcprtt"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.RTT })
	sampleKeys["tcprttsdev"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.RTTVar })
	sampleKeys["tcprttmin"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.RTTMin })
	sampleKeys["tcpunacked"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.Unacked })
	sampleKeys["tcplost"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.Lost })
	sampleKeys["tcpretrans"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.Retrans })
	sampleKeys["tcpcwndsnd"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.SendCwnd })
	sampleKeys["tcppmtu"] = tcp(func(i *sflow.ExtendedTCPInfo) uint32 { return i.PathMTU })

	text := func(f func(h *HTTP) []byte) sampleKeyFunc {
		return func(s *Sample, dst []byte) ([]byte, bool) {
			if s.HTTP == nil {
				return dst, false
			}
			v := f(s.HTTP)
			return append(dst, v...), len(v) > 0
		}
	}
	sampleKeys["httphost"] = text(func(h *HTTP) []byte { return h.Host })
	sampleKeys["httpuri"] = text(func(h *HTTP) []byte { return h.URI })
	sampleKeys["httpreferer"] = text(func(h *HTTP) []byte { return h.Referrer })
	sampleKeys["httpuseragent"] = text(func(h *HTTP) []byte { return h.UserAgent })
	sampleKeys["httpmimetype"] = text(func(h *HTTP) []byte { return h.Mime })
	sampleKeys["httpxff"] = text(func(h *HTTP) []byte { return h.XFF })
	sampleKeys["httpurl"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.HTTP == nil || len(s.HTTP.URI) == 0 {
			return dst, false
		}
		if len(s.HTTP.Host) > 0 {
			dst = append(append(dst, "http://"...), s.HTTP.Host...)
		}
		return append(dst, s.HTTP.URI...), true
	}
	sampleKeys["uripath"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.HTTP == nil || len(s.HTTP.URI) == 0 {
			return dst, false
		}
		u := s.HTTP.URI
		for i, c := range u {
			if c == '?' || c == '#' {
				u = u[:i]
				break
			}
		}
		return append(dst, u...), true
	}
	sampleKeys["httpmethod"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.HTTP == nil {
			return dst, false
		}
		if int(s.HTTP.Method) < len(httpMethods) {
			return append(dst, httpMethods[s.HTTP.Method]...), true
		}
		return appendU(dst, s.HTTP.Method), true
	}
	sampleKeys["httpstatus"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.HTTP == nil {
			return dst, false
		}
		return appendU(dst, s.HTTP.Status), true
	}
	// Values of transactions: each sampled transaction is one request;
	// duration is in microseconds.
	// requests: one per sampled transaction. A sampled packet that is a DNS
	// message (query or response) is one: Flow Trend's and Top Flows' DNS
	// views use value:'requests' on switch samples (keys dnsqname, filter
	// dnsqr=false for clients, dnsqr=true for servers), so each sampled DNS
	// packet, times the sampling rate, is a DNS request per second.
	sampleKeys["requests"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.HTTP != nil || s.App != nil {
			return append(dst, '1'), true
		}
		if s.HasHeader {
			if _, ok := s.Packet.Find(packet.DNS, 0); ok {
				return append(dst, '1'), true
			}
		}
		return dst, false
	}
	sampleKeys["duration"] = func(s *Sample, dst []byte) ([]byte, bool) {
		switch {
		case s.HTTP != nil:
			return appendU(dst, s.HTTP.Duration), true
		case s.App != nil:
			return appendU(dst, s.App.Duration), true
		}
		return dst, false
	}
	app := func(f func(a *sflow.AppOperation) []byte) sampleKeyFunc {
		return func(s *Sample, dst []byte) ([]byte, bool) {
			if s.App == nil {
				return dst, false
			}
			v := f(s.App)
			return append(dst, v...), len(v) > 0
		}
	}
	// Queue and delay records (sflow_drops.txt's extended_egress_queue,
	// extended_queue_depth, extended_transit_delay): what a switch saw of
	// the sampled packet on its way through.
	sampleKeys["queueindex"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Queue == nil {
			return dst, false
		}
		return appendU(dst, s.Queue.Queue), true
	}
	sampleKeys["queuedepth"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Depth == nil {
			return dst, false
		}
		return appendU(dst, s.Depth.Depth), true
	}
	sampleKeys["transitdelay"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.Transit == nil {
			return dst, false
		}
		return appendU(dst, s.Transit.Delay), true
	}
	// tcprttwait is the part of the round trip spent waiting (in queues):
	// the smoothed RTT less the lowest RTT the socket has seen, in µs;
	// absent when the agent reports no minimum.
	sampleKeys["tcprttwait"] = func(s *Sample, dst []byte) ([]byte, bool) {
		if s.TCPInfo == nil || s.TCPInfo.RTTMin == 0 || s.TCPInfo.RTT < s.TCPInfo.RTTMin {
			return dst, false
		}
		return appendU(dst, s.TCPInfo.RTT-s.TCPInfo.RTTMin), true
	}
	// vni is the virtual network of the packet: as the agent reports it
	// (extended_vni_ingress, then egress), else from the outer tunnel header
	// sampled (VXLAN VNI, Geneve VNI, NVGRE VSID).
	sampleKeys["vni"] = func(s *Sample, dst []byte) ([]byte, bool) {
		switch {
		case s.VNIIn != nil:
			return appendU(dst, s.VNIIn.VNI), true
		case s.VNIOut != nil:
			return appendU(dst, s.VNIOut.VNI), true
		case !s.HasHeader:
			return dst, false
		}
		for _, k := range tunnelIDs {
			if out, ok := k.Append(&s.Packet, dst); ok {
				return out, true
			}
		}
		return dst, false
	}
	sampleKeys["application"] = app(func(a *sflow.AppOperation) []byte { return a.Application })
	sampleKeys["operation"] = app(func(a *sflow.AppOperation) []byte { return a.Operation })
}

// tunnelIDs are the header keys vni falls back to, in order.
var tunnelIDs = func() (ks []packet.Key) {
	for _, name := range []string{"vxlanvni", "genevevni", "grevsid"} {
		k, _ := packet.Lookup(name)
		ks = append(ks, k)
	}
	return ks
}()

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

// sampledIPAddrs are sampledIPKeys' address keys, as addresses (addrKey).
var sampledIPAddrs = map[string]func(*Sample) (netip.Addr, bool){
	"ipsource":       func(s *Sample) (netip.Addr, bool) { return v4Addr(s, true) },
	"ipdestination":  func(s *Sample) (netip.Addr, bool) { return v4Addr(s, false) },
	"ip6source":      func(s *Sample) (netip.Addr, bool) { return v6Addr(s, true) },
	"ip6destination": func(s *Sample) (netip.Addr, bool) { return v6Addr(s, false) },
}

func v4Addr(s *Sample, src bool) (netip.Addr, bool) {
	switch {
	case s.IPv4 == nil:
		return netip.Addr{}, false
	case src:
		return s.IPv4.Src, true
	}
	return s.IPv4.Dst, true
}

func v6Addr(s *Sample, src bool) (netip.Addr, bool) {
	switch {
	case s.IPv6 == nil:
		return netip.Addr{}, false
	case src:
		return s.IPv6.Src, true
	}
	return s.IPv6.Dst, true
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

// SourceAddr returns the outer IP source address of the sample (IPv4 or
// IPv6, from the header or a sampled_ipv4/ipv6 record), without parsing
// text.
func (s *Sample) SourceAddr() (netip.Addr, bool) { return s.addr(12, 8) }

// DestinationAddr is SourceAddr for the destination.
func (s *Sample) DestinationAddr() (netip.Addr, bool) { return s.addr(16, 24) }

func (s *Sample) addr(off4, off6 int) (netip.Addr, bool) {
	if s.HasHeader {
		b := s.Packet.Bytes()
		if l, ok := s.Packet.Find(packet.IPv4, 0); ok && l.Offset+off4+4 <= len(b) {
			return netip.AddrFrom4([4]byte(b[l.Offset+off4 : l.Offset+off4+4])), true
		}
		if l, ok := s.Packet.Find(packet.IPv6, 0); ok && l.Offset+off6+16 <= len(b) {
			return netip.AddrFrom16([16]byte(b[l.Offset+off6 : l.Offset+off6+16])), true
		}
		return netip.Addr{}, false
	}
	switch {
	case s.IPv4 != nil && off4 == 12:
		return s.IPv4.Src, true
	case s.IPv4 != nil:
		return s.IPv4.Dst, true
	case s.IPv6 != nil && off4 == 12:
		return s.IPv6.Src, true
	case s.IPv6 != nil:
		return s.IPv6.Dst, true
	}
	return netip.Addr{}, false
}
