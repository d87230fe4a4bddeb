package forward

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// recentSize is how many forwarded datagrams a session remembers. A copy
// that loops back through another collector returns within milliseconds;
// 16,384 slots hold the last 16,384 datagrams of one agent (its sequence
// numbers take consecutive slots) and, shared by many agents at 100,000
// datagrams/s, keep a datagram with probability 94% for the 10 ms after it
// was sent. A copy that slips through is forwarded once more, recognised
// on its next return, and the loop still ends. 128 KB per session.
const recentSize = 1 << 14

// recent is a direct-mapped set of datagram keys, written by the
// collector goroutines that forward and read by those that receive,
// without locks: each slot is one atomic word.
type recent [recentSize]atomic.Uint64

func (r *recent) add(slot, key uint64)      { r[slot].Store(key) }
func (r *recent) has(slot, key uint64) bool { return r[slot].Load() == key }

// datagramKey returns a datagram's slot and its key (never 0, the empty
// slot). An agent's datagrams are told apart by sub-agent, sequence number
// and uptime (which sets a restarted agent's sequence numbers apart), the
// length guards against a coincidence; the slot is the agent's hash plus
// the sequence number, so that one agent's consecutive datagrams never
// evict each other.
func datagramKey(id ID, length int) (slot, key uint64) {
	a := id.Agent.As16()
	h := mix(binary.BigEndian.Uint64(a[:8])^bits.RotateLeft64(binary.BigEndian.Uint64(a[8:]), 29), uint64(id.SubAgent))
	slot = (h + uint64(id.Sequence)) & (recentSize - 1)
	key = mix(h^(uint64(id.Sequence)<<32|uint64(id.Uptime)), uint64(length)) | 1
	return slot, key
}

// mix combines two words: h xor an odd multiple of v, through
// MurmurHash3's 64-bit finaliser.
func mix(h, v uint64) uint64 {
	h ^= v * 0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
