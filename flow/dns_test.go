package flow

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ptrServer is a DNS server on 127.0.0.1 answering PTR queries from
// names (the in-addr.arpa name → the host name); other names are
// NXDOMAIN. Answers wait while the server is held.
type ptrServer struct {
	conn    *net.UDPConn
	names   map[string]string
	mu      sync.Mutex
	gate    chan struct{} // answers wait until it is closed
	queries atomic.Int64
}

func (s *ptrServer) hold() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *ptrServer) release() {
	s.mu.Lock()
	close(s.gate)
	s.mu.Unlock()
}

func startPTRServer(t *testing.T, names map[string]string) *ptrServer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &ptrServer{conn: c, names: names, gate: make(chan struct{})}
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
				c.WriteToUDP(s.answer(q), from)
			}()
		}
	}()
	return s
}

// answer builds the reply to query q.
func (s *ptrServer) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	// The question: labels to a zero byte, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	qend := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	r := append([]byte(nil), q[:qend]...)
	r[2] |= 0x84 // a response, authoritative
	r[3] = 0
	binary.BigEndian.PutUint16(r[6:], 0) // no answers yet
	binary.BigEndian.PutUint16(r[8:], 0)
	binary.BigEndian.PutUint16(r[10:], 0)
	host, ok := s.names[strings.Join(labels, ".")]
	if !ok || qtype != 12 {
		r[3] = 3 // NXDOMAIN
		return r
	}
	binary.BigEndian.PutUint16(r[6:], 1)
	r = append(r, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60)
	var rdata []byte
	for _, l := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		rdata = append(append(rdata, byte(len(l))), l...)
	}
	rdata = append(rdata, 0)
	r = binary.BigEndian.AppendUint16(r, uint16(len(rdata)))
	return append(r, rdata...)
}

func (s *ptrServer) resolver() func(ctx context.Context, addr string) ([]string, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
	return r.LookupAddr
}

func dnsKey(t *testing.T, names *DNSNames, expr string) Expr {
	t.Helper()
	c := NewCompiler()
	c.Register("dns", DNSFunc(names))
	e, err := c.Key(expr)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestDNSKey: dns: answers from a real DNS server (on 127.0.0.1); the first
// sample of an address does not wait for it and gets the address, as
// sFlow-RT documents; later samples have the name; an address without one
// keeps the address, and is not asked for again while that is cached.
func TestDNSKey(t *testing.T) {
	srv := startPTRServer(t, map[string]string{"7.0.0.10.in-addr.arpa": "web1.example.com."})
	names := NewDNSNames(srv.resolver(), 100)
	plain := dnsKey(t, names, "dns:agent")
	particle := dnsKey(t, names, "null:[dns:agent]:")
	s := &Sample{Agent: netip.MustParseAddr("10.0.0.7")}

	srv.hold() // the server is slow: the sample must not wait for it
	start := time.Now()
	if v, ok := plain.AppendValue(s, nil); !ok || string(v) != "10.0.0.7" {
		t.Fatalf("first sample: %q, %v; want the address", v, ok)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("the first sample waited %v for DNS", took)
	}
	if v, ok := particle.AppendValue(s, nil); !ok || string(v) != "10.0.0.7" {
		t.Errorf("null:[dns:agent]: while pending = %q, %v; want the address", v, ok)
	}
	waitFor(t, "the query to reach the server", func() bool { return srv.queries.Load() > 0 })
	srv.release()
	waitFor(t, "the answer", func() bool { v, _ := plain.AppendValue(s, nil); return string(v) != "10.0.0.7" })
	if v, _ := plain.AppendValue(s, nil); string(v) != "web1.example.com" {
		t.Errorf("dns:agent = %q", v)
	}
	if v, _ := dnsKey(t, names, "suffix:[dns:agent]:.:2").AppendValue(s, nil); string(v) != "example.com" {
		t.Errorf("sunburst's suffix over dns: = %q", v)
	}

	// No PTR record: no name, and the NXDOMAIN is cached.
	none := &Sample{Agent: netip.MustParseAddr("10.0.0.8")}
	plain.AppendValue(none, nil)
	waitFor(t, "the NXDOMAIN", func() bool { return names.Lookups() == 2 })
	asked := srv.queries.Load()
	for range 10 {
		if v, _ := plain.AppendValue(none, nil); string(v) != "10.0.0.8" {
			t.Fatalf("an address without a name got %q", v)
		}
	}
	if srv.queries.Load() != asked {
		t.Errorf("the missing name was asked for again: %d queries, then %d", asked, srv.queries.Load())
	}
	// Not an address: no value, no lookup.
	if _, ok := dnsKey(t, names, "dns:datasource").AppendValue(&Sample{DataSource: "3"}, nil); ok {
		t.Error("dns: of a non-address has a value")
	}
}

// TestDNSBounded: the cache holds at most its bound; new addresses push
// old ones out.
func TestDNSBounded(t *testing.T) {
	srv := startPTRServer(t, map[string]string{})
	names := NewDNSNames(srv.resolver(), 3)
	e := dnsKey(t, names, "dns:agent")
	for i := range 10 {
		e.AppendValue(&Sample{Agent: netip.AddrFrom4([4]byte{10, 9, 0, byte(i)})}, nil)
		if n := names.Len(); n > 3 {
			t.Fatalf("%d addresses held, the bound is 3", n)
		}
	}
	waitFor(t, "the lookups", func() bool { return names.Lookups() == 10 })
	if n := names.Len(); n > 3 {
		t.Errorf("%d addresses held after the answers, the bound is 3", n)
	}
}

// TestDNSKeyAllocatesNothing: once an address's name is cached, dns:
// costs no allocation per sample.
func TestDNSKeyAllocatesNothing(t *testing.T) {
	names := NewDNSNames(func(ctx context.Context, addr string) ([]string, error) { return []string{"h.example."}, nil }, 10)
	e := dnsKey(t, names, "dns:agent")
	s := &Sample{Agent: netip.MustParseAddr("10.0.0.1")}
	e.AppendValue(s, nil)
	waitFor(t, "the name", func() bool { v, _ := e.AppendValue(s, nil); return string(v) == "h.example" })
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(1000, func() { e.AppendValue(s, buf[:0]) }); n != 0 {
		t.Errorf("%v allocations per sample", n)
	}
}
