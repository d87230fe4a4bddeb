package tenant

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// batcher sends up to maxBatch queued datagrams in one sendmmsg(2), each
// to its own tenant's collector: one system call where there were as many
// as datagrams. Its memory is allocated once, and the function handed to
// RawConn.Write is made once, so a send allocates nothing.
type batcher struct {
	rc    syscall.RawConn
	msgs  [maxBatch]mmsghdr
	iovs  [maxBatch]unix.Iovec
	names [maxBatch]unix.RawSockaddrInet6
	ok    [maxBatch]bool
	n     int
	done  int
	write func(fd uintptr) bool
}

func newBatcher(conn *net.UDPConn) (*batcher, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &batcher{rc: rc}
	b.write = b.sendmmsg
	return b, nil
}

// send sends items and reports, in ok, which went out.
func (b *batcher) send(items []item) []bool {
	b.n, b.done = len(items), 0
	for i, it := range items {
		sa := &b.names[i]
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6}
		port := it.dest.Port()
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa.Addr = it.dest.Addr().As16() // IPv4 as ::ffff:a.b.c.d: the socket is dual-stack
		buf := *it.buf
		b.iovs[i].Base = unsafe.SliceData(buf)
		b.iovs[i].SetLen(len(buf))
		h := &b.msgs[i].hdr
		*h = unix.Msghdr{Name: (*byte)(unsafe.Pointer(sa)), Namelen: unix.SizeofSockaddrInet6, Iov: &b.iovs[i]}
		h.SetIovlen(1)
		b.ok[i] = false
	}
	if err := b.rc.Write(b.write); err != nil { // the socket is closed
		return b.ok[:0]
	}
	return b.ok[:b.n]
}

// sendmmsg is handed to RawConn.Write: false asks the poller to wait
// until the socket can take more. A datagram the kernel refuses (the
// error sendmmsg reports is the first unsent one's) is skipped.
func (b *batcher) sendmmsg(fd uintptr) bool {
	for b.done < b.n {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.msgs[b.done])), uintptr(b.n-b.done), 0, 0, 0)
		switch {
		case errno == unix.EAGAIN:
			return false
		case errno == unix.EINTR:
			continue
		case errno != 0:
			b.done++
			continue
		}
		for i := b.done; i < b.done+int(r); i++ {
			b.ok[i] = true
		}
		b.done += int(r)
	}
	return true
}
