package script

import (
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// formatNumber formats like Java's DecimalFormat for the patterns scripts
// use: grouping ("#,##0"), fixed and optional decimals ("0.00", "#.##"),
// percent-free literal prefixes and suffixes in quotes or after the digits
// ("#,##0 seconds", "0'%' difference").
func formatNumber(v float64, pattern string) string {
	start := strings.IndexAny(pattern, "#0")
	if start < 0 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	end := start
	for end < len(pattern) && strings.ContainsRune("#0,.", rune(pattern[end])) {
		end++
	}
	prefix, num, suffix := unquote(pattern[:start]), pattern[start:end], unquote(pattern[end:])
	intPart, frac, _ := strings.Cut(num, ".")
	minFrac, maxFrac := strings.Count(frac, "0"), len(frac)
	s := strconv.FormatFloat(math.Abs(v), 'f', maxFrac, 64)
	whole, dec, _ := strings.Cut(s, ".")
	for len(dec) > minFrac && strings.HasSuffix(dec, "0") {
		dec = dec[:len(dec)-1]
	}
	if strings.Contains(intPart, ",") {
		size := len(intPart) - strings.LastIndexByte(intPart, ',') - 1
		var b strings.Builder
		for i, c := range whole {
			if i > 0 && (len(whole)-i)%size == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		whole = b.String()
	}
	out := whole
	if dec != "" {
		out += "." + dec
	}
	if v < 0 && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return prefix + out + suffix
}

func unquote(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "''", "\x00"), "'", "")
}

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
	vm.Set("baselineCreate", func(c goja.FunctionCall) goja.Value {
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
	vm.Set("baselineCheck", func(c goja.FunctionCall) goja.Value {
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
	vm.Set("baselineStatistics", func(c goja.FunctionCall) goja.Value {
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
	vm.Set("baselineReset", func(c goja.FunctionCall) goja.Value {
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
