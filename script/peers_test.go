package script

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Peers that never answer, on 127.0.0.1, for the tests of what a script
// waits on.

// silentTCP accepts connections and never answers; it counts the
// connections it holds. With read set it reads (and drops) what it is
// sent, and so notices when the client closes; without, it reads nothing,
// and a client's write blocks once the sockets' buffers are full.
type silentTCP struct {
	addr  string
	open  atomic.Int64
	total atomic.Int64
}

func newSilentTCP(t testing.TB, read bool) *silentTCP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silentTCP{addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.open.Add(1)
			p.total.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if read {
				go func() {
					io.Copy(io.Discard, c)
					p.open.Add(-1)
				}()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return p
}

// silentResolver is a resolver whose DNS server, a UDP socket on
// 127.0.0.1, reads every query and answers none.
func silentResolver(t testing.TB) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}
