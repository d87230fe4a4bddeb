package engine

import (
	"encoding/binary"
	"net/netip"
)

// locCache is one worker's memory of what the locator answered it lately:
// until when the same sample would leave the locator as it is (the place
// or address is there and fresh, or the MAC's places all are). A sample
// the cache knows costs a look at the worker's own memory instead of a
// shard's lock and map: most samples, since a host sends many packets a
// second from one port. Direct-mapped: a collision is one more look at
// the locator.
//
// With one worker, the locator holds exactly what it would without the
// cache (TestLocateCacheWritesAsWithout): nothing removes a fresh place
// or address, except a flood of new MACs or addresses past the locator's
// bound within a second, whose victims are learned again within a second.
// Where workers disagree within a second (a MAC's VLAN at a port, or an
// address's MAC, flapping between samples that different workers
// decode), the locator keeps the first answer of that second instead of
// the last.
type locCache struct {
	macs [1 << macCacheBits]macSeen
	ips  [1 << ipCacheBits]ipSeen
}

// 56 KB of places and 128 KB of addresses: a switch's hosts, and the
// busiest of the addresses behind its ports.
const (
	macCacheBits = 10
	ipCacheBits  = 12
)

type macSeen struct {
	at    hostLoc
	mac   [6]byte
	until int64 // ms
}

type ipSeen struct {
	ip    [16]byte
	mac   [6]byte
	until int64 // ms
}

func cacheSlot(x uint64, bits uint) uint64 { return (x * 0x9e3779b97f4a7c15) >> (64 - bits) }

func (c *locCache) mac(mac [6]byte, at *hostLoc) *macSeen {
	a := at.agent.As16()
	x := uint64(binary.BigEndian.Uint32(mac[2:])) | uint64(mac[1])<<32 | uint64(at.ifIndex)<<40
	return &c.macs[cacheSlot(x^binary.LittleEndian.Uint64(a[8:])*31, macCacheBits)]
}

func (c *locCache) ip(k [16]byte) *ipSeen {
	return &c.ips[cacheSlot(binary.LittleEndian.Uint64(k[8:])^binary.LittleEndian.Uint64(k[:8]), ipCacheBits)]
}

// knows reports whether learning the place now would change nothing.
func (m *macSeen) knows(mac [6]byte, at hostLoc) bool {
	return m.mac == mac && m.at.ifIndex == at.ifIndex && m.at.vlan == at.vlan && m.at.agent == at.agent && at.seen < m.until
}

func (p *ipSeen) knows(k [16]byte, mac [6]byte, ms int64) bool {
	return p.ip == k && p.mac == mac && ms < p.until
}

// ipKey is how the locator keys an address.
func ipKey(ip netip.Addr) [16]byte { return ip.Unmap().As16() }
