package tenant

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestPrefixLookup: for prefixes of every length, IPv4 and IPv6, at each
// tunnel level, the index picks exactly the tenants whose prefix
// netip.Prefix.Contains says holds the address — checked for addresses
// inside, at the edges of, and just outside each prefix.
func TestPrefixLookup(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 1))
	var tenants []*tenant
	for id := range 200 {
		var c compiled
		for range 3 {
			var a netip.Addr
			bits := rng.IntN(33)
			if rng.IntN(2) == 0 {
				a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.Uint32()), byte(rng.Uint32())})
			} else {
				bits = rng.IntN(129)
				var b [16]byte
				b[0], b[1], b[2] = 0x20, 0x01, byte(rng.IntN(4))
				for i := 3; i < 16; i++ {
					b[i] = byte(rng.Uint32())
				}
				a = netip.AddrFrom16(b)
			}
			p, _ := a.Prefix(bits)
			c.cidr = append(c.cidr, levelPrefix{p, uint8(rng.IntN(2))})
		}
		tenants = append(tenants, &tenant{name: string(rune('a' + id)), c: c})
	}
	x := build(tenants, nil)
	sc := &scratch{}
	sc.reset(len(tenants))
	check := func(a netip.Addr, level int) {
		sc.reset(len(tenants))
		sc.at(0)
		if a.Is4() {
			x.lookup4(v4(a), level, sc)
		} else {
			hi, lo := v6(a)
			x.lookup6(hi, lo, level, sc)
		}
		var want []int32
		for id, tn := range tenants {
			for _, p := range tn.c.cidr {
				if int(p.level) == level && p.prefix.Contains(a) {
					want = append(want, int32(id))
					break
				}
			}
		}
		got := slices.Clone(sc.touched)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s at level %d: tenants %v, want %v", a, level, got, want)
		}
	}
	n := 0
	for _, tn := range tenants {
		for _, p := range tn.c.cidr {
			first, last := p.prefix.Addr(), lastOf(p.prefix)
			for _, a := range []netip.Addr{first, last, first.Prev(), last.Next()} {
				if a.IsValid() {
					for level := range 2 {
						check(a, level)
						n++
					}
				}
			}
		}
	}
	t.Logf("%d lookups", n)
}

// lastOf is a prefix's last address.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
