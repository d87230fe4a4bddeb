package packet_test

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowrt/flowrt/packet"
)

// bth builds a RoCEv2 base transport header and the extended header
// after it.
func bth(opcode, flags byte, pkey uint16, qp, psn uint32, ackreq bool, ext []byte) []byte {
	b := []byte{opcode, flags, 0, 0, 0, byte(qp >> 16), byte(qp >> 8), byte(qp), 0, byte(psn >> 16), byte(psn >> 8), byte(psn)}
	binary.BigEndian.PutUint16(b[2:], pkey)
	if ackreq {
		b[8] = 0x80
	}
	return append(b, ext...)
}

func rocev2(t *testing.T, payload []byte) []byte {
	return build(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.2.0.2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 49152, DstPort: 4791}, gopacket.Payload(payload))
}

// TestIBBT: the BTH over UDP 4791 is the ibbt layer (the stack ends in
// "ibbt", which ai-metrics filters on) and its fields and extended headers
// read as the InfiniBand specification lays them out.
func TestIBBT(t *testing.T) {
	reth := make([]byte, 16) // virtual address, R_Key, DMA length
	binary.BigEndian.PutUint32(reth[12:], 65536)
	// RC RDMA WRITE ONLY (0x0a), solicited event, pad count 2, version 0.
	write := rocev2(t, bth(0x0a, 0x80|0x20, 0xffff, 0x000123, 0x00abcd, true, reth))
	keysOf(t, packet.HeaderEthernet, write, map[string]string{
		"stack": "eth.ip.udp.ibbt", "ibbt_offset": "42", "ibbtopcode": "10", "ibbtoptransport": "RC",
		"ibbtopname": "RDMA_WRITE_ONLY", "ibbtse": "true", "ibbtm": "false", "ibbtpadcnt": "2", "ibbtpkey": "65535",
		"ibbtdestqp": "291", "ibbtpsn": "43981", "ibbtackreq": "true", "ibbtrdmalen": "65536",
	})
	absent(t, write, "ibbtaethack", "ibbtaethsyndrome")

	// RC ACKNOWLEDGE (0x11): AETH syndrome 0b000_01101 = ACK with credit code 13, MSN 7.
	ack := rocev2(t, bth(0x11, 0x40, 0xffff, 5, 9, false, []byte{0x0d, 0, 0, 7}))
	keysOf(t, packet.HeaderEthernet, ack, map[string]string{
		"ibbtopname": "ACKNOWLEDGE", "ibbtm": "true", "ibbtse": "false", "ibbtaethack": "13",
		"ibbtaethsyndrome": "13", "ibbtaethmsn": "7", "ibbtackreq": "false",
	})
	absent(t, ack, "ibbtrdmalen")

	// An RNR NAK (syndrome 0b001_xxxxx) is no ACK: no credit count.
	nak := rocev2(t, bth(0x11, 0, 0xffff, 5, 9, false, []byte{0x20 | 0x0e, 0, 0, 7}))
	keysOf(t, packet.HeaderEthernet, nak, map[string]string{"ibbtaethsyndrome": "46"})
	absent(t, nak, "ibbtaethack")

	// A congestion notification packet (opcode 129), as ai-metrics' ai_cnp
	// flow selects it.
	cnp := rocev2(t, bth(0x81, 0, 0xffff, 5, 0, false, make([]byte, 16)))
	keysOf(t, packet.HeaderEthernet, cnp, map[string]string{"ibbtopcode": "129", "ibbtoptransport": "CNP",
		"ibbtopname": "CNP", "ibbtse": "false", "ibbtm": "false"})

	// XRC RDMA READ Request (0xac): the RETH follows a 4-byte XRCETH.
	xrc := rocev2(t, bth(0xac, 0, 0xffff, 5, 0, false, append([]byte{0, 0, 0, 9}, reth...)))
	keysOf(t, packet.HeaderEthernet, xrc, map[string]string{"ibbtoptransport": "XRC", "ibbtopname": "RDMA_READ_REQUEST",
		"ibbtrdmalen": "65536"})

	// A truncated RETH is absent, not read past the header.
	short := rocev2(t, bth(0x0a, 0, 0xffff, 1, 1, false, reth[:10]))
	absent(t, short, "ibbtrdmalen")

	// Other UDP traffic has no ibbt layer.
	other := build(t, eth(layers.EthernetTypeIPv4), ip4("10.1.0.1", "10.2.0.2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 4791, DstPort: 9999}, gopacket.Payload(make([]byte, 16)))
	absent(t, other, "ibbtopcode", "ibbt_offset")
}

func absent(t *testing.T, b []byte, names ...string) {
	t.Helper()
	var p packet.Packet
	p.Decode(packet.HeaderEthernet, b)
	for _, n := range names {
		if v, ok := p.AppendKey(nil, n); ok {
			t.Errorf("%s = %q, want absent", n, v)
		}
	}
}
