package packet

import (
	"encoding/binary"
	"strconv"
)

// RoCEv2 carries InfiniBand's transport over UDP port 4791: a 12-byte base
// transport header (BTH), then the extended headers its opcode calls for
// (InfiniBand Architecture Specification, volume 1, chapter 9):
//
//	0: opcode   1: SE, M, pad count, version   2-3: partition key
//	4: FECN, BECN   5-7: destination QP   8: ack request   9-11: PSN
//
// The opcode's top three bits are the transport service, the low five the
// operation. ai-metrics filters on ibbtopcode (129 is a congestion
// notification), ibbtse and ibbtm, averages ibbtrdmalen and ibbtaethack,
// and groups by ibbtoptransport and ibbtopname.

const bthLen = 12

// ibbtTransports names the transport of opcode>>5.
var ibbtTransports = [8]string{0: "RC", 1: "UC", 2: "RD", 3: "UD", 4: "CNP", 5: "XRC"}

// ibbtOperations names the operation of opcode&0x1f (RC, UC, RD, XRC; UD
// uses SEND ONLY and SEND ONLY with immediate).
var ibbtOperations = [32]string{
	0: "SEND_FIRST", 1: "SEND_MIDDLE", 2: "SEND_LAST", 3: "SEND_LAST_IMMEDIATE", 4: "SEND_ONLY",
	5: "SEND_ONLY_IMMEDIATE", 6: "RDMA_WRITE_FIRST", 7: "RDMA_WRITE_MIDDLE", 8: "RDMA_WRITE_LAST",
	9: "RDMA_WRITE_LAST_IMMEDIATE", 10: "RDMA_WRITE_ONLY", 11: "RDMA_WRITE_ONLY_IMMEDIATE",
	12: "RDMA_READ_REQUEST", 13: "RDMA_READ_RESPONSE_FIRST", 14: "RDMA_READ_RESPONSE_MIDDLE",
	15: "RDMA_READ_RESPONSE_LAST", 16: "RDMA_READ_RESPONSE_ONLY", 17: "ACKNOWLEDGE", 18: "ATOMIC_ACKNOWLEDGE",
	19: "COMPARE_SWAP", 20: "FETCH_ADD", 22: "SEND_LAST_INVALIDATE", 23: "SEND_ONLY_INVALIDATE",
}

// ibbtExtOffset is where the headers after the BTH that carry RETH and
// AETH start: XRC has a 4-byte XRCETH first, RD a 4-byte RDETH and an
// 8-byte DETH.
func ibbtExtOffset(opcode byte) int {
	switch opcode >> 5 {
	case 5:
		return bthLen + 4
	case 2:
		return bthLen + 12
	}
	return bthLen
}

// hasRETH: RDMA WRITE First and Only (with immediate) and RDMA READ
// Request carry the RDMA extended header (virtual address, R_Key, DMA
// length).
func hasRETH(opcode byte) bool {
	t, op := opcode>>5, opcode&0x1f
	return (t == 0 || t == 1 || t == 2 || t == 5) && (op == 6 || op == 10 || op == 11 || (op == 12 && t != 1))
}

// hasAETH: acknowledgements and RDMA READ responses (first, last, only)
// carry the ACK extended header (syndrome, message sequence number).
func hasAETH(opcode byte) bool {
	t, op := opcode>>5, opcode&0x1f
	return (t == 0 || t == 2 || t == 5) && (op == 13 || op == 15 || op == 16 || op == 17 || op == 18)
}

func ibbtKeys() map[string]key {
	bit := func(delta int, mask byte) keyFunc {
		return boolOf(func(p *Packet, l Layer) (bool, bool) { return p.b[l.Offset+delta]&mask != 0, true })
	}
	u24 := func(delta int) keyFunc {
		return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			o := l.Offset + delta
			v := uint32(p.b[o])<<16 | uint32(p.b[o+1])<<8 | uint32(p.b[o+2])
			return strconv.AppendUint(dst, uint64(v), 10), true
		}
	}
	return map[string]key{
		"ibbt_offset": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendInt(dst, int64(l.Offset), 10), true
		}},
		"ibbtopcode": {IBBT, u8At(0)},
		"ibbtoptransport": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			name := ibbtTransports[p.b[l.Offset]>>5]
			return append(dst, name...), name != ""
		}},
		"ibbtopname": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			op := p.b[l.Offset]
			if op>>5 == 4 {
				return append(dst, "CNP"...), true
			}
			name := ibbtOperations[op&0x1f]
			return append(dst, name...), name != "" && ibbtTransports[op>>5] != ""
		}},
		"ibbtse": {IBBT, bit(1, 0x80)},
		"ibbtm":  {IBBT, bit(1, 0x40)},
		"ibbtpadcnt": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(p.b[l.Offset+1]>>4&3), 10), true
		}},
		"ibbttver": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			return strconv.AppendUint(dst, uint64(p.b[l.Offset+1]&15), 10), true
		}},
		"ibbtpkey":    {IBBT, u16At(2)},
		"ibbtfecn":    {IBBT, bit(4, 0x80)},
		"ibbtbecn":    {IBBT, bit(4, 0x40)},
		"ibbtdestqp":  {IBBT, u24(5)},
		"ibbtackreq":  {IBBT, bit(8, 0x80)},
		"ibbtpsn":     {IBBT, u24(9)},
		"ibbtrdmalen": {IBBT, ext(hasRETH, 12, 4)},
		// The AETH syndrome: for an ACK (bits 6-5 zero) bits 4-0 are the
		// credit count code the responder advertises (31: none valid).
		"ibbtaethsyndrome": {IBBT, ext(hasAETH, 0, 1)},
		"ibbtaethack": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			op := p.b[l.Offset]
			o := l.Offset + ibbtExtOffset(op)
			if !hasAETH(op) || o >= len(p.b) || p.b[o]&0x60 != 0 {
				return dst, false
			}
			return strconv.AppendUint(dst, uint64(p.b[o]&0x1f), 10), true
		}},
		"ibbtaethmsn": {IBBT, func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
			op := p.b[l.Offset]
			o := l.Offset + ibbtExtOffset(op)
			if !hasAETH(op) || o+4 > len(p.b) {
				return dst, false
			}
			return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(p.b[o:])&0xffffff), 10), true
		}},
	}
}

// ext reads a big-endian field of size bytes at delta in the extended
// header that has(opcode) says is there.
func ext(has func(byte) bool, delta, size int) keyFunc {
	return func(p *Packet, l Layer, dst []byte) ([]byte, bool) {
		op := p.b[l.Offset]
		o := l.Offset + ibbtExtOffset(op) + delta
		if !has(op) || o+size > len(p.b) {
			return dst, false
		}
		var v uint64
		for _, c := range p.b[o : o+size] {
			v = v<<8 | uint64(c)
		}
		return strconv.AppendUint(dst, v, 10), true
	}
}
