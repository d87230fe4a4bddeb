package flow

import (
	"math"
	"strconv"
	"testing"
)

// TestHLLError measures the count: sketch over 400 sets of each size, of
// addresses as a flow key writes them: the rms error stays near the
// standard error 1.04/√128 ≈ 9.2% and the bias small, at every size.
func TestHLLError(t *testing.T) {
	var key []byte
	for _, n := range []int{50, 200, 320, 1000, 5000} {
		var sum, sq float64
		const trials = 400
		for tr := range trials {
			var s hllSet
			for i := range n {
				key = strconv.AppendInt(append(strconv.AppendInt(key[:0], int64(tr), 10), ".51."...), int64(i), 10)
				s.add(hashValue(key))
			}
			e := s.estimate(&s.cur, nil)/float64(n) - 1
			sum, sq = sum+e, sq+e*e
		}
		bias, rms := sum/trials, math.Sqrt(sq/trials)
		t.Logf("%5d distinct: bias %+.1f%%, rms error %.1f%%", n, 100*bias, 100*rms)
		if rms > 1.25*HLLStandardError || math.Abs(bias) > 0.03 {
			t.Errorf("%d distinct: bias %.3f, rms error %.3f; the standard error is %.3f", n, bias, rms, HLLStandardError)
		}
	}
}
