package flow

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/dnstest"
)

func startPTRServer(t *testing.T, names map[string]string) *dnstest.Server {
	return dnstest.Start(t, dnstest.Map(names))
}

func resolverOf(s *dnstest.Server) func(ctx context.Context, addr string) ([]string, error) {
	lookup, err := ServersLookup([]string{s.Addr()})
	if err != nil {
		panic(err)
	}
	return lookup
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
	names := NewDNSNames(resolverOf(srv), 100)
	plain := dnsKey(t, names, "dns:agent")
	particle := dnsKey(t, names, "null:[dns:agent]:")
	s := &Sample{Agent: netip.MustParseAddr("10.0.0.7")}

	srv.Hold() // the server is slow: the sample must not wait for it
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
	waitFor(t, "the query to reach the server", func() bool { return srv.Queries() > 0 })
	srv.Release()
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
	asked := srv.Queries()
	for range 10 {
		if v, _ := plain.AppendValue(none, nil); string(v) != "10.0.0.8" {
			t.Fatalf("an address without a name got %q", v)
		}
	}
	if srv.Queries() != asked {
		t.Errorf("the missing name was asked for again: %d queries, then %d", asked, srv.Queries())
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
	names := NewDNSNames(resolverOf(srv), 3)
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

// TestDNSServers: dns.servers' lookup asks the servers named, and refuses
// what is not an address.
func TestDNSServers(t *testing.T) {
	srv := startPTRServer(t, map[string]string{"9.0.0.10.in-addr.arpa": "db.example.net."})
	lookup, err := ServersLookup([]string{srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	names, err := lookup(context.Background(), "10.0.0.9")
	if err != nil || len(names) != 1 || names[0] != "db.example.net." {
		t.Fatalf("lookup: %q %v", names, err)
	}
	for _, bad := range [][]string{nil, {"dns.example.com"}, {"10.0.0.1:x"}} {
		if _, err := ServersLookup(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ServersLookup([]string{"10.0.0.1", "[::1]:5353"}); err != nil {
		t.Errorf("addresses refused: %v", err)
	}
}
