package group

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

func TestLongestMatchIPv4AndIPv6(t *testing.T) {
	s, err := Compile(map[string][]string{
		"private":  {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
		"lab":      {"10.1.0.0/16", "10.1.2.3"},
		"external": {"0.0.0.0/0", "::/0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"10.9.9.9": "private", "10.1.9.9": "lab", "10.1.2.3": "lab",
		"8.8.8.8": "external", "fd00::1": "private", "2001:db8::1": "external", "::ffff:10.1.0.1": "lab"} {
		if got, _ := s.Lookup(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	if _, err := Compile(map[string][]string{"bad": {"10.0.0.0/33"}}); err == nil {
		t.Error("10.0.0.0/33 accepted")
	}
	if _, err := CompileMap(map[string][]string{"web": {"80", "443"}, "alt": {"80"}}); err == nil {
		t.Error("a value under two labels accepted")
	}
}

// prefixes300k makes n random IPv4 prefixes with a BGP-like length mix.
func prefixes300k(n int, seed uint64) []netip.Prefix {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for len(out) < n {
		bits := 24
		switch x := r.IntN(1000); {
		case x < 250:
			bits = 22 + r.IntN(2)
		case x < 397:
			bits = 16 + r.IntN(6)
		case x < 400:
			bits = 8 + r.IntN(8)
		}
		v := r.Uint32()
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits).Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func groupsOf(ps []netip.Prefix) map[string][]string {
	g := map[string][]string{}
	for i, p := range ps {
		label := fmt.Sprintf("g%d", i%50)
		g[label] = append(g[label], p.String())
	}
	return g
}

// TestAgainstBruteForce classifies addresses with 300,000 prefixes and
// checks every answer against a reference that tries each prefix length
// from the longest down in per-length hash maps.
func TestAgainstBruteForce(t *testing.T) {
	ps := prefixes300k(300_000, 1)
	g := groupsOf(ps)
	s, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	byLen := make([]map[netip.Prefix]string, 33)
	for label, cidrs := range g {
		for _, c := range cidrs {
			p := netip.MustParsePrefix(c)
			if byLen[p.Bits()] == nil {
				byLen[p.Bits()] = map[netip.Prefix]string{}
			}
			byLen[p.Bits()][p] = label
		}
	}
	ref := func(a netip.Addr) (string, bool) {
		for bits := 32; bits >= 0; bits-- {
			if m := byLen[bits]; m != nil {
				p, _ := a.Prefix(bits)
				if l, ok := m[p]; ok {
					return l, true
				}
			}
		}
		return "", false
	}
	r := rand.New(rand.NewPCG(2, 2))
	hits := 0
	for i := range 200_000 {
		var a netip.Addr
		if i%2 == 0 { // inside a random prefix
			p := ps[r.IntN(len(ps))]
			b := p.Addr().As4()
			host := r.Uint32() & (1<<(32-p.Bits()) - 1)
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
			a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		} else {
			v := r.Uint32()
			a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
		got, ok := s.Lookup(a)
		want, wok := ref(a)
		if got != want || ok != wok {
			t.Fatalf("%s: %q %v, reference %q %v", a, got, ok, want, wok)
		}
		if ok {
			hits++
		}
	}
	t.Logf("200,000 addresses agree with the reference (%d matched a prefix)", hits)
}

// BenchmarkLoad300k compiles the Blacklists-sized set: 300,000 CIDRs.
//
//	go test ./group -run '^$' -bench . -benchmem
func BenchmarkLoad300k(b *testing.B) {
	g := groupsOf(prefixes300k(300_000, 1))
	var before, after runtime.MemStats
	var s *Set
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, _ = Compile(g)
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
	b.ReportMetric(float64(s.Prefixes()), "prefixes")
}

func BenchmarkLookup(b *testing.B) {
	ps := prefixes300k(300_000, 1)
	s, _ := Compile(groupsOf(ps))
	r := rand.New(rand.NewPCG(3, 3))
	for _, bc := range []struct {
		name string
		n    int
	}{{"hot-1k", 1024}, {"random-64k", 65536}} {
		addrs := make([]netip.Addr, bc.n)
		for i := range addrs {
			p := ps[r.IntN(len(ps))]
			addrs[i] = p.Addr()
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				s.Lookup(addrs[i%len(addrs)])
			}
		})
	}
}
