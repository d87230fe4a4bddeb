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
	"net"
	"slices"
	"strconv"
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

// AggModes are the ways /activeflows combines a flow seen at several data
// sources; a definition's aggMode is the default of its queries. They are
// read without regard to case (particle asks for 'MAX').
var AggModes = []string{"max", "sum", "avg", "edge", "core"}

// AggAgent is the definition-only aggMode 'AGENT' (ddos-protect, InMon's
// ai-monitor): the samples of all an agent's data sources go to one table,
// at the data source AgentDataSource, instead of one table per data source.
// Its queries merge as max.
const (
	AggAgent        = "agent"
	AgentDataSource = "agent"
)

// MaxActiveTimeout bounds activeTimeout (a year of seconds).
const MaxActiveTimeout = 366 * 24 * 3600

// ParseSpec reads a definition in strict JSON or in the JavaScript object
// form the seeds use ({keys:'ipsource', value:'frames', t:20}) and fills in
// the defaults of the attributes it does not give. A value that means
// nothing (n:0, t:0, a negative activeTimeout, an empty fs, an unknown
// aggMode) is an error naming the attribute and its range; values beyond
// sFlow-RT's limits are clamped when the definition is stored (see
// Stored), as sFlow-RT clamps them.
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
	if !present["n"] {
		s.N = DefaultN
	} else if s.N < MinN {
		return s, fmt.Errorf("n: %d is out of range: the number of largest flows kept per data source, %d to %d", s.N, MinN, MaxN)
	}
	if !present["t"] {
		s.T = DefaultT
	} else if math.IsNaN(s.T) || math.IsInf(s.T, 0) || s.T <= 0 {
		return s, fmt.Errorf("t: %v is out of range: the smoothing time constant in seconds, %v to %v", s.T, MinT, MaxT)
	}
	if !present["fs"] {
		s.FS = DefaultFS
	} else if s.FS == "" {
		return s, fmt.Errorf("fs: the separator between key values must not be empty (default %q)", DefaultFS)
	}
	if !present["activeTimeout"] {
		s.ActiveTimeout = DefaultActiveTimeout
	} else if s.ActiveTimeout < 1 || s.ActiveTimeout > MaxActiveTimeout {
		return s, fmt.Errorf("activeTimeout: %d is out of range: seconds between records of a long flow, 1 to %d", s.ActiveTimeout, MaxActiveTimeout)
	}
	if s.AggMode != "" {
		s.AggMode = strings.ToLower(s.AggMode)
		if s.AggMode != AggAgent && !slices.Contains(AggModes, s.AggMode) {
			return s, fmt.Errorf("aggMode: %q is not one of %s or AGENT (any case)", s.AggMode, strings.Join(AggModes, ", "))
		}
	}
	if s.Keys == nil {
		s.Keys = Names{}
	}
	if len(s.IPFIX) > 0 {
		if err := s.checkIPFIX(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// IPFIXKeys and IPFIXValues are the keys and values a definition with
// ipfixCollectors may have (sFlow-RT's subset): the ones with a standard
// IPFIX information element.
var (
	IPFIXKeys = []string{"macsource", "macdestination", "ethernetprotocol", "vlan", "priority", "ipprotocol", "ipsource",
		"ipdestination", "ip6source", "ip6destination", "ip6nexthdr", "tcpsourceport", "tcpdestinationport", "udpsourceport",
		"udpdestinationport", "inputifindex", "outputifindex"}
	IPFIXValues = []string{"bytes", "frames"}
)

// checkIPFIX refuses what an IPFIX record could not carry, naming it.
func (s Spec) checkIPFIX() error {
	for _, k := range s.Keys {
		if !slices.Contains(IPFIXKeys, k) {
			return fmt.Errorf("ipfixCollectors: key %q has no IPFIX element; the keys may be %s", k, strings.Join(IPFIXKeys, ", "))
		}
	}
	for _, v := range append(Names{s.Value}, s.Values...) {
		if !slices.Contains(IPFIXValues, v) {
			return fmt.Errorf("ipfixCollectors: value %q has no IPFIX element; the values may be bytes, frames", v)
		}
	}
	if s.FlowStart {
		return fmt.Errorf("ipfixCollectors: flowStart:true records carry a flow's first packet only; IPFIX records are sent when a flow ends and every activeTimeout")
	}
	for _, c := range s.IPFIX {
		if err := CheckCollector(c); err != nil {
			return fmt.Errorf("ipfixCollectors: %w", err)
		}
	}
	return nil
}

// CheckCollector checks a collector's form: host or host:port (an IPv6
// address with a port in brackets), the port 1 to 65535.
func CheckCollector(c string) error {
	host, port := c, ""
	if h, p, err := net.SplitHostPort(c); err == nil {
		host, port = h, p
	} else if strings.Count(c, ":") == 1 {
		return fmt.Errorf("collector %q: %v", c, err)
	}
	if host == "" || strings.ContainsAny(host, " /[]") {
		return fmt.Errorf("collector %q: not a host or host:port", c)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("collector %q: port %q is not 1 to 65535", c, port)
		}
	}
	return nil
}

// Normalize fills in the defaults of a Spec built in Go rather than parsed
// (a zero n, t, fs or activeTimeout is the default there).
func (s Spec) Normalize() (Spec, error) {
	return s.withDefaults(map[string]bool{"n": s.N != 0, "t": s.T != 0, "activeTimeout": s.ActiveTimeout != 0, "fs": s.FS != ""})
}

// Stored returns the definition as the engine keeps it — n and t clamped
// to sFlow-RT's limits, as sFlow-RT does — and one note for each attribute
// it changed or that has no effect, so that nothing is changed or ignored
// silently: the REST answer and the log carry the notes, GET shows the
// stored values.
func (s Spec) Stored() (Spec, []string) {
	var notes []string
	if s.N > MaxN {
		notes = append(notes, fmt.Sprintf("n: %d is above %d, the most flows flowrt keeps per data source: stored as %d (/activeflows?maxFlows= merges the data sources' top flows)", s.N, MaxN, MaxN))
		s.N = MaxN
	}
	switch {
	case s.T < MinT:
		notes = append(notes, fmt.Sprintf("t: %v is below %v s, the shortest smoothing time constant: stored as %v", s.T, MinT, MinT))
		s.T = MinT
	case s.T > MaxT:
		notes = append(notes, fmt.Sprintf("t: %v is above %v s, the longest smoothing time constant: stored as %v", s.T, MaxT, MaxT))
		s.T = MaxT
	}
	return s, notes
}
