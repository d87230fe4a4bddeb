package bgp

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/packet"
)

// An exchange's route server sends, with ADD-PATH (bgpAddNeighbor's
// multipath), a path per member for a prefix, each with the member's
// router as next hop. Which of them a sampled packet took shows in its
// Ethernet header: the destination MAC is the next hop's router (the
// source MAC, for the path back to the source address). bgpSetNextHops
// gives the next hops' MAC addresses, and the bgp keys then take the path
// whose next hop has the sample's MAC (ixp-metrics).

// ParseNextHops reads bgpSetNextHops' object: next-hop address to MAC
// address (12 hex digits, with or without ':' or '-' between the bytes).
func ParseNextHops(m map[string]any) (map[netip.Addr]uint64, error) {
	out := make(map[netip.Addr]uint64, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, err := netip.ParseAddr(strings.TrimSpace(k))
		if err != nil {
			return nil, &InputError{fmt.Errorf("next hop %q is not an IP address", k)}
		}
		mac, err := parseMAC(fmt.Sprint(m[k]))
		if err != nil {
			return nil, &InputError{fmt.Errorf("next hop %s: %w", k, err)}
		}
		out[a.Unmap()] = mac
	}
	return out, nil
}

func parseMAC(s string) (uint64, error) {
	h := strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(s))
	if len(h) != 12 {
		return 0, fmt.Errorf("MAC address %q: 12 hex digits, such as 0A1B2C3D4E5F or 0a:1b:2c:3d:4e:5f", s)
	}
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("MAC address %q: 12 hex digits, such as 0A1B2C3D4E5F or 0a:1b:2c:3d:4e:5f", s)
	}
	return v, nil
}

// SetNextHops replaces the next hops' MAC addresses (bgpSetNextHops); they
// go when their owner (the script) stops.
func (s *Speaker) SetNextHops(hops map[netip.Addr]uint64, owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextHops.Store(&hops)
	s.hopsOwner = owner
	s.log.Info("BGP next hops set", "next_hops", len(hops))
}

// NextHops returns the table SetNextHops gave.
func (s *Speaker) NextHops() map[netip.Addr]uint64 {
	if p := s.nextHops.Load(); p != nil {
		return *p
	}
	return nil
}

// sampleMAC is a sample's destination (or source) MAC address, from its
// Ethernet header.
func sampleMAC(smp *flow.Sample, source bool) (uint64, bool) {
	if smp == nil || !smp.HasHeader {
		return 0, false
	}
	l, ok := smp.Packet.Find(packet.Ethernet, 0)
	b := smp.Packet.Bytes()
	o := l.Offset
	if source {
		o += 6
	}
	if !ok || o+6 > len(b) {
		return 0, false
	}
	return uint64(b[o])<<40 | uint64(b[o+1])<<32 | uint64(b[o+2])<<24 | uint64(b[o+3])<<16 | uint64(b[o+4])<<8 | uint64(b[o+5]), true
}
