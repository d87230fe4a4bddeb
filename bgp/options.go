package bgp

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Options are bgpAddNeighbor's options: sFlow-RT's (ipv6, flowspec,
// flowspec6, multipath) and flowrt's own (active, port, peeras, holdtime;
// docs/bgp.md).
type Options struct {
	IPv6      bool // also exchange IPv6 unicast
	FlowSpec  bool // announce IPv4 Flowspec (RFC 8955)
	FlowSpec6 bool // announce IPv6 Flowspec (RFC 8956)
	Multipath bool // receive several paths per prefix (ADD-PATH)
	Active    bool // connect to the router too, rather than only wait for it
	Port      int  // the router's port when active (default 179)
	PeerAS    uint32
	HoldTime  int // seconds (default GoBGP's 90)
}

// ParseOptions reads an options object (names to values as the script
// gave them). An unknown name or a value of the wrong kind is an error, so
// that a misspelt option is not silently ignored.
func ParseOptions(m map[string]any) (Options, error) {
	var o Options
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := m[k]
		var err error
		switch k {
		case "ipv6":
			o.IPv6, err = boolOpt(k, v)
		case "flowspec":
			o.FlowSpec, err = boolOpt(k, v)
		case "flowspec6":
			o.FlowSpec6, err = boolOpt(k, v)
		case "multipath":
			o.Multipath, err = boolOpt(k, v)
		case "active":
			o.Active, err = boolOpt(k, v)
		case "port":
			var n int64
			n, err = intOpt(k, v, 1, 65535)
			o.Port = int(n)
		case "peeras":
			var n int64
			n, err = intOpt(k, v, 1, 4294967295)
			o.PeerAS = uint32(n)
		case "holdtime":
			var n int64
			n, err = intOpt(k, v, 3, 65535)
			o.HoldTime = int(n)
		default:
			return o, fmt.Errorf("unknown option %q: bgpAddNeighbor takes ipv6, flowspec, flowspec6, multipath, active, port, peeras and holdtime", k)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func boolOpt(k string, v any) (bool, error) {
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(b) {
		case "true", "yes":
			return true, nil
		case "false", "no", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("option %s=%v: must be true or false", k, v)
}

func intOpt(k string, v any, lo, hi int64) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("option %s=%v: must be a whole number", k, v)
		}
		n = int64(x)
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
			return 0, fmt.Errorf("option %s=%q: must be a whole number", k, x)
		}
	default:
		return 0, fmt.Errorf("option %s=%v: must be a number", k, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("option %s=%d: must be %d to %d", k, n, lo, hi)
	}
	return n, nil
}
