package sflowtool

import (
	"encoding/hex"
	"reflect"
	"strconv"

	"github.com/flowrt/flowrt/sflow"
)

// labels are the fixed fields sflowtool prints first for some records.
var labels = map[sflow.DataFormat][2]string{
	1001: {"extendedType", "SWITCH"},
	1002: {"extendedType", "ROUTER"},
	1005: {"extendedType", "URL"},
	1007: {"extendedType", "NAT"},
	1020: {"extendedType", "NAT PORT"},
	1036: {"extendedType", "egress_queue"},
	1037: {"extendedType", "acl"},
	1038: {"extendedType", "function"},
	1039: {"extendedType", "transit_delay"},
	1040: {"extendedType", "queue_depth"},
	1041: {"extendedType", "hw_trap"},
	1042: {"extendedType", "linux_reason"},
	1043: {"extendedType", "timestamp"},
	2100: {"extendedType", "socket4"},
	2101: {"extendedType", "socket6"},
	2102: {"extendedType", "proxy_socket4"},
	2103: {"extendedType", "proxy_socket6"},
	2210: {"extendedType", "entities"},
	2200: {"flowSampleType", "memcache"},
	2201: {"flowSampleType", "http"},
	2206: {"flowSampleType", "http"},
	2202: {"flowSampleType", "applicationOperation"},
}

func (w *Writer) printRecord(f sflow.DataFormat, counter bool, v any) {
	s := &w.smp
	switch r := v.(type) {
	case *sflow.SampledHeader:
		w.header(r)
		return
	case *sflow.SampledEthernet:
		w.ethernet("", r)
		return
	case *sflow.ExtendedL2TunnelOut:
		w.ethernet("tunnel_l2_out_", &r.SampledEthernet)
		return
	case *sflow.ExtendedL2TunnelIn:
		w.ethernet("tunnel_l2_in_", &r.SampledEthernet)
		return
	case *sflow.SampledIPv4:
		w.ipv4("", r)
		return
	case *sflow.ExtendedIPv4TunnelOut:
		w.ipv4("tunnel_ipv4_out_", &r.SampledIPv4)
		return
	case *sflow.ExtendedIPv4TunnelIn:
		w.ipv4("tunnel_ipv4_in_", &r.SampledIPv4)
		return
	case *sflow.SampledIPv6:
		w.ipv6("", r)
		return
	case *sflow.ExtendedIPv6TunnelOut:
		w.ipv6("tunnel_ipv6_out_", &r.SampledIPv6)
		return
	case *sflow.ExtendedIPv6TunnelIn:
		w.ipv6("tunnel_ipv6_in_", &r.SampledIPv6)
		return
	case *sflow.ExtendedDecapOut:
		w.prefixed("out_", "decap", "decap_inner_header_offset", r.InnerHeaderOffset)
		return
	case *sflow.ExtendedDecapIn:
		w.prefixed("in_", "decap", "decap_inner_header_offset", r.InnerHeaderOffset)
		return
	case *sflow.ExtendedVNIOut:
		w.prefixed("out_", "VNI", "VNI", r.VNI)
		return
	case *sflow.ExtendedVNIIn:
		w.prefixed("in_", "VNI", "VNI", r.VNI)
		return
	case *sflow.ExtendedGateway:
		w.gateway(r)
		return
	case *sflow.ExtendedUser:
		w.fieldString("extendedType", "USER")
		w.fieldU32("src_user_charset", r.SrcCharset)
		w.fieldU32("dst_user_charset", r.DstCharset)
		fieldText(w, "src_user", r.SrcUser)
		fieldText(w, "dst_user", r.DstUser)
		return
	case *sflow.ExtendedMPLS:
		w.fieldString("extendedType", "MPLS")
		w.fieldAddr("mpls_nexthop", r.NextHop)
		w.labelStack("mpls_input_stack", r.InStack)
		w.labelStack("mpls_output_stack", r.OutStack)
		return
	case *sflow.ExtendedVLANTunnel:
		if len(r.Stack) > 0 {
			b := w.scratch[:0]
			for i, l := range r.Stack {
				if i > 0 {
					b = append(b, '-')
				}
				b = append(b, "0x"...)
				b = hex.AppendEncode(b, []byte{byte(l >> 24), byte(l >> 16)})
				b = strconv.AppendUint(b, uint64(l>>13&7), 10)
				b = append(b, '.')
				b = strconv.AppendUint(b, uint64(l>>12&1), 10)
				b = append(b, '.')
				b = strconv.AppendUint(b, uint64(l&4095), 10)
			}
			w.scratch = b
			w.field("vlan_tunnel", b)
		}
		return
	case *sflow.Extended80211Payload:
		w.fieldU32("cipher_suite", r.CipherSuite)
		w.header(&r.Header)
		return
	case *sflow.HostAdapters:
		w.adapters(r)
		return
	case *sflow.SFP:
		w.sfp(r)
		return
	case *sflow.ExtendedSwitch:
		s.inVLAN, s.outVLAN = r.SrcVLAN, r.DstVLAN
	case *sflow.GenericInterface:
		s.ifc = *r
	case *sflow.VLAN:
		s.inVLAN = r.ID
	}
	p := w.plan(f, counter, v)
	w.print(p, reflect.ValueOf(v).UnsafePointer())
}

// appendCString appends a string as sflowtool's getString leaves it: cut at
// the first NUL.
func appendCString(b, s []byte) []byte {
	for _, c := range s {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return b
}

func urlEncode(b, s []byte) []byte {
	const hexU = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case c == 0:
			return b
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b = append(b, c)
		case c == ' ' || ('\t' <= c && c <= '\r'):
			b = append(b, '+')
		default:
			b = append(b, '%', hexU[c>>4], hexU[c&15])
		}
	}
	return b
}

var appStatuses = [...]string{"OK", "OTHER", "TIMEOUT", "INTERNAL_ERROR", "BAD_REQUEST", "FORBIDDEN",
	"TOO_LARGE", "NOT_IMPLEMENTED", "NOT_FOUND", "UNAVAILABLE", "UNAUTHORIZED"}

func appendAppStatus(b []byte, v uint32) []byte {
	if v < uint32(len(appStatuses)) {
		return append(b, appStatuses[v]...)
	}
	b = append(b, "<out-of-range="...)
	b = strconv.AppendUint(b, uint64(v), 10)
	return append(b, '>')
}

func (w *Writer) prefixed(prefix, kind, name string, v uint32) {
	w.fieldJoin("extendedType", prefix, kind)
	w.push(prefix)
	w.fieldU32(name, v)
	w.pop()
}

func (w *Writer) ethernet(prefix string, r *sflow.SampledEthernet) {
	w.fieldJoin("flowSampleType", prefix, "ETHERNET")
	s := &w.smp
	s.ethSrc, s.ethDst, s.ethType = r.Src, r.Dst, r.Type
	w.push(prefix)
	w.fieldU32("ethernet_type", r.Type)
	w.fieldU32("ethernet_len", r.Length)
	w.fieldMAC("ethernet_src", r.Src)
	w.fieldMAC("ethernet_dst", r.Dst)
	w.pop()
}

func (w *Writer) ipv4(prefix string, r *sflow.SampledIPv4) {
	w.fieldJoin("flowSampleType", prefix, "IPV4")
	s := &w.smp
	s.sampledPacketSize, s.ipSrc, s.ipDst, s.proto, s.tos = r.Length, r.Src, r.Dst, r.Protocol, r.TOS
	s.sport, s.dport = r.SrcPort, r.DstPort
	w.push(prefix)
	w.fieldU32("sampledPacketSize", r.Length)
	w.fieldU32("IPSize", r.Length)
	w.fieldAddr("srcIP", r.Src)
	w.fieldAddr("dstIP", r.Dst)
	w.fieldU32("IPProtocol", r.Protocol)
	w.fieldU32("IPTOS", r.TOS)
	w.ports(r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags)
	w.pop()
}

func (w *Writer) ipv6(prefix string, r *sflow.SampledIPv6) {
	w.fieldJoin("flowSampleType", prefix, "IPV6")
	s := &w.smp
	s.sampledPacketSize, s.ipSrc, s.ipDst, s.proto = r.Length, r.Src, r.Dst, r.Protocol
	s.sport, s.dport = r.SrcPort, r.DstPort
	w.push(prefix)
	w.fieldU32("sampledPacketSize", r.Length)
	w.fieldU32("IPSize", r.Length)
	w.fieldAddr("srcIP6", r.Src)
	w.fieldAddr("dstIP6", r.Dst)
	w.fieldU32("IPProtocol", r.Protocol)
	w.fieldU32("priority", r.Priority)
	w.ports(r.Protocol, r.SrcPort, r.DstPort, r.TCPFlags)
	w.pop()
}

func (w *Writer) ports(proto, sport, dport, flags uint32) {
	switch proto {
	case 1:
		w.fieldU32("ICMPType", dport)
	case 6:
		w.fieldU32("TCPSrcPort", sport)
		w.fieldU32("TCPDstPort", dport)
		w.smp.tcpFlags = flags
		w.fieldU32("TCPFlags", flags)
	case 17:
		w.fieldU32("UDPSrcPort", sport)
		w.fieldU32("UDPDstPort", dport)
	}
}

func (w *Writer) gateway(g *sflow.ExtendedGateway) {
	w.fieldString("extendedType", "GATEWAY")
	w.fieldAddr("bgp_nexthop", g.NextHop)
	w.fieldU32("my_as", g.AS)
	w.fieldU32("src_as", g.SrcAS)
	w.fieldU32("src_peer_as", g.SrcPeerAS)
	if len(g.DstASPath) > 0 {
		b := w.scratch[:0]
		for _, seg := range g.DstASPath {
			if seg.Type == sflow.ASSet {
				b = append(b, '(')
			}
			for i, as := range seg.ASNs {
				if i > 0 {
					b = append(b, '-')
				}
				b = strconv.AppendUint(b, uint64(as), 10)
			}
			if seg.Type == sflow.ASSet {
				b = append(b, ')')
			}
		}
		w.scratch = b
		w.field("dst_as_path", b)
	}
	w.fieldU32("dst_as", g.DstAS())
	w.fieldU32("dst_peer_as", g.DstPeerAS())
	if len(g.Communities) > 0 {
		b := w.scratch[:0]
		for i, c := range g.Communities {
			if i > 0 {
				b = append(b, '-')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		w.scratch = b
		w.field("BGP_communities", b)
	}
	w.fieldU32("BGP_localpref", g.LocalPref)
}

func (w *Writer) labelStack(name string, stack []uint32) {
	if len(stack) == 0 {
		return
	}
	b := w.scratch[:0]
	for i, l := range stack {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(l>>12), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(l>>9&7), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(l>>8&1), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(l&255), 10)
	}
	w.scratch = b
	w.field(name, b)
}

func (w *Writer) adapters(a *sflow.HostAdapters) {
	if w.mode == JSON || w.mode == JSONLines {
		w.jsonOpen("adaptor_list", '[')
		for _, ad := range a.Adapters {
			w.jsonOpen("", '{')
			w.fieldU32("ifIndex", ad.IfIndex)
			w.fieldU32("MACs", uint32(len(ad.MACs)))
			w.jsonOpen("mac_list", '[')
			for j, m := range ad.MACs {
				if j > 0 {
					w.buf = append(w.buf, ',')
				}
				w.indent()
				w.buf = append(w.buf, '"')
				w.buf = m.AppendHex(w.buf)
				w.buf = append(w.buf, `" `...)
			}
			w.jsonClose(']')
			w.jsonClose('}')
		}
		w.jsonClose(']')
		return
	}
	for i, ad := range a.Adapters {
		w.push("adaptor_")
		w.pfx = strconv.AppendInt(w.pfx, int64(i), 10)
		w.more("_")
		w.fieldU32("ifIndex", ad.IfIndex)
		w.fieldU32("MACs", uint32(len(ad.MACs)))
		for j, m := range ad.MACs {
			w.scratch = m.AppendHex(w.scratch[:0])
			w.fieldNumbered("MAC_", j, w.scratch)
		}
		w.pop()
	}
}

func (w *Writer) sfp(s *sflow.SFP) {
	w.fieldU32("sfp_module_id", s.ModuleID)
	w.fieldU32("sfp_module_total_lanes", s.TotalLanes)
	w.fieldU32("sfp_module_supply_voltage", s.SupplyVoltage)
	w.fieldU32("sfp_module_temperature", uint32(s.Temperature))
	w.fieldU32("sfp_module_active_lanes", uint32(len(s.Lanes)))
	w.jsonOpen("sfp_lanes", '[')
	for i, l := range s.Lanes {
		w.jsonOpen("", '{')
		w.push("sfp_lane_")
		for _, f := range [...]struct {
			name string
			v    uint32
		}{{"index", l.Index}, {"tx_bias_current_uA", l.TxBiasCurrent}, {"tx_power_uW", l.TxPower},
			{"tx_power_min_uW", l.TxPowerMin}, {"tx_power_max_uW", l.TxPowerMax}, {"tx_wavelength_nM", l.TxWavelength},
			{"rx_power_uW", l.RxPower}, {"rx_power_min_uW", l.RxPowerMin}, {"rx_power_max_uW", l.RxPowerMax},
			{"rx_wavelength_nM", l.RxWavelength}} {
			w.name = append(append(w.name[:0], f.name...), '.') // <name>.<lane>
			w.name = strconv.AppendInt(w.name, int64(i), 10)
			w.num = strconv.AppendUint(w.num[:0], uint64(f.v), 10)
			emit(w, w.name, w.num, false)
		}
		w.pop()
		w.jsonClose('}')
	}
	w.jsonClose(']')
}
