package agent

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Packet sampling in the kernel: a classic BPF program on an AF_PACKET
// socket draws a random number for every packet and keeps one in N,
// truncated to the header length, so only sampled packets reach the agent.
// PACKET_AUXDATA gives each one's original length; PACKET_STATISTICS the
// ones the socket dropped.

// Sampled is one sampled packet.
type Sampled struct {
	Header   []byte // the first header-bytes of the frame (valid until the next Read)
	Length   uint32 // the frame's length on the wire, before truncation
	Outgoing bool   // sent by this host on the device (else received)
}

// Sampler samples one device.
type Sampler struct {
	Device Iface
	N      uint32
	fd     int
	buf    []byte
	oob    []byte
}

// bpf assembles: A = random; A %= N; if A == 0 return snaplen; return 0.
func samplingProgram(n uint32, snaplen uint32) []unix.SockFilter {
	const skfAdOff, skfAdRandom = 0xfffff000, 56 // SKF_AD_OFF (-4096), SKF_AD_RANDOM
	return []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: skfAdOff + skfAdRandom},
		{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: n},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: 0},
		{Code: unix.BPF_RET | unix.BPF_K, K: snaplen},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// NewSampler opens a sampling socket on dev: 1-in-n, headerBytes kept.
func NewSampler(dev Iface, n uint32, headerBytes int) (*Sampler, error) {
	if n == 0 {
		n = 1
	}
	// Protocol 0 receives nothing until bind: the filter is in place before
	// the first packet arrives.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket for %s: %w (needs CAP_NET_RAW: run as root)", dev.Name, err)
	}
	prog := samplingProgram(n, uint32(headerBytes))
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sampling filter on %s: %w", dev.Name, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("PACKET_AUXDATA on %s: %w", dev.Name, err)
	}
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: int(dev.Index)}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding to %s: %w", dev.Name, err)
	}
	return &Sampler{Device: dev, N: n, fd: fd, buf: make([]byte, headerBytes), oob: make([]byte, 256)}, nil
}

// Read waits for the next sampled packet; it returns ok false after 200 ms
// without one (so the caller can stop).
func (s *Sampler) Read() (p Sampled, ok bool, err error) {
	n, oobn, _, from, err := unix.Recvmsg(s.fd, s.buf, s.oob, 0)
	if err != nil {
		if err == unix.EAGAIN || err == unix.EINTR {
			return p, false, nil
		}
		return p, false, err
	}
	p.Header, p.Length = s.buf[:n], uint32(n)
	if ll, isLL := from.(*unix.SockaddrLinklayer); isLL {
		p.Outgoing = ll.Pkttype == unix.PACKET_OUTGOING
	}
	msgs, _ := unix.ParseSocketControlMessage(s.oob[:oobn])
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
			p.Length = binary.NativeEndian.Uint32(m.Data[4:8]) // tp_len: the length before the filter cut it
		}
	}
	return p, true, nil
}

// Drops returns the packets the socket dropped since the last call
// (its queue was full).
func (s *Sampler) Drops() uint32 {
	st, err := unix.GetsockoptTpacketStats(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0
	}
	return st.Drops
}

// Close closes the socket.
func (s *Sampler) Close() error { return unix.Close(s.fd) }
