// Package dnstest is a DNS server on 127.0.0.1 for tests of reverse
// lookups: it answers PTR queries from a function and can hold its answers
// back, so that a test can show a caller does not wait for DNS.
package dnstest

import (
	"encoding/binary"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Server answers PTR queries over UDP on 127.0.0.1.
type Server struct {
	conn    *net.UDPConn
	names   func(qname string) (string, bool) // "7.0.0.10.in-addr.arpa" → "web1.example.com."
	mu      sync.Mutex
	gate    chan struct{} // answers wait until it is closed
	queries atomic.Int64
}

// Start starts a server answering with names (NXDOMAIN where it says no);
// it stops when the test ends.
func Start(t testing.TB, names func(qname string) (string, bool)) *Server {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{conn: c, names: names, gate: make(chan struct{})}
	close(s.gate)
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:n]...)
			s.queries.Add(1)
			go func() {
				s.mu.Lock()
				gate := s.gate
				s.mu.Unlock()
				<-gate
				if r := s.answer(q); r != nil {
					c.WriteToUDP(r, from)
				}
			}()
		}
	}()
	return s
}

// Map answers from a fixed table.
func Map(m map[string]string) func(string) (string, bool) {
	return func(q string) (string, bool) { v, ok := m[q]; return v, ok }
}

// Addr is the server's address:port.
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// Queries is how many queries arrived.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Hold makes answers wait until Release.
func (s *Server) Hold() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

// Release sends the answers held back, and answers at once from then on.
func (s *Server) Release() {
	s.mu.Lock()
	close(s.gate)
	s.mu.Unlock()
}

// answer builds the reply to query q, or nil for a query it cannot read.
func (s *Server) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	r := append([]byte(nil), q[:i+5]...)
	r[2] |= 0x84 // a response, authoritative
	r[3] = 0
	binary.BigEndian.PutUint16(r[6:], 0)
	binary.BigEndian.PutUint16(r[8:], 0)
	binary.BigEndian.PutUint16(r[10:], 0)
	host, ok := s.names(strings.Join(labels, "."))
	if !ok || qtype != 12 {
		r[3] = 3 // NXDOMAIN
		return r
	}
	binary.BigEndian.PutUint16(r[6:], 1)
	r = append(r, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60) // the question's name, PTR, IN, TTL 60
	var rdata []byte
	for _, l := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		rdata = append(append(rdata, byte(len(l))), l...)
	}
	rdata = append(rdata, 0)
	r = binary.BigEndian.AppendUint16(r, uint16(len(rdata)))
	return append(r, rdata...)
}
