package history

import (
	"context"
	"testing"
	"time"
)

type rec struct {
	ID   int64
	Name string
}

func setID(r *rec, id int64) { r.ID = id }

func TestRingNewestFirstAndBounded(t *testing.T) {
	h := New[rec](3)
	for _, n := range []string{"a", "b", "c", "d"} {
		h.Add(rec{Name: n}, setID)
	}
	got := h.After(context.Background(), -1, 10, 0, nil)
	if len(got) != 3 || got[0].Name != "d" || got[0].ID != 4 || got[2].Name != "b" {
		t.Fatalf("got %+v, want d c b with d=4", got)
	}
	if got := h.After(context.Background(), 3, 10, 0, nil); len(got) != 1 || got[0].Name != "d" {
		t.Fatalf("after 3: %+v", got)
	}
	if got := h.After(context.Background(), -1, 10, 0, func(r *rec) bool { return r.Name == "c" }); len(got) != 1 {
		t.Fatalf("filtered: %+v", got)
	}
}

func TestLongPollWakesOnAdd(t *testing.T) {
	h := New[rec](8)
	done := make(chan []rec)
	go func() { done <- h.After(context.Background(), h.LastID(), 10, 10*time.Second, nil) }()
	time.Sleep(20 * time.Millisecond)
	h.Add(rec{Name: "x"}, setID)
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Name != "x" {
			t.Fatalf("got %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not wake")
	}
	// Timeout with nothing new returns an empty, non-nil list.
	if got := h.After(context.Background(), h.LastID(), 10, 10*time.Millisecond, nil); got == nil || len(got) != 0 {
		t.Fatalf("timeout: %#v", got)
	}
}
