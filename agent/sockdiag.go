package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's socket tables, asked through NETLINK_SOCK_DIAG: for the
// local socket at one end of a sampled packet, its TCP state (tcp_info, the
// tcp { } module) and the cgroup it was created in (which systemd service
// owns it, systemd { markTraffic = on }). One exact lookup costs a netlink
// round trip (a few µs); answers are cached for a second per connection, so
// a busy connection costs one lookup a second however often it is sampled.

// Conn is one end-to-end connection as a sampled packet shows it, seen
// from this host: the local socket's address and the peer's.
type Conn struct {
	Proto         uint8 // unix.IPPROTO_TCP or unix.IPPROTO_UDP
	Local, Remote netip.AddrPort
}

// SocketInfo is what the kernel says about a local socket.
type SocketInfo struct {
	Found    bool
	CgroupID uint64  // the inode of the socket's cgroup v2 directory (0: not reported)
	TCP      TCPInfo // TCP sockets only
	HasTCP   bool
}

// TCPInfo holds the fields of the kernel's struct tcp_info that
// extended_tcp_info (0:2209) carries.
type TCPInfo struct {
	SendMSS, ReceiveMSS, Unacked, Lost, TotalRetrans, PathMTU uint32
	RTT, RTTVar, SendCwnd, Reordering, MinRTT                 uint32 // RTTs in µs
}

// Offsets in struct tcp_info (include/uapi/linux/tcp.h): eight bytes of
// state, then 32-bit fields; min_rtt follows the 64-bit rates.
const (
	tcpiSndMSS, tcpiRcvMSS, tcpiUnacked, tcpiLost = 16, 20, 24, 32
	tcpiPMTU, tcpiRTT, tcpiRTTVar, tcpiSndCwnd    = 60, 68, 72, 80
	tcpiReordering, tcpiTotalRetrans, tcpiMinRTT  = 88, 100, 148
	inetDiagInfo, inetDiagCgroupID                = 2, 21 // rtattr types of the answer
	inetDiagReqLen, inetDiagMsgLen                = 56, 72
)

// SockDiag looks up local sockets, with a short cache.
type SockDiag struct {
	mu    sync.Mutex
	fd    int
	buf   []byte
	ttl   time.Duration
	cache map[Conn]cached
	// Lookups, Misses and Errors count kernel round trips, answers of "no
	// such socket" and failures, for logs and tests.
	Lookups, Misses, Errors uint64
}

type cached struct {
	at   time.Time
	info SocketInfo
}

const sockDiagCacheMax = 16384 // connections; the cache is emptied when full

// NewSockDiagIn opens a netlink socket in the network namespace of process
// pid (a container's), for its sockets: a socket answers for the namespace
// it was made in. It needs CAP_SYS_ADMIN to enter the namespace.
func NewSockDiagIn(pid string) (*SockDiag, error) {
	var d *SockDiag
	err := inNetns(pid, func() (err error) { d, err = NewSockDiag(); return err })
	return d, err
}

// NewSockDiag opens the netlink socket.
func NewSockDiag() (*SockDiag, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("netlink sock_diag socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink sock_diag bind: %w", err)
	}
	// A lost answer must not hang the sampler: a receive waits at most 100 ms.
	tv := unix.Timeval{Usec: 100_000}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &SockDiag{fd: fd, buf: make([]byte, 8192), ttl: time.Second, cache: map[Conn]cached{}}, nil
}

// Close releases the socket.
func (d *SockDiag) Close() error { return unix.Close(d.fd) }

// Lookup returns what the kernel knows of the local socket of c, from the
// cache when it was asked less than a second ago.
func (d *SockDiag) Lookup(c Conn, now time.Time) SocketInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.cache[c]; ok && now.Sub(e.at) < d.ttl {
		return e.info
	}
	info, err := d.query(c)
	d.Lookups++
	switch {
	case err != nil:
		d.Errors++
	case !info.Found:
		d.Misses++
	}
	if len(d.cache) >= sockDiagCacheMax {
		clear(d.cache)
	}
	d.cache[c] = cached{now, info}
	return info
}

var errShortAnswer = errors.New("sock_diag: short answer")

// query asks the kernel for the one socket bound to c.Local and connected
// to c.Remote (an exact lookup, not a dump of the table).
func (d *SockDiag) query(c Conn) (SocketInfo, error) {
	var req [16 + inetDiagReqLen]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	r := req[16:]
	if c.Local.Addr().Is4() {
		r[0] = unix.AF_INET
	} else {
		r[0] = unix.AF_INET6
	}
	r[1] = c.Proto
	r[2] = 1 << (inetDiagInfo - 1)  // ask for tcp_info
	ne.PutUint32(r[4:], 0xffffffff) // any state
	// inet_diag_sockid: ports and addresses in network order.
	binary.BigEndian.PutUint16(r[8:], c.Local.Port())
	binary.BigEndian.PutUint16(r[10:], c.Remote.Port())
	putAddr(r[12:28], c.Local.Addr())
	putAddr(r[28:44], c.Remote.Addr())
	ne.PutUint32(r[48:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(r[52:], 0xffffffff)
	if err := unix.Sendto(d.fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return SocketInfo{}, err
	}
	n, _, err := unix.Recvfrom(d.fd, d.buf, 0)
	if err != nil {
		return SocketInfo{}, err
	}
	return parseDiagAnswer(d.buf[:n], c.Proto == unix.IPPROTO_TCP)
}

func putAddr(dst []byte, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		copy(dst, b[:])
		return
	}
	b := a.As16()
	copy(dst, b[:])
}

// parseDiagAnswer reads one netlink answer: an inet_diag_msg and its
// attributes, or an error (ENOENT: no such socket, which is no failure).
func parseDiagAnswer(b []byte, tcp bool) (SocketInfo, error) {
	ne := binary.NativeEndian
	if len(b) < 16 {
		return SocketInfo{}, errShortAnswer
	}
	msgLen, typ := int(ne.Uint32(b[0:])), ne.Uint16(b[4:])
	if msgLen > len(b) || msgLen < 16 {
		return SocketInfo{}, errShortAnswer
	}
	b = b[16:msgLen]
	if typ == unix.NLMSG_ERROR {
		if len(b) < 4 {
			return SocketInfo{}, errShortAnswer
		}
		if errno := -int32(ne.Uint32(b)); errno != 0 && unix.Errno(errno) != unix.ENOENT {
			return SocketInfo{}, unix.Errno(errno)
		}
		return SocketInfo{}, nil
	}
	if typ != unix.SOCK_DIAG_BY_FAMILY || len(b) < inetDiagMsgLen {
		return SocketInfo{}, errShortAnswer
	}
	info := SocketInfo{Found: true}
	for a := b[inetDiagMsgLen:]; len(a) >= 4; {
		l, t := int(ne.Uint16(a[0:])), ne.Uint16(a[2:])
		if l < 4 || l > len(a) {
			break
		}
		v := a[4:l]
		switch {
		case t == inetDiagCgroupID && len(v) >= 8:
			info.CgroupID = ne.Uint64(v)
		case t == inetDiagInfo && tcp && len(v) >= tcpiMinRTT+4:
			u := func(off int) uint32 { return ne.Uint32(v[off:]) }
			info.TCP = TCPInfo{SendMSS: u(tcpiSndMSS), ReceiveMSS: u(tcpiRcvMSS), Unacked: u(tcpiUnacked), Lost: u(tcpiLost),
				TotalRetrans: u(tcpiTotalRetrans), PathMTU: u(tcpiPMTU), RTT: u(tcpiRTT), RTTVar: u(tcpiRTTVar),
				SendCwnd: u(tcpiSndCwnd), Reordering: u(tcpiReordering), MinRTT: u(tcpiMinRTT)}
			info.HasTCP = true
		}
		step := (l + 3) &^ 3 // attributes are 4-byte aligned
		if step >= len(a) {
			break
		}
		a = a[step:]
	}
	return info, nil
}
