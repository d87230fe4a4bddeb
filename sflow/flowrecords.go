package sflow

import "net/netip"

// Flow records (flow_data), as defined in SFLOW-STRUCTS5 and the published
// extensions (tunnels, drops, host, application, 802.11). Field order is the
// wire order; the codec in codec.go walks the fields in order. Struct tags:
//
//	xdr:"ip4" / xdr:"ip6"  a fixed-size address with no type prefix
//	xdr:"more"             a bool: the fields after it are present only when
//	                       the record is long enough (later additions to a
//	                       structure); set on decode, honoured on encode
//	sflowtool:"name,opts"  the field's name in sflowtool output; opts say how
//	                       it is printed (see package sflowtool)

// SampledHeader (0:1) is the leading bytes of a sampled packet.
type SampledHeader struct {
	Protocol    uint32 `sflowtool:"headerProtocol"`
	FrameLength uint32 `sflowtool:"sampledPacketSize"`
	Stripped    uint32 `sflowtool:"strippedBytes"`
	Header      []byte `sflowtool:"headerBytes"`
}

// SampledEthernet (0:2) describes an Ethernet frame without its bytes.
type SampledEthernet struct {
	Length uint32
	Src    MAC
	Dst    MAC
	Type   uint32
}

// SampledIPv4 (0:3) describes an IPv4 packet without its bytes.
type SampledIPv4 struct {
	Length   uint32
	Protocol uint32
	Src      netip.Addr `xdr:"ip4"`
	Dst      netip.Addr `xdr:"ip4"`
	SrcPort  uint32
	DstPort  uint32
	TCPFlags uint32
	TOS      uint32
}

// SampledIPv6 (0:4) describes an IPv6 packet without its bytes.
type SampledIPv6 struct {
	Length   uint32
	Protocol uint32
	Src      netip.Addr `xdr:"ip6"`
	Dst      netip.Addr `xdr:"ip6"`
	SrcPort  uint32
	DstPort  uint32
	TCPFlags uint32
	Priority uint32
}

// ExtendedSwitch (0:1001): 802.1Q VLAN and priority in and out.
type ExtendedSwitch struct {
	SrcVLAN     uint32 `sflowtool:"in_vlan"`
	SrcPriority uint32 `sflowtool:"in_priority"`
	DstVLAN     uint32 `sflowtool:"out_vlan"`
	DstPriority uint32 `sflowtool:"out_priority"`
}

// ExtendedRouter (0:1002): IP forwarding information.
type ExtendedRouter struct {
	NextHop    netip.Addr `sflowtool:"nextHop"`
	SrcMaskLen uint32     `sflowtool:"srcSubnetMask"`
	DstMaskLen uint32     `sflowtool:"dstSubnetMask"`
}

// AS path segment types of ExtendedGateway.
const (
	ASSet      = 1
	ASSequence = 2
)

// ASPathSegment is one segment of a BGP AS path.
type ASPathSegment struct {
	Type uint32 // ASSet or ASSequence
	ASNs []uint32
}

// ExtendedGateway (0:1003): BGP routing information.
type ExtendedGateway struct {
	NextHop     netip.Addr
	AS          uint32
	SrcAS       uint32
	SrcPeerAS   uint32
	DstASPath   []ASPathSegment
	Communities []uint32
	LocalPref   uint32
}

// DstAS returns the last AS of the destination path (0 if none): the origin.
func (g *ExtendedGateway) DstAS() uint32 {
	for i := len(g.DstASPath) - 1; i >= 0; i-- {
		if s := g.DstASPath[i].ASNs; len(s) > 0 {
			return s[len(s)-1]
		}
	}
	return 0
}

// DstPeerAS returns the first AS of the destination path (0 if none).
func (g *ExtendedGateway) DstPeerAS() uint32 {
	if len(g.DstASPath) > 0 && len(g.DstASPath[0].ASNs) > 0 {
		return g.DstASPath[0].ASNs[0]
	}
	return 0
}

// ExtendedUser (0:1004): source and destination user (RADIUS/TACACS).
type ExtendedUser struct {
	SrcCharset uint32
	SrcUser    []byte
	DstCharset uint32
	DstUser    []byte
}

// ExtendedURL (0:1005, deprecated): URL associated with the packet.
type ExtendedURL struct {
	Direction uint32 `sflowtool:"url_direction"`
	URL       []byte `sflowtool:"url"`
	Host      []byte `sflowtool:"host"`
}

// ExtendedMPLS (0:1006): MPLS next hop and label stacks (each entry a label
// stack entry: label<<12 | exp<<9 | bottom<<8 | ttl).
type ExtendedMPLS struct {
	NextHop  netip.Addr
	InStack  []uint32
	OutStack []uint32
}

// ExtendedNAT (0:1007): translated source and destination addresses.
type ExtendedNAT struct {
	Src netip.Addr `sflowtool:"nat_src"`
	Dst netip.Addr `sflowtool:"nat_dst"`
}

// ExtendedMPLSTunnel (0:1008).
type ExtendedMPLSTunnel struct {
	Name []byte `sflowtool:"mpls_tunnel_lsp_name,nonempty"`
	ID   uint32 `sflowtool:"mpls_tunnel_id"`
	COS  uint32 `sflowtool:"mpls_tunnel_cos"`
}

// ExtendedMPLSVC (0:1009).
type ExtendedMPLSVC struct {
	Name []byte `sflowtool:"mpls_vc_name,nonempty"`
	ID   uint32 `sflowtool:"mpls_vll_vc_id"`
	COS  uint32 `sflowtool:"mpls_vc_cos"`
}

// ExtendedMPLSFTN (0:1010).
type ExtendedMPLSFTN struct {
	Description []byte `sflowtool:"mpls_ftn_descr,nonempty"`
	Mask        uint32 `sflowtool:"mpls_ftn_mask"`
}

// ExtendedMPLSLDPFEC (0:1011).
type ExtendedMPLSLDPFEC struct {
	PrefixLength uint32 `sflowtool:"mpls_fec_addr_prefix_len"`
}

// ExtendedVLANTunnel (0:1012): the 802.1Q tag stack (TPID<<16 | TCI each).
type ExtendedVLANTunnel struct {
	Stack []uint32
}

// Extended80211Payload (0:1013): the decrypted header of an 802.11 frame.
type Extended80211Payload struct {
	CipherSuite uint32 `sflowtool:"cipher_suite"`
	Header      SampledHeader
}

// Extended80211RX (0:1014).
type Extended80211RX struct {
	SSID     []byte `sflowtool:"rx_SSID,nonempty"`
	BSSID    MAC    `sflowtool:"rx_BSSID"`
	Version  uint32 `sflowtool:"rx_version"`
	Channel  uint32 `sflowtool:"rx_channel"`
	Speed    uint64 `sflowtool:"rx_speed"`
	RSNI     uint32 `sflowtool:"rx_rsni"`
	RCPI     uint32 `sflowtool:"rx_rcpi"`
	Duration uint32 `sflowtool:"rx_packet_uS"`
}

// Extended80211TX (0:1015).
type Extended80211TX struct {
	SSID            []byte `sflowtool:"tx_SSID,nonempty"`
	BSSID           MAC    `sflowtool:"tx_BSSID"`
	Version         uint32 `sflowtool:"tx_version"`
	Transmissions   uint32 `sflowtool:"tx_transmissions"`
	Duration        uint32 `sflowtool:"tx_packet_uS"`
	RetransDuration uint32 `sflowtool:"tx_retrans_uS"`
	Channel         uint32 `sflowtool:"tx_channel"`
	Speed           uint64 `sflowtool:"tx_speed"`
	Power           uint32 `sflowtool:"tx_power_mW"`
}

// ExtendedNATPort (0:1020).
type ExtendedNATPort struct {
	SrcPort uint32 `sflowtool:"nat_src_port"`
	DstPort uint32 `sflowtool:"nat_dst_port"`
}

// Tunnel structures (sflow_tunnels.txt): the outer headers of a packet that
// left (Out) or arrived (In) through a tunnel, described like 0:2..0:4.
type (
	ExtendedL2TunnelOut   struct{ SampledEthernet } // 0:1021
	ExtendedL2TunnelIn    struct{ SampledEthernet } // 0:1022
	ExtendedIPv4TunnelOut struct{ SampledIPv4 }     // 0:1023
	ExtendedIPv4TunnelIn  struct{ SampledIPv4 }     // 0:1024
	ExtendedIPv6TunnelOut struct{ SampledIPv6 }     // 0:1025
	ExtendedIPv6TunnelIn  struct{ SampledIPv6 }     // 0:1026
)

// ExtendedDecap (0:1027 out, 0:1028 in): offset of the inner header in the
// sampled header.
type (
	ExtendedDecapOut struct{ InnerHeaderOffset uint32 }
	ExtendedDecapIn  struct{ InnerHeaderOffset uint32 }
)

// ExtendedVNI (0:1029 out, 0:1030 in): virtual network identifier.
type (
	ExtendedVNIOut struct{ VNI uint32 }
	ExtendedVNIIn  struct{ VNI uint32 }
)

// Drop notification structures (sflow_drops.txt).

// ExtendedEgressQueue (0:1036).
type ExtendedEgressQueue struct {
	Queue uint32 `sflowtool:"egress_queue_id"`
}

// ExtendedACL (0:1037).
type ExtendedACL struct {
	Number    uint32 `sflowtool:"acl_number"`
	Name      []byte `sflowtool:"acl_name,nonempty"`
	Direction uint32 `sflowtool:"acl_direction"` // 0 unknown, 1 ingress, 2 egress
}

// ExtendedFunction (0:1038): the software function that dropped the packet.
type ExtendedFunction struct {
	Symbol []byte `sflowtool:"symbol,nonempty"`
}

// ExtendedTransitDelay (0:1039).
type ExtendedTransitDelay struct {
	Delay uint32 `sflowtool:"transit_delay_nS"`
}

// ExtendedQueueDepth (0:1040).
type ExtendedQueueDepth struct {
	Depth uint32 `sflowtool:"queue_depth_bytes"`
}

// ExtendedHardwareTrap (0:1041).
type ExtendedHardwareTrap struct {
	Group []byte `sflowtool:"hw_trap_group,nonempty"`
	Trap  []byte `sflowtool:"hw_trap_name,nonempty"`
}

// ExtendedLinuxReason (0:1042).
type ExtendedLinuxReason struct {
	Reason []byte `sflowtool:"linux_drop_reason,nonempty"`
}

// ExtendedTimestamp (0:1043): when the packet was sampled, in nanoseconds
// since the UNIX epoch (UTC), from the agent's most accurate synchronized
// clock (PTP, NTP …).
type ExtendedTimestamp struct {
	Nanoseconds uint64 `sflowtool:"timestamp_nS"`
}

// Host sFlow socket structures (sflow_host.txt).

// ExtendedSocketIPv4 (0:2100).
type ExtendedSocketIPv4 struct {
	Protocol   uint32     `sflowtool:"socket4_ip_protocol"`
	Local      netip.Addr `xdr:"ip4" sflowtool:"socket4_local_ip"`
	Remote     netip.Addr `xdr:"ip4" sflowtool:"socket4_remote_ip"`
	LocalPort  uint32     `sflowtool:"socket4_local_port"`
	RemotePort uint32     `sflowtool:"socket4_remote_port"`
}

// ExtendedSocketIPv6 (0:2101).
type ExtendedSocketIPv6 struct {
	Protocol   uint32     `sflowtool:"socket6_ip_protocol"`
	Local      netip.Addr `xdr:"ip6" sflowtool:"socket6_local_ip"`
	Remote     netip.Addr `xdr:"ip6" sflowtool:"socket6_remote_ip"`
	LocalPort  uint32     `sflowtool:"socket6_local_port"`
	RemotePort uint32     `sflowtool:"socket6_remote_port"`
}

// ExtendedProxySocketIPv4 (0:2102).
type ExtendedProxySocketIPv4 struct {
	Protocol   uint32     `sflowtool:"proxy_socket4_ip_protocol"`
	Local      netip.Addr `xdr:"ip4" sflowtool:"proxy_socket4_local_ip"`
	Remote     netip.Addr `xdr:"ip4" sflowtool:"proxy_socket4_remote_ip"`
	LocalPort  uint32     `sflowtool:"proxy_socket4_local_port"`
	RemotePort uint32     `sflowtool:"proxy_socket4_remote_port"`
}

// ExtendedProxySocketIPv6 (0:2103).
type ExtendedProxySocketIPv6 struct {
	Protocol   uint32     `sflowtool:"proxy_socket6_ip_protocol"`
	Local      netip.Addr `xdr:"ip6" sflowtool:"proxy_socket6_local_ip"`
	Remote     netip.Addr `xdr:"ip6" sflowtool:"proxy_socket6_remote_ip"`
	LocalPort  uint32     `sflowtool:"proxy_socket6_local_port"`
	RemotePort uint32     `sflowtool:"proxy_socket6_remote_port"`
}

// Application structures (sflow_application.txt, sflow_http.txt,
// sflow_memcache.txt).

// MemcacheOperation (0:2200).
type MemcacheOperation struct {
	Protocol   uint32 `sflowtool:"memcache_op_protocol"`
	Command    uint32 `sflowtool:"memcache_op_cmd"`
	Key        []byte `sflowtool:"memcache_op_key,nonempty,urlencode"`
	NKeys      uint32 `sflowtool:"memcache_op_nkeys"`
	ValueBytes uint32 `sflowtool:"memcache_op_value_bytes"`
	Duration   uint32 `sflowtool:"memcache_op_duration_uS"`
	Status     uint32 `sflowtool:"memcache_op_status"`
}

// HTTPRequest (0:2201).
type HTTPRequest struct {
	Method    uint32 `sflowtool:"http_method"`
	Protocol  uint32 `sflowtool:"http_protocol"`
	URI       []byte `sflowtool:"http_uri,nonempty"`
	Host      []byte `sflowtool:"http_host,nonempty"`
	Referrer  []byte `sflowtool:"http_referrer,nonempty"`
	UserAgent []byte `sflowtool:"http_useragent,nonempty"`
	AuthUser  []byte `sflowtool:"http_authuser,nonempty"`
	MimeType  []byte `sflowtool:"http_mimetype,nonempty"`
	Bytes     uint64 `sflowtool:"http_bytes"`
	Duration  uint32 `sflowtool:"http_duration_uS"`
	Status    uint32 `sflowtool:"http_status"`
}

// HTTPRequest2 (0:2206) adds X-Forwarded-For and request bytes.
type HTTPRequest2 struct {
	Method       uint32 `sflowtool:"http_method"`
	Protocol     uint32 `sflowtool:"http_protocol"`
	URI          []byte `sflowtool:"http_uri,nonempty"`
	Host         []byte `sflowtool:"http_host,nonempty"`
	Referrer     []byte `sflowtool:"http_referrer,nonempty"`
	UserAgent    []byte `sflowtool:"http_useragent,nonempty"`
	XFF          []byte `sflowtool:"http_xff,nonempty"`
	AuthUser     []byte `sflowtool:"http_authuser,nonempty"`
	MimeType     []byte `sflowtool:"http_mimetype,nonempty"`
	RequestBytes uint64 `sflowtool:"http_request_bytes"`
	Bytes        uint64 `sflowtool:"http_bytes"`
	Duration     uint32 `sflowtool:"http_duration_uS"`
	Status       uint32 `sflowtool:"http_status"`
}

// AppOperation (0:2202): one application transaction.
type AppOperation struct {
	Application   []byte `sflowtool:"application,nonempty"`
	Operation     []byte `sflowtool:"operation,nonempty"`
	Attributes    []byte `sflowtool:"attributes,nonempty"`
	StatusDescr   []byte `sflowtool:"status_descr,nonempty"`
	RequestBytes  uint64 `sflowtool:"request_bytes"`
	ResponseBytes uint64 `sflowtool:"response_bytes"`
	Duration      uint32 `sflowtool:"duration_uS"`
	Status        uint32 `sflowtool:"status,appstatus"`
}

// AppParentContext (0:2203).
type AppParentContext struct {
	Application []byte `sflowtool:"server_context_application,nonempty"`
	Operation   []byte `sflowtool:"server_context_operation,nonempty"`
	Attributes  []byte `sflowtool:"server_context_attributes,nonempty"`
}

// AppInitiator (0:2204).
type AppInitiator struct {
	Actor []byte `sflowtool:"actor_initiator,nonempty"`
}

// AppTarget (0:2205).
type AppTarget struct {
	Actor []byte `sflowtool:"actor_target,nonempty"`
}

// ExtendedTCPInfo (0:2209): kernel TCP state of the sampled connection.
type ExtendedTCPInfo struct {
	Direction  uint32 `sflowtool:"tcpinfo_direction,direction"` // 0 unknown, 1 received, 2 sent
	SendMSS    uint32 `sflowtool:"tcpinfo_send_mss"`
	ReceiveMSS uint32 `sflowtool:"tcpinfo_receive_mss"`
	Unacked    uint32 `sflowtool:"tcpinfo_unacked_pkts"`
	Lost       uint32 `sflowtool:"tcpinfo_lost_pkts"`
	Retrans    uint32 `sflowtool:"tcpinfo_retrans_pkts"`
	PathMTU    uint32 `sflowtool:"tcpinfo_path_mtu"`
	RTT        uint32 `sflowtool:"tcpinfo_rtt_uS"`
	RTTVar     uint32 `sflowtool:"tcpinfo_rtt_uS_var"`
	SendCwnd   uint32 `sflowtool:"tcpinfo_send_congestion_win"`
	Reordering uint32 `sflowtool:"tcpinfo_reordering"`
	RTTMin     uint32 `sflowtool:"tcpinfo_rtt_uS_min"`
}

// ExtendedEntities (0:2210): the data sources (e.g. containers) at each end.
type ExtendedEntities struct {
	SrcClass uint32 `sflowtool:"entities_src_class"`
	SrcIndex uint32 `sflowtool:"entities_src_index"`
	DstClass uint32 `sflowtool:"entities_dst_class"`
	DstIndex uint32 `sflowtool:"entities_dst_index"`
}
