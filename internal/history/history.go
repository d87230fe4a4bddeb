// Package history keeps the newest records of a stream (completed flows,
// threshold events) in a bounded ring, numbered from 1, and lets readers
// long-poll for records newer than the last one they saw — the protocol of
// sFlow-RT's /flows/json and /events/json.
package history

import (
	"context"
	"sync"
	"time"
)

// History is a bounded, numbered ring of records. The zero value is not
// usable; call New.
type History[T any] struct {
	mu      sync.Mutex
	ring    []T
	ids     []int64
	next    int   // ring position of the next record
	n       int   // records held
	lastID  int64 // ID of the newest record
	changed chan struct{}
}

// New returns a history keeping at most size records.
func New[T any](size int) *History[T] {
	size = max(size, 1)
	return &History[T]{ring: make([]T, size), ids: make([]int64, size), changed: make(chan struct{})}
}

// Add appends a record, giving it the next ID, which set stores into the
// record before it is kept. It wakes every waiting reader.
func (h *History[T]) Add(r T, set func(*T, int64)) int64 {
	h.mu.Lock()
	h.lastID++
	id := h.lastID
	if set != nil {
		set(&r, id)
	}
	h.ring[h.next], h.ids[h.next] = r, id
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	return id
}

// LastID returns the ID of the newest record (0 when there is none).
func (h *History[T]) LastID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastID
}

// After returns up to max records with IDs greater than after that keep
// says to return, newest first. With after < 0 every record qualifies. When
// there is none yet and wait > 0, it blocks until one arrives, wait passes
// or ctx ends.
func (h *History[T]) After(ctx context.Context, after int64, max int, wait time.Duration, keep func(*T) bool) []T {
	deadline := time.Now().Add(wait)
	for {
		h.mu.Lock()
		out := h.collect(after, max, keep)
		ch := h.changed
		h.mu.Unlock()
		left := time.Until(deadline)
		if len(out) > 0 || left <= 0 {
			return out
		}
		t := time.NewTimer(left)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return out
		}
		t.Stop()
	}
}

func (h *History[T]) collect(after int64, max int, keep func(*T) bool) []T {
	out := []T{}
	for i := 1; i <= h.n && len(out) < max; i++ {
		pos := (h.next - i + len(h.ring)) % len(h.ring)
		if after >= 0 && h.ids[pos] <= after {
			break
		}
		if keep == nil || keep(&h.ring[pos]) {
			out = append(out, h.ring[pos])
		}
	}
	return out
}
