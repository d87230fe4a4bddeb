package flow

import (
	"math"
	"math/bits"
)

// HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007) estimates the
// number of distinct values seen in a fixed memory: 2^p registers, each
// the longest run of leading zeros (plus one) among the hashes that chose
// it. flowrt keeps p = 7: 128 one-byte registers per sketch, a standard
// error of 1.04/√128 ≈ 9.2%. Small counts (an estimate under 2.5·128 with
// some register still zero) use linear counting, m·ln(m/zeros), unbiased
// there. Measured over 400 sets each: rms error 6.7% at 50 distinct
// values, 8.8% at 200, 9.2% at 320, 8.8% at 1,000, 9.8% at 5,000, bias
// under 2% (TestHLLError); a handful of values is nearly exact. The
// 64-bit hash needs no large-range correction.
const (
	hllP = 7
	hllM = 1 << hllP
)

// HLLStandardError is the relative standard error of count: values.
var HLLStandardError = 1.04 / math.Sqrt(hllM)

// hllSet is a count: value's sketches in one flow: the current and the
// previous window, and the flow's life.
type hllSet struct {
	cur, prev, life [hllM]uint8
}

func (s *hllSet) add(h uint64) {
	i := h >> (64 - hllP)
	rho := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1)) + 1)
	if rho > s.cur[i] {
		s.cur[i] = rho
	}
	if rho > s.life[i] {
		s.life[i] = rho
	}
}

// estimate is the distinct count of the union of a and b (b may be nil).
func (s *hllSet) estimate(a, b *[hllM]uint8) float64 {
	sum, zeros := 0.0, 0
	for i := range a {
		r := a[i]
		if b != nil && b[i] > r {
			r = b[i]
		}
		if r == 0 {
			zeros++
		}
		sum += math.Ldexp(1, -int(r))
	}
	if zeros == hllM {
		return 0
	}
	const alpha = 0.7213 / (1 + 1.079/hllM)
	e := alpha * hllM * hllM / sum
	if e <= 2.5*hllM && zeros > 0 {
		e = hllM * math.Log(float64(hllM)/float64(zeros))
	}
	return e
}
