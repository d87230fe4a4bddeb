package bgp

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/flow"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Route is a route a script announces (bgpAddRoute's object).
type Route struct {
	Prefix netip.Prefix
	nlri   bgp.NLRI
	attrs  []bgp.PathAttributeInterface
}

func (r *Route) family() bgp.Family {
	if r.Prefix.Addr().Is4() {
		return bgp.RF_IPv4_UC
	}
	return bgp.RF_IPv6_UC
}

// ParseRoute reads {prefix, nexthop, nexthoplinklocal, aspath, origin,
// localpref, med, communities}: prefix and nexthop are required; an
// unknown field is an error.
func ParseRoute(m map[string]any) (*Route, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "prefix", "nexthop", "nexthoplinklocal", "aspath", "origin", "localpref", "med", "communities":
		case "value", "parentprefix":
			// bgpTopPrefixes' traffic fields: active-routes hands its
			// entries to bgpAddRoute as they are. They describe the
			// prefix's traffic and are not BGP attributes to send.
		default:
			return nil, fmt.Errorf("route: unknown field %q (prefix, nexthop, nexthoplinklocal, aspath, origin, localpref, med, communities; value and parentprefix of a bgpTopPrefixes entry are taken and not sent)", k)
		}
	}
	ps, ok := m["prefix"]
	if !ok {
		return nil, fmt.Errorf("route: no prefix")
	}
	p, err := parsePrefix(fmt.Sprint(ps))
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	nhv, ok := m["nexthop"]
	if !ok {
		return nil, fmt.Errorf("route %s: no nexthop (RTBH: the router's black-hole address, such as 192.0.2.1)", p)
	}
	nh, err := netip.ParseAddr(strings.TrimSpace(fmt.Sprint(nhv)))
	if err != nil {
		return nil, fmt.Errorf("route %s: nexthop %q is not an IP address", p, fmt.Sprint(nhv))
	}
	nh = nh.Unmap()
	if nh.Is4() != p.Addr().Is4() {
		return nil, fmt.Errorf("route %s: nexthop %s is of the other IP version", p, nh)
	}
	origin := uint8(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)
	if v, ok := m["origin"]; ok {
		switch strings.ToUpper(fmt.Sprint(v)) {
		case "IGP":
		case "EGP":
			origin = bgp.BGP_ORIGIN_ATTR_TYPE_EGP
		case "INCOMPLETE":
			origin = bgp.BGP_ORIGIN_ATTR_TYPE_INCOMPLETE
		default:
			return nil, fmt.Errorf("route %s: origin %q: IGP, EGP or INCOMPLETE", p, fmt.Sprint(v))
		}
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(origin)}
	if p.Addr().Is4() {
		a, err := bgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return nil, fmt.Errorf("route %s: nexthop %s: %w", p, nh, err)
		}
		attrs = append(attrs, a)
	} else {
		hops := []netip.Addr{nh}
		if v, ok := m["nexthoplinklocal"]; ok {
			ll, err := netip.ParseAddr(fmt.Sprint(v))
			if err != nil || !ll.Is6() || !ll.IsLinkLocalUnicast() {
				return nil, fmt.Errorf("route %s: nexthoplinklocal %q is not an IPv6 link-local address", p, fmt.Sprint(v))
			}
			hops = append(hops, ll)
		}
		nlri, _ := bgp.NewIPAddrPrefix(p)
		a, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, []bgp.PathNLRI{{NLRI: nlri}}, hops...)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", p, err)
		}
		attrs = append(attrs, a)
	}
	if v, ok := m["aspath"]; ok && fmt.Sprint(v) != "" {
		path, err := asPath(fmt.Sprint(v))
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", p, err)
		}
		attrs = append(attrs, bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, path)}))
	} else {
		attrs = append(attrs, bgp.NewPathAttributeAsPath(nil))
	}
	if v, ok := m["med"]; ok {
		n, err := uintField(v, "med")
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", p, err)
		}
		attrs = append(attrs, bgp.NewPathAttributeMultiExitDisc(n))
	}
	if v, ok := m["localpref"]; ok {
		n, err := uintField(v, "localpref")
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", p, err)
		}
		attrs = append(attrs, bgp.NewPathAttributeLocalPref(n))
	}
	if v, ok := m["communities"]; ok && fmt.Sprint(v) != "" {
		cs, err := communities(v)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", p, err)
		}
		attrs = append(attrs, bgp.NewPathAttributeCommunities(cs))
	}
	nlri, err := bgp.NewIPAddrPrefix(p)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", p, err)
	}
	return &Route{Prefix: p, nlri: nlri, attrs: attrs}, nil
}

func uintField(v any, what string) (uint32, error) {
	switch x := v.(type) {
	case int64:
		if x >= 0 && x <= 1<<32-1 {
			return uint32(x), nil
		}
	case float64:
		if x >= 0 && x <= 1<<32-1 && x == float64(int64(x)) {
			return uint32(x), nil
		}
	case string:
		return parseUint32(strings.TrimSpace(x), what)
	}
	return 0, fmt.Errorf("%s %v: not a number from 0 to 4294967295", what, v)
}

// asPath reads sFlow-RT's 1-2-3 (spaces and commas are taken too).
func asPath(s string) ([]uint32, error) {
	var out []uint32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == ' ' || r == ',' }) {
		n, err := parseUint32(f, "aspath AS")
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// communities reads "65535:666-65000:1" (or an array of "AS:value"); the
// well-known names are taken too.
func communities(v any) ([]uint32, error) {
	var parts []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
	default:
		parts = strings.FieldsFunc(fmt.Sprint(v), func(r rune) bool { return r == '-' || r == ' ' || r == ',' })
	}
	var out []uint32
	for _, c := range parts {
		n, err := community(c)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

var wellKnown = map[string]uint32{"blackhole": 0xFFFF029A, "no-export": 0xFFFFFF01, "no-advertise": 0xFFFFFF02,
	"no-export-subconfed": 0xFFFFFF03, "graceful-shutdown": 0xFFFF0000}

func community(c string) (uint32, error) {
	c = strings.TrimSpace(c)
	if n, ok := wellKnown[strings.ToLower(c)]; ok {
		return n, nil
	}
	as, val, ok := strings.Cut(c, ":")
	if ok {
		a, err1 := strconv.ParseUint(as, 10, 16)
		v, err2 := strconv.ParseUint(val, 10, 16)
		if err1 == nil && err2 == nil {
			return uint32(a)<<16 | uint32(v), nil
		}
	}
	return 0, fmt.Errorf("community %q: AS:value, each 0 to 65535 (RTBH: 65535:666)", c)
}

// RoutePrefix is the prefix of an announced route's spec, in canonical
// form.
func RoutePrefix(spec map[string]any) string {
	p, err := parsePrefix(fmt.Sprint(spec["prefix"]))
	if err != nil {
		return fmt.Sprint(spec["prefix"])
	}
	return p.String()
}

// Describe is a learned route as REST and scripts show it, in sFlow-RT's
// Route fields.
func Describe(p netip.Prefix, r *flow.BGPRoute) map[string]any {
	path := make([]string, len(r.ASPath))
	for i, as := range r.ASPath {
		path[i] = strconv.FormatUint(uint64(as), 10)
	}
	cs := make([]string, len(r.Communities))
	for i, c := range r.Communities {
		cs[i] = fmt.Sprintf("%d:%d", c>>16, c&0xffff)
	}
	return map[string]any{"prefix": p.String(), "nexthop": r.NextHop.String(), "aspath": strings.Join(path, "-"),
		"communities": strings.Join(cs, "-"), "localpref": r.LocalPref, "med": r.MED}
}
