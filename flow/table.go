package flow

import (
	"hash/maphash"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Smoothing. A flow's value is an exponentially weighted per-second rate:
//
//	v(now) = (1/t) · Σ xᵢ · e^(−(now − tᵢ)/t)
//
// where xᵢ is what sample i added (frames or bytes, times the sampling
// rate) at time tᵢ, and t the definition's time constant. A steady rate r
// gives v → r; a flow that stops decays by e every t seconds; a step from
// 0 to r reaches 63% of r after t and 95% after 3t.
//
// Tables store it in forward-decay form (Cormode et al., 2009): s = Σ xᵢ ·
// e^((tᵢ − L)/t) for a landmark L, so that an update is one multiply-add and
// every flow of a table can be ranked by s without computing an
// exponential; v(now) = s · e^(−(now − L)/t) / t. L moves forward every
// epochSpan time constants (a rebase rescales the table's flows) so that
// s never overflows.

// IdleTimeout is how long a flow lasts without samples before it has
// ended: four time constants (its value has decayed to under 2% of where
// its last sample left it), at least 2 s.
func IdleTimeout(t float64) time.Duration {
	return max(time.Duration(4*t*float64(time.Second)), 2*time.Second)
}

// Entry is one flow in a table. It is kept small: a million tracked flows
// are a million entries (docs/performance.md, "Memory"). What only some
// definitions need (extra values, value functions) is behind x.
type Entry struct {
	Key    string
	s      float64
	Total  float64 // everything added since the flow started (scaled)
	Start  int64   // ms
	Last   int64   // ms of the latest sample
	Logged int64   // ms of the latest log record (or of the start)
	// LoggedTotal is Total when the latest active-timeout record was made:
	// each record reports what the flow added since the one before.
	LoggedTotal float64
	x           *extra // nil when the definition has no extra values and every value is a rate
}

// extra is the part of an entry that only definitions with extra values or
// value functions have.
type extra struct {
	// vals are, n each for the n extra values: their smoothed sums, their
	// totals since the flow started (scaled), and the totals when the
	// latest active-timeout record was made.
	vals []float64
	// fx holds the value functions' state (values.go): [0] for the value,
	// [1+i] for extra value i; nil when every value is a rate.
	fx []fnState
}

// vs returns the smoothed sums of e's extra values.
func (e *Entry) vs() []float64 {
	if e.x == nil {
		return nil
	}
	n := len(e.x.vals) / 3
	return e.x.vals[:n:n]
}

// Totals returns what each extra value added since the flow started
// (scaled); nil when the definition has none.
func (e *Entry) Totals() []float64 {
	if e.x == nil {
		return nil
	}
	n := len(e.x.vals) / 3
	return e.x.vals[n : 2*n : 2*n]
}

// LoggedTotals returns Totals as they were when the latest active-timeout
// record was made.
func (e *Entry) LoggedTotals() []float64 {
	if e.x == nil {
		return nil
	}
	n := len(e.x.vals) / 3
	return e.x.vals[2*n:]
}

// MarkLogged notes that a record of e was made at ms: the next reports what
// the flow adds from now.
func (e *Entry) MarkLogged(ms int64) {
	e.Logged, e.LoggedTotal = ms, e.Total
	copy(e.LoggedTotals(), e.Totals())
}

// Limits bound the memory of every table together. The counters are
// shared by all tables and read by the engine's status.
type Limits struct {
	MaxFlows int64        // flows tracked by all tables together
	Flows    atomic.Int64 // flows tracked now
	Evicted  atomic.Int64 // flows removed to make room (smallest first)
	Refused  atomic.Int64 // new flows not tracked: no room and nothing smaller to evict
}

// PoolFactor sets how many candidate flows a table keeps per reported flow:
// a table reports its top n but tracks up to PoolFactor·n (at least
// MinPool), so that a flow rising from below can be seen before it is in
// the top n.
const (
	PoolFactor = 10
	MinPool    = 100
)

// maxPool bounds a table's pool: an index slot holds an entry's position
// in 16 bits, and the index (at most half full) has at most 2^16 slots.
// (Definitions have n ≤ MaxN, so pools are at most 200.)
const maxPool = 1 << 15

// Table holds the flows of one definition at one data source.
type Table struct {
	// Flows live in one slice, found through an open-addressing index of
	// their positions: the top-N scan of a query reads memory in order
	// instead of chasing a pointer per flow, and a flow costs its index
	// 8–16 bytes (a Go map of string keys took 35–50).
	idx     index
	entries []Entry
	scores  []float64 // entries[i].s, packed: what a top-N scan reads
	best    []int32   // Top's scratch
	epoch   int64
	t       float64 // time constant, s
	pool    int
	limits  *Limits
	Gen     uint64 // the definition generation the table belongs to
	// fns are the functions of the value ([0]) and the extra values;
	// funcs whether any is not a rate. plain: the value itself is a
	// function (avg:, count: …), so a flow's score is its value, not a
	// smoothed sum, and is not decayed.
	fns          []valueFn
	funcs, plain bool
	win          int64 // ms of a min/max/count window
}

// NewTable returns an empty table for d.
func NewTable(d *Definition, gen uint64, limits *Limits) *Table {
	t := &Table{
		t:      d.Spec.T,
		pool:   min(max(PoolFactor*d.Spec.N, MinPool), maxPool),
		limits: limits,
		Gen:    gen,
		win:    windowMs(d.Spec.T),
		fns:    []valueFn{d.value.fn},
		plain:  d.value.fn != fnRate,
	}
	for _, v := range d.values {
		t.fns = append(t.fns, v.fn)
	}
	for _, fn := range t.fns {
		t.funcs = t.funcs || fn != fnRate
	}
	return t
}

// Len returns the number of flows in the table.
func (t *Table) Len() int { return len(t.entries) }

// Add adds value x (and the extra values in sc, from Definition.Eval; sc
// may be nil when the definition has none) to the flow with the given key
// at time now (ms), with the weight g of epoch from Definition.Factor. It
// returns the entry and whether the flow is new; the entry is nil when
// there was no room for a new flow.
func (t *Table) Add(key []byte, x float64, sc *Scratch, now int64, g float64, epoch int64) (*Entry, bool) {
	var vs []float64
	if sc != nil {
		vs = sc.Values
	}
	if epoch != t.epoch {
		t.rebase(epoch)
	}
	var e *Entry
	isNew := false
	h := maphash.Bytes(seed, key)
	i, ok := t.find(str(key), h)
	if ok {
		e = &t.entries[i]
	} else {
		if e = t.insert(key, h, len(vs), now); e == nil {
			return nil, false
		}
		i, isNew = len(t.entries)-1, true
	}
	if !t.funcs {
		e.s += x * g
		t.scores[i] = e.s
		e.Total += x
		if e.x != nil {
			n := len(e.x.vals) / 3
			for j, v := range vs[:min(len(vs), n)] {
				e.x.vals[j] += v * g
				e.x.vals[n+j] += v
			}
		}
		e.Last = now
		return e, isNew
	}
	win := now / t.win
	w := 1.0
	var hv uint64
	if sc != nil {
		w, hv = sc.weight, sc.h
	}
	fx := e.x.fx
	if t.plain {
		fx[0].observe(t.fns[0], x, hv, w, g, win)
		e.s = fx[0].current(t.fns[0], win)
		t.scores[i] = e.s
	} else {
		e.s += x * g
		t.scores[i] = e.s
		e.Total += x
	}
	n := len(e.x.vals) / 3
	for j, v := range vs {
		if j >= n {
			break
		}
		switch fn := t.fns[1+j]; {
		case fn == fnRate:
			e.x.vals[j] += v * g
			e.x.vals[n+j] += v
		case sc.has[j]:
			fx[1+j].observe(fn, v, sc.hashes[j], w, g, win)
		}
	}
	e.Last = now
	return e, isNew
}

// insert adds a new flow whose key hashes to h, making room for it first.
func (t *Table) insert(key []byte, h uint64, nvalues int, now int64) *Entry {
	if len(t.entries) >= t.pool {
		t.evict(max(len(t.entries)/4, 1))
	}
	if t.limits != nil {
		if t.limits.Flows.Load() >= t.limits.MaxFlows {
			if len(t.entries) == 0 {
				t.limits.Refused.Add(1)
				return nil
			}
			t.evict(max(len(t.entries)/4, 1))
		}
		t.limits.Flows.Add(1)
	}
	if len(t.entries) == cap(t.entries) {
		// Grow to the pool and no further: append's doubling would
		// leave up to half of a full table's slice unused.
		c := min(max(2*cap(t.entries), 4), t.pool)
		if c <= len(t.entries) {
			c = 2*len(t.entries) + 1
		}
		t.entries = append(make([]Entry, 0, c), t.entries...)
		t.scores = append(make([]float64, 0, c), t.scores...)
	}
	t.entries = append(t.entries, Entry{Key: string(key), Start: now, Logged: now})
	t.scores = append(t.scores, 0)
	pos := len(t.entries) - 1
	e := &t.entries[pos]
	if nvalues > 0 || t.funcs {
		e.x = &extra{}
		if nvalues > 0 {
			e.x.vals = make([]float64, 3*nvalues) // one allocation for the three
		}
	}
	if t.funcs {
		e.x.fx = make([]fnState, len(t.fns))
		for j, fn := range t.fns {
			if fn == fnCount {
				e.x.fx[j].hll = new(hllSet)
			}
		}
	}
	t.index(h, pos)
	return e
}

// evict removes the n smallest flows.
func (t *Table) evict(n int) {
	n = min(n, len(t.entries))
	if n <= 0 {
		return
	}
	// The n-th smallest score is the cut: the flows below it go, and
	// as many of those at it as make n. Sorted in a copy on the stack
	// (pools are at most 200 flows).
	var buf [256]float64
	sorted := append(buf[:0], t.scores...)
	slices.Sort(sorted) // NaNs first: they go first
	cut := sorted[n-1]
	below := 0
	for _, sc := range sorted[:n] {
		if lessCut(sc, cut) {
			below++
		}
	}
	ties := n - below
	// Backwards: remove moves the last entry, which has been seen, into
	// the hole.
	for i := len(t.entries) - 1; i >= 0 && n > 0; i-- {
		sc := t.scores[i]
		switch {
		case lessCut(sc, cut):
		case ties > 0 && atCut(sc, cut):
			ties--
		default:
			continue
		}
		t.remove(i)
		n--
		if t.limits != nil {
			t.limits.Evicted.Add(1)
		}
	}
}

// lessCut and atCut order scores as slices.Sort does: NaN before every
// number.
func lessCut(x, cut float64) bool { return x < cut || (x != x && cut == cut) }
func atCut(x, cut float64) bool   { return x == cut || (x != x && cut != cut) }

// remove deletes entry i, moving the last entry into its place.
func (t *Table) remove(i int) {
	t.unindex(i)
	last := len(t.entries) - 1
	if i != last {
		t.reindex(last, i)
		t.entries[i] = t.entries[last]
		t.scores[i] = t.scores[last]
	}
	t.entries[last] = Entry{}
	t.entries = t.entries[:last]
	t.scores = t.scores[:last]
	if t.limits != nil {
		t.limits.Flows.Add(-1)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (t *Table) rebase(epoch int64) {
	f := math.Exp(float64((t.epoch - epoch) * epochSpan))
	for i := range t.entries {
		e := &t.entries[i]
		if !t.plain {
			e.s *= f
			t.scores[i] = e.s
		}
		if e.x != nil {
			for i := range e.vs() {
				e.x.vals[i] *= f
			}
			for j := range e.x.fx {
				e.x.fx[j].rescale(t.fns[j], f)
			}
		}
	}
	t.epoch = epoch
}

// decay converts a stored s to a per-second rate at now (ms); 1 when the
// value is a function, whose score is the value itself.
func (t *Table) decay(now int64) float64 {
	if t.plain {
		return 1
	}
	x := float64(now)/1000/t.t - float64(t.epoch*epochSpan)
	return math.Exp(-x) / t.t
}

// refresh brings the scores of a table whose value is a function up to
// now: min, max and count change as their windows pass, without samples.
func (t *Table) refresh(now int64) {
	if !t.plain {
		return
	}
	win := now / t.win
	for i := range t.entries {
		e := &t.entries[i]
		e.s = e.x.fx[0].current(t.fns[0], win)
		t.scores[i] = e.s
	}
}

// Value returns e's smoothed rate (or its value function's value) at now
// (ms).
func (t *Table) Value(e *Entry, now int64) float64 {
	if t.plain {
		return e.x.fx[0].current(t.fns[0], now/t.win)
	}
	return e.s * t.decay(now)
}

// Lookup returns the flow with the given key, and whether the table has
// it.
func (t *Table) Lookup(key string) (*Entry, bool) {
	i, ok := t.find(key, maphash.String(seed, key))
	if !ok {
		return nil, false
	}
	return &t.entries[i], true
}

// ValueOf returns the rate of the flow with the given key, and whether the
// table has it.
func (t *Table) ValueOf(key string, now int64) (float64, bool) {
	e, ok := t.Lookup(key)
	if !ok {
		return 0, false
	}
	return t.Value(e, now), true
}

// values fills out with e's extra values at now, given the decay d.
func (t *Table) values(out []float64, e *Entry, now int64, d float64) {
	if t.plain {
		d = t.rateDecay(now)
	}
	win := now / t.win
	for i, v := range e.vs() {
		if fn := t.fns[1+i]; fn != fnRate {
			out[i] = e.x.fx[1+i].current(fn, win)
		} else {
			out[i] = v * d
		}
	}
}

// rateDecay is decay for the rates among the extra values of a table
// whose value is a function.
func (t *Table) rateDecay(now int64) float64 {
	x := float64(now)/1000/t.t - float64(t.epoch*epochSpan)
	return math.Exp(-x) / t.t
}

// Record returns what a flow record of e reports (log:true): the value and
// extra values the flow added since its previous record for rates, and
// the flow's life for value functions (its mean, extremes, distinct
// count).
func (t *Table) Record(e *Entry) (float64, []float64) {
	v := e.Total - e.LoggedTotal
	if t.plain {
		v = e.x.fx[0].life(t.fns[0])
	}
	n := len(e.vs())
	if n == 0 {
		return v, nil
	}
	vs := make([]float64, n)
	tot, logged := e.Totals(), e.LoggedTotals()
	for i := range vs {
		if fn := t.fns[1+i]; fn != fnRate {
			vs[i] = e.x.fx[1+i].life(fn)
		} else {
			vs[i] = tot[i] - logged[i] // since the previous record, as the value is
		}
	}
	return v, vs
}

// Flow is a flow and its smoothed rates at a moment.
type Flow struct {
	Key    string
	Value  float64
	Values []float64
}

// Top appends the table's n largest flows at now (ms), largest first.
func (t *Table) Top(dst []Flow, n int, now int64) []Flow {
	t.refresh(now)
	// Keep the n best seen so far in order; most flows lose to the
	// smallest of them with one comparison of packed scores.
	best := t.best[:0]
	for j, sc := range t.scores {
		if len(best) == n && sc <= t.scores[best[n-1]] {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, sc, func(b int32, v float64) int { return cmpFloat(v, t.scores[b]) })
		if len(best) < n {
			best = append(best, 0)
		}
		copy(best[i+1:], best[i:len(best)-1])
		best[i] = int32(j)
	}
	t.best = best[:0]
	d := t.decay(now)
	for _, j := range best {
		e := &t.entries[j]
		f := Flow{Key: e.Key, Value: e.s * d}
		if n := len(e.vs()); n > 0 {
			f.Values = make([]float64, n)
			t.values(f.Values, e, now, d)
		}
		dst = append(dst, f)
	}
	return dst
}

// Max returns the value of the largest flow at now (ms), and whether the
// table has any.
func (t *Table) Max(now int64) (float64, bool) {
	t.refresh(now)
	best, any := 0.0, false
	for _, sc := range t.scores {
		if !any || sc > best {
			best, any = sc, true
		}
	}
	return best * t.decay(now), any
}

// Expire removes the flows that have had no sample for idle ms, calling
// ended for each (before removal) so that it can be logged.
func (t *Table) Expire(now, idle int64, ended func(e *Entry)) {
	// Backwards: remove moves the last entry, which has been seen, into
	// the hole.
	for i := len(t.entries) - 1; i >= 0; i-- {
		if e := &t.entries[i]; now-e.Last >= idle {
			if ended != nil {
				ended(e)
			}
			t.remove(i)
		}
	}
}

// Each calls fn for every flow.
func (t *Table) Each(fn func(e *Entry)) {
	for i := range t.entries {
		fn(&t.entries[i])
	}
}

// Clear removes every flow (the definition was removed or replaced).
func (t *Table) Clear() {
	if t.limits != nil {
		t.limits.Flows.Add(-int64(len(t.entries)))
	}
	clear(t.idx.slots)
	clear(t.entries)
	t.entries = t.entries[:0]
	t.scores = t.scores[:0]
}

// EachAbove calls fn for every flow whose rate at now (ms) exceeds level,
// comparing packed scores against the level scaled once, so that no
// exponential is computed per flow.
func (t *Table) EachAbove(level float64, now int64, fn func(e *Entry, value float64)) {
	t.refresh(now)
	d := t.decay(now)
	if d <= 0 {
		return
	}
	floor := level / d
	for i, sc := range t.scores {
		if sc > floor {
			fn(&t.entries[i], sc*d)
		}
	}
}

// Values returns e's extra values (the definition's values) at now (ms).
func (t *Table) Values(e *Entry, now int64) []float64 {
	n := len(e.vs())
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	t.values(out, e, now, t.decay(now))
	return out
}
