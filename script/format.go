package script

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// bindFormat installs md5, formatNumber and formatDate.
func bindFormat(s *Script) {
	vm := s.vm
	s.set("md5", func(c goja.FunctionCall) goja.Value {
		sum := md5.Sum([]byte(arg(c, 0).String()))
		return vm.ToValue(hex.EncodeToString(sum[:]))
	})
	s.set("formatNumber", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(formatNumber(arg(c, 0).ToFloat(), arg(c, 1).String()))
	})
	// formatDate(date, pattern[, language[, country]]): date is a Date or
	// milliseconds.
	s.set("formatDate", func(c goja.FunctionCall) goja.Value {
		var ms int64
		if d, ok := arg(c, 0).Export().(time.Time); ok {
			ms = d.UnixMilli()
		} else {
			ms = arg(c, 0).ToInteger()
		}
		return vm.ToValue(formatDate(time.UnixMilli(ms), arg(c, 1).String()))
	})
}

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
