package flow

import (
	"math"
	"strconv"
	"strings"
)

// Value functions. A flow's value (and each of its values) is by default a
// rate: what its samples add, times the sampling rate, per second, smoothed
// (see Table). A prefix asks for something else about the flow's samples,
// as sFlow-RT's value functions do (ddos-protect's
// values:'count:ipsource,avg:ipbytes', dtn's 'avg:tcprtt', ai-metrics'
// value:'avg:ibbtaethack', values:['min:…','max:…']):
//
//   - avg:k   the mean of k over the samples, each weighted by its sampling
//     rate (the packets it stands for), smoothed with the definition's t
//     like a rate: Σ wᵢxᵢe^(tᵢ/t) / Σ wᵢe^(tᵢ/t). Samples taken together
//     give their plain weighted mean.
//   - min:k, max:k  the smallest/largest k among the samples of the current
//     and the previous window of max(t, 1 s).
//   - count:k the number of distinct values of k among the samples of the
//     current and previous window, estimated with a HyperLogLog sketch
//     (see hll.go: 128 one-byte registers, standard error 1.04/√128 ≈ 9.2%;
//     below about 320 values, linear counting; a handful of values is
//     nearly exact).
//     It counts sampled values: a distinct count cannot be scaled by the
//     sampling rate.
//   - last:k  k of the latest sample.
//   - rate:k  the default, a rate (the legacy spelling).
//
// When a flow has had no sample for a whole window, min, max and count
// report the flow's whole life instead. Flow records (log:true) report the
// flow's life: the mean, extremes and distinct count of all its samples.
// A sample that lacks the key adds nothing to these (to a rate it adds 0).

type valueFn uint8

const (
	fnRate valueFn = iota
	fnAvg
	fnMin
	fnMax
	fnCount
	fnLast
)

var valueFns = map[string]valueFn{"rate": fnRate, "avg": fnAvg, "min": fnMin, "max": fnMax, "count": fnCount, "last": fnLast}

// splitValueFn splits "avg:ipbytes" into its function and key; a value
// without a known prefix is a rate of itself.
func splitValueFn(src string) (valueFn, string) {
	name, rest, ok := strings.Cut(strings.TrimSpace(src), ":")
	if !ok || rest == "" {
		return fnRate, src
	}
	fn, ok := valueFns[name]
	if !ok {
		return fnRate, src
	}
	return fn, rest
}

// fnState is one value function's state in one flow.
type fnState struct {
	// avg: the smoothed Σ w·x and Σ w. min/max: this window's and the
	// previous window's extreme. last: the latest x (in a).
	a, b float64
	// The flow's life: avg Σ w·x and Σ w; min/max the extreme (in la).
	la, lb float64
	win    int64 // min/max/count: the window a (or the current sketch) is of
	seen   uint8 // seenA, seenB, seenLife
	hll    *hllSet
}

const (
	seenA uint8 = 1 << iota
	seenB
	seenLife
)

// windowMs is the window of min, max and count for time constant t (s).
func windowMs(t float64) int64 { return max(int64(t*1000), 1000) }

// rotate moves the state to window w. A sample stamped a little earlier
// than the window already open (clocks of data sources differ by a few ms
// across a boundary) is counted in the open window rather than wiping it.
func (st *fnState) rotate(w int64) {
	switch {
	case w <= st.win && st.seen != 0:
		return
	case w == st.win+1:
		st.b, st.seen = st.a, st.seen&seenLife|(st.seen&seenA)<<1
		if st.hll != nil {
			st.hll.prev, st.hll.cur = st.hll.cur, [hllM]uint8{}
		}
	default:
		st.seen &= seenLife
		if st.hll != nil {
			st.hll.prev, st.hll.cur = [hllM]uint8{}, [hllM]uint8{}
		}
	}
	st.win = w
}

// observe adds one sample's x (h for count), weighted w, with smoothing
// weight g, at window win.
func (st *fnState) observe(fn valueFn, x float64, h uint64, w, g float64, win int64) {
	switch fn {
	case fnAvg:
		st.a += w * x * g
		st.b += w * g
		st.la += w * x
		st.lb += w
	case fnMin, fnMax:
		st.rotate(win)
		better := func(old float64) bool { return (fn == fnMin && x < old) || (fn == fnMax && x > old) }
		if st.seen&seenA == 0 || better(st.a) {
			st.a = x
		}
		if st.seen&seenLife == 0 || better(st.la) {
			st.la = x
		}
		st.seen |= seenA | seenLife
	case fnCount:
		st.rotate(win)
		st.hll.add(h)
		st.seen |= seenA | seenLife
	case fnLast:
		st.a = x
	}
}

// current is the function's value at window win.
func (st *fnState) current(fn valueFn, win int64) float64 {
	switch fn {
	case fnAvg:
		if st.b == 0 {
			return 0
		}
		return st.a / st.b
	case fnMin, fnMax:
		a, b := st.a, st.b
		hasA, hasB := st.seen&seenA != 0, st.seen&seenB != 0
		switch max(win-st.win, 0) {
		case 0:
		case 1:
			b, hasB, hasA = a, hasA, false
		default:
			hasA, hasB = false, false
		}
		switch {
		case hasA && hasB:
			if fn == fnMin {
				return math.Min(a, b)
			}
			return math.Max(a, b)
		case hasA:
			return a
		case hasB:
			return b
		}
		return st.la
	case fnCount:
		switch max(win-st.win, 0) {
		case 0:
			if n := st.hll.estimate(&st.hll.cur, &st.hll.prev); n > 0 {
				return n
			}
		case 1:
			if n := st.hll.estimate(&st.hll.cur, nil); n > 0 {
				return n
			}
		}
		return st.hll.estimate(&st.hll.life, nil)
	case fnLast:
		return st.a
	}
	return 0
}

// life is the function's value over the flow's life (flow records).
func (st *fnState) life(fn valueFn) float64 {
	switch fn {
	case fnAvg:
		if st.lb == 0 {
			return 0
		}
		return st.la / st.lb
	case fnMin, fnMax:
		return st.la
	case fnCount:
		return st.hll.estimate(&st.hll.life, nil)
	case fnLast:
		return st.a
	}
	return 0
}

// rescale applies a rebase of the smoothing landmark (see Table.rebase).
func (st *fnState) rescale(fn valueFn, f float64) {
	if fn == fnAvg {
		st.a *= f
		st.b *= f
	}
}

// hashValue is FNV-1a over a key's text, finished with a mixer so that
// every bit of the result depends on every byte (HyperLogLog reads the top
// bits as an index and the rest as a run of zeros).
func hashValue(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// parseValue reads a numeric key's text.
func parseValue(b []byte) (float64, bool) {
	x, err := strconv.ParseFloat(str(b), 64)
	return x, err == nil
}
