package engine

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// frame serializes an Ethernet frame with gopacket (an independent
// builder) for a sampled_header record.
func frame(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func appUDPFrame(t *testing.T, dport uint16, payload []byte) []byte {
	return frame(t, &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 1, 0, 1}, DstIP: net.IP{10, 2, 0, 2}},
		&layers.UDP{SrcPort: 50000, DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
}

// appDatagram is one flow sample, ingress at ifIndex 3, of hdr with the
// extra records.
func appDatagram(t *testing.T, seq uint32, hdr []byte, extra ...any) []byte {
	t.Helper()
	recs := []sflow.Record{}
	for _, v := range append([]any{&sflow.SampledHeader{Protocol: 1, FrameLength: uint32(len(hdr) + 4), Header: hdr}}, extra...) {
		r, err := sflow.NewRecord(v)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.9"), Sequence: seq, Uptime: seq * 1000,
		Samples: []sflow.Sample{{Format: sflow.FlowSample, Sequence: seq, SourceIndex: 3, SamplingRate: 10, SamplePool: seq * 10,
			Input: sflow.Interface{Value: 3}, Output: sflow.Interface{Value: 7}, Records: recs}}}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keysOfFlow defines a flow, feeds the datagrams and returns its keys.
func keysOfFlow(t *testing.T, body string, dgs ...[]byte) []string {
	t.Helper()
	e := New(Config{})
	spec, err := flow.ParseSpec([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Define("f", spec); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	w := e.NewWorker()
	now := time.Now()
	for _, d := range dgs {
		w.Process(d, src, now)
	}
	sel, _ := e.ParseAgents("ALL")
	afs, err := e.ActiveFlows(sel, "f", 100, 0, "", now)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range afs {
		out = append(out, a.Key)
	}
	slices.Sort(out)
	return out
}

// TestQueueKeys: sflow-test's feature flow reads the egress queue, queue
// depth and transit delay records; a switch that sends none gives the
// null: defaults.
func TestQueueKeys(t *testing.T) {
	hdr := appUDPFrame(t, 9999, make([]byte, 20))
	with := appDatagram(t, 1, hdr, &sflow.ExtendedEgressQueue{Queue: 5}, &sflow.ExtendedQueueDepth{Depth: 12000},
		&sflow.ExtendedTransitDelay{Delay: 850})
	without := appDatagram(t, 2, hdr)
	body := `{keys:'null:queueindex,null:[range:queuedepth:0],null:[range:transitdelay:0],queuedepth,transitdelay', value:'frames'}`
	if got := keysOfFlow(t, body, with); !slices.Equal(got, []string{"5,true,true,12000,850"}) {
		t.Errorf("with the records: %q", got)
	}
	if got := keysOfFlow(t, `{keys:'null:queueindex,null:[range:queuedepth:0],null:[range:transitdelay:0]', value:'frames'}`, without); !slices.Equal(got, []string{"null,null,null"}) {
		t.Errorf("without them: %q", got)
	}
}

// TestVNIAndRTTWait: vni from the agent's extended_vni record, else from a
// sampled VXLAN header; tcprttwait is the RTT above the minimum.
func TestVNIAndRTTWait(t *testing.T) {
	inner := frame(t, &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 3}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 4},
		EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 168, 0, 1}, DstIP: net.IP{192, 168, 0, 2}},
		&layers.UDP{SrcPort: 1, DstPort: 2})
	vx := append([]byte{0x08, 0, 0, 0, 0, 0x10, 0x01, 0}, inner...) // VNI 4097
	vxlan := appUDPFrame(t, 4789, vx)
	plain := appUDPFrame(t, 9999, make([]byte, 8))
	got := keysOfFlow(t, `{keys:'vni', value:'frames'}`, appDatagram(t, 1, vxlan), appDatagram(t, 2, plain, &sflow.ExtendedVNIIn{VNI: 77}))
	if !slices.Equal(got, []string{"4097", "77"}) {
		t.Errorf("vni keys %q", got)
	}
	tcp := &sflow.ExtendedTCPInfo{RTT: 25000, RTTMin: 18000, RTTVar: 900}
	if got := keysOfFlow(t, `{keys:'tcprttwait,tcprtt', value:'frames'}`, appDatagram(t, 1, plain, tcp)); !slices.Equal(got, []string{"7000,25000"}) {
		t.Errorf("tcprttwait %q", got)
	}
	if got := keysOfFlow(t, `{keys:'tcprttwait', value:'frames'}`, appDatagram(t, 1, plain, &sflow.ExtendedTCPInfo{RTT: 25000})); len(got) != 0 {
		t.Errorf("tcprttwait without a minimum RTT: %q", got)
	}
}

// TestRoCEv2Flows: ai-metrics' filters and keys over RoCEv2 samples.
func TestRoCEv2Flows(t *testing.T) {
	bth := func(op, flags byte) []byte {
		b := []byte{op, flags, 0xff, 0xff, 0, 0, 0, 9, 0, 0, 0, 1}
		return append(b, make([]byte, 20)...)
	}
	cnp := appDatagram(t, 1, appUDPFrame(t, 4791, bth(0x81, 0)))
	write := appDatagram(t, 2, appUDPFrame(t, 4791, bth(0x0a, 0)))
	solicited := appDatagram(t, 3, appUDPFrame(t, 4791, bth(0x81, 0x80)))
	other := appDatagram(t, 4, appUDPFrame(t, 9999, bth(0x81, 0)))
	all := [][]byte{cnp, write, solicited, other}
	if got := keysOfFlow(t, `{keys:'ibbtopcode,ibbtse,udpdestinationport', value:'frames', filter:'ibbtopcode=129&ibbtse=false&ibbtm=false&direction=ingress'}`, all...); !slices.Equal(got, []string{"129,false,4791"}) {
		t.Errorf("ai_cnp-like flow %q", got)
	}
	if got := keysOfFlow(t, `{keys:'concat:\\::ibbtoptransport:ibbtopname', value:'frames', filter:'suffix:stack:.:1=ibbt'}`, all...); !slices.Equal(got, []string{"CNP:CNP", "RC:RDMA_WRITE_ONLY"}) {
		t.Errorf("ai_operation-like flow %q", got)
	}
}
