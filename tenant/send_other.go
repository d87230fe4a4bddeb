//go:build !linux

package tenant

import "net"

// batcher sends queued datagrams one write each (sendmmsg is Linux's).
type batcher struct {
	conn *net.UDPConn
	ok   [maxBatch]bool
}

func newBatcher(conn *net.UDPConn) (*batcher, error) { return &batcher{conn: conn}, nil }

func (b *batcher) send(items []item) []bool {
	for i, it := range items {
		_, err := b.conn.WriteToUDPAddrPort(*it.buf, it.dest)
		b.ok[i] = err == nil
	}
	return b.ok[:len(items)]
}
