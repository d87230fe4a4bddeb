// Package flow turns packet samples into sFlow-RT's flows: a definition
// (keys, value, filter, t, n …) is compiled once; each sample is filtered,
// keyed and added to a per-data-source table whose values are per-second
// rates, scaled by the sampling rate and smoothed with time constant t.
//
// Everything here takes the time as a parameter and owns no goroutine or
// lock: the engine decides who calls what, and when.
package flow

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/flowrt/flowrt/internal/jsobj"
)

// Spec is a flow definition as PUT to /flow/{name}/json or given to setFlow.
// Its JSON form is sFlow-RT's.
type Spec struct {
	Keys          Names    `json:"keys"`
	Value         string   `json:"value"`
	Values        Names    `json:"values,omitempty"`
	Filter        string   `json:"filter,omitempty"`
	N             int      `json:"n"`
	T             float64  `json:"t"`
	FS            string   `json:"fs"`
	Log           bool     `json:"log"`
	FlowStart     bool     `json:"flowStart"`
	ActiveTimeout int      `json:"activeTimeout"`
	Dropped       bool     `json:"dropped,omitempty"`
	AggMode       string   `json:"aggMode,omitempty"`
	IPFIX         []string `json:"ipfixCollectors,omitempty"`
}

// Defaults and limits of the definition attributes (sFlow-RT's).
const (
	DefaultN             = 5
	MinN, MaxN           = 1, 20
	DefaultT             = 2.0
	MinT, MaxT           = 0.1, 600.0
	DefaultFS            = ","
	DefaultActiveTimeout = 60
)

// Names is a list of key or value expressions. In JSON it is either a comma
// separated string ("ipsource,ipdestination") or an array; it is written
// back as the string, as sFlow-RT shows it. Commas inside [...] belong to
// the nested expression.
type Names []string

// UnmarshalJSON accepts a string or an array of strings.
func (n *Names) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = SplitNames(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("keys must be a comma separated string or an array of strings")
	}
	*n = nil
	for _, s := range a {
		*n = append(*n, SplitNames(s)...)
	}
	return nil
}

// MarshalJSON writes the comma separated form.
func (n Names) MarshalJSON() ([]byte, error) { return json.Marshal(strings.Join(n, ",")) }

// SplitNames splits a comma separated list of expressions, keeping commas
// that are inside brackets or escaped.
func SplitNames(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				if t := strings.TrimSpace(s[start:i]); t != "" {
					out = append(out, t)
				}
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// ParseSpec reads a definition in strict JSON or in the JavaScript object
// form the seeds use ({keys:'ipsource', value:'frames', t:20}), fills in
// the defaults and clamps n and t to their limits as sFlow-RT does.
func ParseSpec(body []byte) (Spec, error) {
	var s Spec
	present, err := jsobj.DecodeObject(body, &s, "flow definition", "keys", "value", "values", "filter", "n", "t",
		"fs", "log", "flowStart", "activeTimeout", "dropped", "aggMode", "ipfixCollectors")
	if err != nil {
		return Spec{}, err
	}
	return s.withDefaults(present)
}

func (s Spec) withDefaults(present map[string]bool) (Spec, error) {
	if s.Value == "" {
		return s, fmt.Errorf("flow definition needs a value (frames, bytes or a numeric key)")
	}
	if !present["n"] || s.N == 0 {
		s.N = DefaultN
	}
	s.N = min(max(s.N, MinN), MaxN)
	if !present["t"] || s.T == 0 {
		s.T = DefaultT
	}
	if math.IsNaN(s.T) || math.IsInf(s.T, 0) {
		return s, fmt.Errorf("t must be a number of seconds")
	}
	s.T = min(max(s.T, MinT), MaxT)
	if s.FS == "" {
		s.FS = DefaultFS
	}
	if !present["activeTimeout"] || s.ActiveTimeout <= 0 {
		s.ActiveTimeout = DefaultActiveTimeout
	}
	if s.Keys == nil {
		s.Keys = Names{}
	}
	return s, nil
}

// Normalize fills in the defaults of a Spec built in Go rather than parsed.
func (s Spec) Normalize() (Spec, error) {
	return s.withDefaults(map[string]bool{"n": s.N != 0, "t": s.T != 0, "activeTimeout": s.ActiveTimeout != 0})
}
