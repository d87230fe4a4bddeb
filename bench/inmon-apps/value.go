package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// realValue finds evidence that an answer holds measured data rather than
// an empty shape: in JSON, the first non-zero number (or, failing that,
// non-empty string) at a leaf, as path=value; in text (Prometheus), the
// first sample line with a non-zero value. "" when there is none.
func realValue(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		num, str := "", ""
		walk(v, "", &num, &str)
		if num != "" {
			return num
		}
		return str
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Fields(l)
		if x, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && x != 0 && len(f) >= 2 {
			return clip(l)
		}
	}
	return ""
}

// settingOrClock matches the numbers that are not measurements: clocks
// (times, after, start, end), a trend's capacity, an app's settings.
var settingOrClock = regexp.MustCompile(`(?i)(time|times\[\d+\]|after|start|end|maxPoints|maxVolume|updated|seed|version|interval|\.n)$`)

// walk visits leaves in a stable order (object keys sorted).
func walk(v any, path string, num, str *string) {
	if *num != "" {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(x[k], path+"."+k, num, str)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), num, str)
		}
	case float64:
		if x != 0 && !settingOrClock.MatchString(path) {
			*num = clip(strings.TrimPrefix(path, ".") + "=" + strconv.FormatFloat(x, 'g', 6, 64))
		}
	case string:
		if x != "" && *str == "" {
			*str = clip(strings.TrimPrefix(path, ".") + "=" + strconv.Quote(x))
		}
	}
}

func clip(s string) string {
	if len(s) > 90 {
		return s[:87] + "…"
	}
	return s
}
