package flow

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstEntries drives a table through adds, evictions (a small
// pool), expiries and a clear, and checks after every step that the index
// finds each entry at its position and nothing else: every key in the
// table is found where it is, every key offered and not there is not.
func TestIndexAgainstEntries(t *testing.T) {
	c := NewCompiler()
	d, err := c.Define("f", Spec{Keys: Names{"ipsource"}, Value: "frames", N: 1, T: 1})
	if err != nil {
		t.Fatal(err)
	}
	lim := &Limits{MaxFlows: 1 << 30}
	tb := NewTable(d, 1, lim)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	}
	now := int64(1_700_000_000_000)
	check := func(step int) {
		t.Helper()
		if got := lim.Flows.Load(); got != int64(tb.Len()) {
			t.Fatalf("step %d: limits count %d flows, the table has %d", step, got, tb.Len())
		}
		in := map[string]int{}
		for i := range tb.entries {
			in[tb.entries[i].Key] = i
		}
		if len(in) != tb.Len() {
			t.Fatalf("step %d: %d entries but %d distinct keys", step, tb.Len(), len(in))
		}
		for _, k := range keys {
			e, ok := tb.Lookup(k)
			want, has := in[k]
			switch {
			case ok != has:
				t.Fatalf("step %d: Lookup(%s) = %v, the table has it: %v", step, k, ok, has)
			case ok && e != &tb.entries[want]:
				t.Fatalf("step %d: Lookup(%s) found another entry", step, k)
			}
		}
	}
	for step := range 5000 {
		now += int64(rng.IntN(20))
		g, ep := d.Factor(now)
		switch r := rng.IntN(100); {
		case r < 97:
			k := keys[rng.IntN(len(keys))]
			if e, _ := tb.Add([]byte(k), float64(1+rng.IntN(100)), nil, now, g, ep); e == nil || e.Key != k {
				t.Fatalf("step %d: Add(%s) returned %+v", step, k, e)
			}
		case r < 99:
			tb.Expire(now, int64(rng.IntN(2000)), nil)
		default:
			tb.Clear()
		}
		if tb.Len() > tb.pool {
			t.Fatalf("step %d: %d flows in a pool of %d", step, tb.Len(), tb.pool)
		}
		check(step)
	}
	if lim.Evicted.Load() == 0 {
		t.Error("the pool never evicted: the test did not exercise eviction")
	}
}

// TestEvictRemovesTheSmallest checks eviction takes the smallest flows,
// and exactly a quarter of a full pool, ties and NaN included.
func TestEvictRemovesTheSmallest(t *testing.T) {
	c := NewCompiler()
	d, _ := c.Define("f", Spec{Keys: Names{"ipsource"}, Value: "frames", N: 10})
	lim := &Limits{MaxFlows: 1 << 30}
	tb := NewTable(d, 1, lim)
	now := int64(1_700_000_000_000)
	g, ep := d.Factor(now)
	for i := range tb.pool {
		x := float64(i % 50) // each value twice
		if i == 7 {
			x = 0 * x / x // NaN: nothing compares less than it, so it goes first
		}
		tb.Add(fmt.Appendf(nil, "k%d", i), x, nil, now, g, ep)
	}
	tb.Add([]byte("new"), 1000, nil, now, g, ep)
	if want := tb.pool - tb.pool/4 + 1; tb.Len() != want || lim.Evicted.Load() != int64(tb.pool/4) {
		t.Fatalf("after evicting: %d flows (want %d), %d evicted", tb.Len(), want, lim.Evicted.Load())
	}
	// The pool of 100 held 0..49 twice (one 7 a NaN): the 25 evicted are
	// the NaN and the 24 smallest others, 0 to 11 twice; no survivor is
	// below 12.
	if _, ok := tb.Lookup("k7"); ok {
		t.Error("the NaN flow survived")
	}
	for i := range tb.entries {
		if e := &tb.entries[i]; e.Key != "new" && e.s < 12*g {
			t.Errorf("%s (%v) survived, smaller than the flows evicted", e.Key, e.s/g)
		}
	}
}
