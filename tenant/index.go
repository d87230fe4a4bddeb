package tenant

import (
	"net/netip"
	"slices"

	"github.com/flowrt/flowrt/packet"
)

// index answers, for an interface, an address or a MAC, which tenants
// want it. It is built whole when a tenant or a relevant port name changes
// and read without locks by the collector goroutines; lookups are map
// reads and never allocate.
type index struct {
	tenants []*tenant
	ifaces  map[ifKey][]int32 // ifindex filters and the interfaces ifname filters name
	ifnames map[nameKey][]int32
	// Prefixes by tunnel level, family and length: a lookup masks the
	// address to each length in use and reads one map.
	v4     map[v4Key][]int32
	v6     map[v6Key][]int32
	v4Bits [packet.MaxLevel + 1][]uint8 // lengths in use, longest first
	v6Bits [packet.MaxLevel + 1][]uint8
	macs   map[uint64][]int32
	// addrs: some tenant has a CIDR or a MAC, so sampled packets must be
	// looked into.
	addrs bool
}

type v4Key struct {
	addr  uint32
	bits  uint8
	level uint8
}

type v6Key struct {
	hi, lo uint64
	bits   uint8
	level  uint8
}

// build makes the index of tenants (their ids are their positions), with
// the port names learned so far.
func build(tenants []*tenant, names map[ifKey]string) *index {
	x := &index{tenants: tenants, ifaces: map[ifKey][]int32{}, ifnames: map[nameKey][]int32{},
		v4: map[v4Key][]int32{}, v6: map[v6Key][]int32{}, macs: map[uint64][]int32{}}
	for id, t := range tenants {
		id := int32(id)
		for _, k := range t.c.ifindex {
			x.ifaces[k] = addID(x.ifaces[k], id)
		}
		for _, k := range t.c.ifname {
			x.ifnames[k] = addID(x.ifnames[k], id)
		}
		for _, p := range t.c.cidr {
			a, bits, l := p.prefix.Addr(), uint8(p.prefix.Bits()), p.level
			if a.Is4() {
				k := v4Key{v4(a), bits, l}
				x.v4[k] = addID(x.v4[k], id)
				x.v4Bits[l] = addBits(x.v4Bits[l], bits)
			} else {
				hi, lo := v6(a)
				k := v6Key{hi, lo, bits, l}
				x.v6[k] = addID(x.v6[k], id)
				x.v6Bits[l] = addBits(x.v6Bits[l], bits)
			}
			x.addrs = true
		}
		for _, m := range t.c.mac {
			x.macs[m] = addID(x.macs[m], id)
			x.addrs = true
		}
	}
	for k, name := range names {
		if ids, ok := x.ifnames[nameKey{k.agent, name}]; ok {
			for _, id := range ids {
				x.ifaces[k] = addID(x.ifaces[k], id)
			}
		}
	}
	return x
}

func addID(ids []int32, id int32) []int32 {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

func addBits(bits []uint8, b uint8) []uint8 {
	if slices.Contains(bits, b) {
		return bits
	}
	bits = append(bits, b)
	slices.Sort(bits)
	slices.Reverse(bits)
	return bits
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func v6(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return hi, lo
}

// lookup4 picks, for the sample sc is at, each tenant one of whose
// prefixes at level holds the IPv4 address a.
func (x *index) lookup4(a uint32, level int, sc *scratch) {
	for _, bits := range x.v4Bits[level] {
		m := a
		if bits < 32 {
			m &^= ^uint32(0) >> bits
		}
		if ids, ok := x.v4[v4Key{m, bits, uint8(level)}]; ok {
			sc.pick(ids)
		}
	}
}

func (x *index) lookup6(hi, lo uint64, level int, sc *scratch) {
	for _, bits := range x.v6Bits[level] {
		h, l := hi, lo
		switch {
		case bits == 0:
			h, l = 0, 0
		case bits < 64:
			h &^= ^uint64(0) >> bits
			l = 0
		case bits < 128:
			l &^= ^uint64(0) >> (bits - 64)
		}
		if ids, ok := x.v6[v6Key{h, l, bits, uint8(level)}]; ok {
			sc.pick(ids)
		}
	}
}
