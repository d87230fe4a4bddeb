package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var errAddrInUse = unix.EADDRINUSE

// listen opens one UDP socket with SO_REUSEPORT (when shared), the
// receive buffer (SO_RCVBUFFORCE first, which passes net.core.rmem_max
// when we may; SO_RCVBUF otherwise) and SO_RXQ_OVFL. It returns the buffer
// size the kernel granted.
func listen(addr string, rcvbuf int, shared bool) (*net.UDPConn, int, error) {
	var sockErr error
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		err := c.Control(func(fd uintptr) {
			if shared {
				sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
			}
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, 0, err
	}
	conn := pc.(*net.UDPConn)
	granted := 0
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			granted, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		})
	}
	return conn, granted, nil
}

// skMeminfoDrops is SK_MEMINFO_DROPS, the index of the socket's drop count
// in SO_MEMINFO's array of SK_MEMINFO_VARS (9) counters (linux/sock_diag.h).
const skMeminfoDrops = 8

// socketDrops reads the kernel's count of datagrams dropped at this socket
// (sk_drops, the "drops" column of /proc/net/udp) with SO_MEMINFO. Unlike
// SO_RXQ_OVFL, which arrives only with a later datagram, it is exact at any
// moment, also after the last datagram of a burst.
func socketDrops(conn *net.UDPConn) (uint64, bool) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, false
	}
	var info [9]uint32
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno = unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
		if size <= skMeminfoDrops*4 {
			errno = unix.EINVAL
		}
	})
	if errno != 0 {
		return 0, false
	}
	return uint64(info[skMeminfoDrops]), true
}

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

var ctrlSpace = unix.CmsgSpace(4)

// batch is the memory of one socket's recvmmsg calls, allocated once.
type batch struct {
	msgs  []mmsghdr
	iovs  []unix.Iovec
	bufs  []byte
	names []unix.RawSockaddrAny
	ctrl  []byte
	size  int
	n     int
	errno syscall.Errno
}

func newBatch(n int) *batch {
	const size = 65536
	b := &batch{msgs: make([]mmsghdr, n), iovs: make([]unix.Iovec, n), bufs: make([]byte, n*size),
		names: make([]unix.RawSockaddrAny, n), ctrl: make([]byte, n*ctrlSpace), size: size}
	for i := range b.msgs {
		b.iovs[i].Base = &b.bufs[i*size]
		b.iovs[i].SetLen(size)
	}
	return b
}

// reset rearms the headers the kernel rewrote.
func (b *batch) reset() {
	for i := range b.msgs {
		h := &b.msgs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.ctrl[i*ctrlSpace]
		h.SetControllen(ctrlSpace)
		h.Flags = 0
		b.msgs[i].len = 0
	}
}

// read is handed to RawConn.Read: false asks the poller to wait for the
// socket to become readable.
func (b *batch) read(fd uintptr) bool {
	b.reset()
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.msgs[0])), uintptr(len(b.msgs)),
		unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EINTR {
		return false
	}
	b.n, b.errno = int(n), e
	return true
}

func sourceOf(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), port)
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}

// overflow reads the SO_RXQ_OVFL count from a message's control data.
func (b *batch) overflow(i int) (uint32, bool) {
	h := &b.msgs[i].hdr
	if h.Controllen < uint64(unix.CmsgLen(4)) {
		return 0, false
	}
	c := b.ctrl[i*ctrlSpace : (i+1)*ctrlSpace]
	hdr := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
	if hdr.Level != unix.SOL_SOCKET || hdr.Type != unix.SO_RXQ_OVFL {
		return 0, false
	}
	return binary.NativeEndian.Uint32(c[unix.CmsgLen(0):]), true
}

// receive reads batches with recvmmsg until the socket is closed.
func receive(conn *net.UDPConn, h Handler, n int, drops, reads *atomic.Uint64) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return receiveSimple(conn, h, reads)
	}
	b := newBatch(n)
	flusher, _ := h.(Flusher)
	read := b.read // one closure for the socket's life: no allocation per batch
	for {
		if err := rc.Read(read); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if b.errno != 0 {
			if b.errno == unix.EBADF {
				return nil
			}
			return b.errno
		}
		reads.Add(1)
		now := time.Now()
		for i := range b.n {
			if d, ok := b.overflow(i); ok {
				storeMax(drops, uint64(d))
			}
			h.Process(b.bufs[i*b.size:i*b.size+int(b.msgs[i].len)], sourceOf(&b.names[i]), now)
		}
		if flusher != nil {
			flusher.Flush(b.n == n)
		}
	}
}
