package tenant

import (
	"net/netip"
	"sync/atomic"
)

// recentSize is how many tenant datagrams the splitter remembers, to
// recognise one that a collector sends back: a loop through another
// collector (which configuration cannot show) would otherwise have every
// tenant datagram applied and split again, without end. A copy returns
// within milliseconds; 65,536 slots hold the last 65,536 datagrams sent,
// 512 KB.
const recentSize = 1 << 16

// recent is a direct-mapped set of datagram keys, written by the
// collector goroutines that split and read by those that receive, without
// locks: each slot is one atomic word.
type recent struct {
	slots [recentSize]atomic.Uint64
	used  atomic.Bool
}

func key(agent netip.Addr, subAgent, seq, uptime uint32, length int) (slot int, k uint64) {
	a := agent.As16()
	h := uint64(0xcbf29ce484222325)
	for _, c := range a {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	h = mix(h, uint64(subAgent)<<32|uint64(seq))
	h = mix(h, uint64(uptime)<<32|uint64(uint32(length)))
	return int(h & (recentSize - 1)), h | 1
}

func mix(h, v uint64) uint64 {
	h ^= v * 0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func (r *recent) add(agent netip.Addr, subAgent, seq, uptime uint32, length int) {
	i, k := key(agent, subAgent, seq, uptime, length)
	r.slots[i].Store(k)
	if !r.used.Load() {
		r.used.Store(true)
	}
}

func (r *recent) has(agent netip.Addr, subAgent, seq, uptime uint32, length int) bool {
	i, k := key(agent, subAgent, seq, uptime, length)
	return r.slots[i].Load() == k
}

func (r *recent) empty() bool { return !r.used.Load() }
