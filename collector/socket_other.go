//go:build !linux

package collector

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

var errAddrInUse = syscall.EADDRINUSE

func listen(addr string, rcvbuf int, shared bool) (*net.UDPConn, int, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, 0, err
	}
	conn := pc.(*net.UDPConn)
	conn.SetReadBuffer(rcvbuf)
	return conn, rcvbuf, nil
}

func receive(conn *net.UDPConn, h Handler, _ int, _, reads *atomic.Uint64) error {
	err := receiveSimple(conn, h, reads)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// socketDrops has no portable source outside Linux.
func socketDrops(*net.UDPConn) (uint64, bool) { return 0, false }
