package script

import (
	"math"
	"sync"

	"github.com/dop251/goja"
)

// Baselines (baselineCreate/Check/Statistics/Reset): a window of recent
// values per name; a value outside mean ± sensitivity·sdev for repeat checks
// in a row is high or low.
type baseline struct {
	window, repeat int
	sensitivity    float64
	values         []float64
	outside        int
	last           string
}

func bindBaselines(s *Script) {
	vm := s.vm
	var mu sync.Mutex
	b := map[string]*baseline{}
	s.set("baselineCreate", func(c goja.FunctionCall) goja.Value {
		bl := &baseline{window: 100, sensitivity: 2, repeat: 1}
		if present(arg(c, 1)) {
			bl.window = max(int(arg(c, 1).ToInteger()), 2)
		}
		if present(arg(c, 2)) {
			bl.sensitivity = arg(c, 2).ToFloat()
		}
		if present(arg(c, 3)) {
			bl.repeat = max(int(arg(c, 3).ToInteger()), 1)
		}
		mu.Lock()
		b[arg(c, 0).String()] = bl
		mu.Unlock()
		return vm.ToValue(true)
	})
	get := func(name string) *baseline {
		mu.Lock()
		defer mu.Unlock()
		bl := b[name]
		if bl == nil {
			throw(vm, "no baseline %q (baselineCreate first)", name)
		}
		return bl
	}
	s.set("baselineCheck", func(c goja.FunctionCall) goja.Value {
		bl := get(arg(c, 0).String())
		x := arg(c, 1).ToFloat()
		status := "learning"
		if len(bl.values) >= bl.window {
			mean, sd := stats(bl.values)
			switch {
			case x > mean+bl.sensitivity*sd:
				status = "high"
			case x < mean-bl.sensitivity*sd:
				status = "low"
			default:
				status = "normal"
			}
			if status != "normal" {
				bl.outside++
				if bl.outside < bl.repeat {
					status = "normal"
				}
			} else {
				bl.outside = 0
			}
		}
		bl.values = append(bl.values, x)
		if len(bl.values) > bl.window {
			bl.values = bl.values[1:]
		}
		bl.last = status
		return vm.ToValue(status)
	})
	s.set("baselineStatistics", func(c goja.FunctionCall) goja.Value {
		bl := get(arg(c, 0).String())
		if len(bl.values) < bl.window {
			return goja.Null()
		}
		mean, sd := stats(bl.values)
		lo, hi := bl.values[0], bl.values[0]
		for _, v := range bl.values {
			lo, hi = min(lo, v), max(hi, v)
		}
		return vm.ToValue(map[string]any{"mean": mean, "sdev": sd, "min": lo, "max": hi, "n": len(bl.values)})
	})
	s.set("baselineReset", func(c goja.FunctionCall) goja.Value {
		bl := get(arg(c, 0).String())
		bl.values, bl.outside = nil, 0
		return goja.Undefined()
	})
}

func stats(v []float64) (mean, sdev float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sdev += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sdev / float64(len(v)))
}
