package flow

import "hash/maphash"

// A table's index finds a flow's position in its entries from its key: open
// addressing with linear probing over a power-of-two array kept at most
// half full, and backward-shift deletion (no tombstones, so it never needs
// rebuilding after evictions). A slot is 0 when empty, else the low 16
// bits of the key's hash (its tag: the slot's home is tag & mask, and the
// tag rejects most other keys without reading them) above the position
// plus one. The array holds no pointers: the collector does not scan it.
type index struct {
	slots []uint32
}

// seed is the hash seed of every table: random per process, so that keys
// chosen to collide (the key is what a sender puts in a packet) cannot be
// picked in advance.
var seed = maphash.MakeSeed()

// A slot is tag<<tagBits | position+1; lowBits masks either half.
const (
	tagBits = 16
	lowBits = 1<<tagBits - 1
)

// find returns the position of the flow with key (whose hash is h).
func (t *Table) find(key string, h uint64) (int, bool) {
	s := t.idx.slots
	if len(s) == 0 {
		return 0, false
	}
	mask := uint32(len(s) - 1)
	tag := uint32(h) & lowBits
	for i := tag & mask; ; i = (i + 1) & mask {
		v := s[i]
		if v == 0 {
			return 0, false
		}
		if v>>tagBits == tag {
			if p := int(v&lowBits) - 1; t.entries[p].Key == key {
				return p, true
			}
		}
	}
}

// index records that the flow whose key hashes to h is at pos (it is not
// in the index yet), growing the array first when it would be over half
// full.
func (t *Table) index(h uint64, pos int) {
	if 2*(pos+1) > len(t.idx.slots) {
		t.rehash(max(8, 2*len(t.idx.slots)), pos)
	}
	t.place(uint32(h)&lowBits, pos)
}

func (t *Table) place(tag uint32, pos int) {
	s := t.idx.slots
	mask := uint32(len(s) - 1)
	i := tag & mask
	for s[i] != 0 {
		i = (i + 1) & mask
	}
	s[i] = tag<<tagBits | uint32(pos+1)
}

// rehash rebuilds the index over n slots from the keys of the first
// upto entries.
func (t *Table) rehash(n, upto int) {
	t.idx.slots = make([]uint32, n)
	for p := range upto {
		t.place(uint32(maphash.String(seed, t.entries[p].Key))&lowBits, p)
	}
}

// slotOf returns the slot that holds position pos.
func (t *Table) slotOf(pos int) uint32 {
	s := t.idx.slots
	mask := uint32(len(s) - 1)
	want := uint32(pos + 1)
	for i := uint32(maphash.String(seed, t.entries[pos].Key)) & mask; ; i = (i + 1) & mask {
		if s[i]&lowBits == want {
			return i
		}
	}
}

// unindex removes position pos from the index, shifting back the slots
// after it that probed past it.
func (t *Table) unindex(pos int) {
	s := t.idx.slots
	mask := uint32(len(s) - 1)
	j := t.slotOf(pos)
	for k := (j + 1) & mask; s[k] != 0; k = (k + 1) & mask {
		// The slot at k may fill the hole at j if j lies on its probe
		// path: its home is no nearer to k than j is.
		if home := (s[k] >> tagBits) & mask; (k-home)&mask >= (k-j)&mask {
			s[j] = s[k]
			j = k
		}
	}
	s[j] = 0
}

// reindex notes that the flow at position from moves to position to.
func (t *Table) reindex(from, to int) {
	i := t.slotOf(from)
	t.idx.slots[i] = t.idx.slots[i]&^lowBits | uint32(to+1)
}
