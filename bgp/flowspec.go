package bgp

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// FlowSpec is a Flowspec rule a script announces (bgpAddFlow's object):
// match (what traffic) and then (what the router does with it).
type FlowSpec struct {
	Key    string // the match, canonical: bgpRemoveFlow finds the rule by it
	Family bgp.Family
	NLRI   bgp.NLRI
	Attrs  []bgp.PathAttributeInterface
}

// matchNames are sFlow-RT's match fields and GoBGP's names for them.
var matchNames = map[string]string{
	"destination": "destination", "source": "source", "protocol": "protocol", "port": "port",
	"destination-port": "destination-port", "source-port": "source-port", "icmp-type": "icmp-type",
	"icmp-code": "icmp-code", "tcp-flags": "tcp-flags", "length": "packet-length", "dscp": "dscp",
	"fragment": "fragment",
}

// fragmentLetters are sFlow-RT's fragment letters (RFC 8955 bits).
var fragmentLetters = map[rune]string{'D': "dont-fragment", 'I': "is-fragment", 'F': "first-fragment", 'L': "last-fragment"}

// FlowKey returns the canonical form of a rule's match.
func FlowKey(spec map[string]any) (string, error) {
	_, key, err := flowMatch(spec)
	return key, err
}

func flowMatch(spec map[string]any) (bgp.Family, string, error) {
	mv, ok := spec["match"]
	if !ok {
		return 0, "", fmt.Errorf("flowspec: no match object")
	}
	m, ok := mv.(map[string]any)
	if !ok || len(m) == 0 {
		return 0, "", fmt.Errorf("flowspec: match must be an object with at least one field")
	}
	fam := bgp.RF_FS_IPv4_UC
	if v, ok := m["version"]; ok {
		switch fmt.Sprint(v) {
		case "4":
		case "6":
			fam = bgp.RF_FS_IPv6_UC
		default:
			return 0, "", fmt.Errorf("flowspec: version %v: 4 or 6", v)
		}
	} else {
		for _, k := range []string{"destination", "source"} {
			if v, ok := m[k]; ok {
				if p, err := parsePrefix(fmt.Sprint(v)); err == nil && p.Addr().Is6() {
					fam = bgp.RF_FS_IPv6_UC
				}
			}
		}
	}
	names := make([]string, 0, len(m))
	for k := range m {
		if k == "version" {
			continue
		}
		if _, ok := matchNames[k]; !ok {
			return 0, "", fmt.Errorf("flowspec: unknown match field %q (destination, source, protocol, port, destination-port, source-port, icmp-type, icmp-code, tcp-flags, length, dscp, fragment, version)", k)
		}
		names = append(names, k)
	}
	if len(names) == 0 {
		return 0, "", fmt.Errorf("flowspec: the match has no field besides version")
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(map[bgp.Family]string{bgp.RF_FS_IPv4_UC: "4", bgp.RF_FS_IPv6_UC: "6"}[fam])
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%v", k, m[k])
	}
	return fam, b.String(), nil
}

// ParseFlowSpec reads {match:{…}, then:{…}} as ddos-protect builds them.
func ParseFlowSpec(spec map[string]any) (*FlowSpec, error) {
	for k := range spec {
		if k != "match" && k != "then" {
			return nil, fmt.Errorf("flowspec: unknown field %q (match, then)", k)
		}
	}
	fam, key, err := flowMatch(spec)
	if err != nil {
		return nil, err
	}
	m := spec["match"].(map[string]any)
	var args []string
	for k, v := range m {
		if k == "version" {
			continue
		}
		vals, err := matchValue(fam, k, fmt.Sprint(v))
		if err != nil {
			return nil, err
		}
		args = append(args, matchNames[k], vals)
	}
	comps, err := bgp.ParseFlowSpecComponents(fam, strings.Join(args, " "))
	if err != nil {
		return nil, fmt.Errorf("flowspec match %s: %v", key, err)
	}
	nlri, err := bgp.NewFlowSpecUnicast(fam, comps)
	if err != nil {
		return nil, fmt.Errorf("flowspec match %s: %v", key, err)
	}
	tv, ok := spec["then"]
	if !ok {
		return nil, fmt.Errorf("flowspec %s: no then object (traffic-rate 0 drops)", key)
	}
	then, ok := tv.(map[string]any)
	if !ok || len(then) == 0 {
		return nil, fmt.Errorf("flowspec %s: then must be an object with at least one action", key)
	}
	attrs, nexthop, err := flowActions(fam, then)
	if err != nil {
		return nil, fmt.Errorf("flowspec %s: %w", key, err)
	}
	// GoBGP takes a Flowspec path's NLRI from MP_REACH_NLRI, and
	// redirect-nexthop's address from its next hop.
	var hops []netip.Addr
	if nexthop.IsValid() {
		hops = append(hops, nexthop)
	}
	mp, err := bgp.NewPathAttributeMpReachNLRI(fam, []bgp.PathNLRI{{NLRI: nlri}}, hops...)
	if err != nil {
		return nil, fmt.Errorf("flowspec %s: %w", key, err)
	}
	attrs = append(attrs, mp)
	return &FlowSpec{Key: key, Family: fam, NLRI: nlri, Attrs: attrs}, nil
}

// matchValue turns one sFlow-RT match value into GoBGP's syntax: '=' is
// GoBGP's '==', ',' separates alternatives, fragment letters become names.
func matchValue(fam bgp.Family, k, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("flowspec: match %s is empty", k)
	}
	switch k {
	case "destination", "source":
		p, err := parsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("flowspec: match %s: %w", k, err)
		}
		if p.Addr().Is6() != (fam == bgp.RF_FS_IPv6_UC) {
			return "", fmt.Errorf("flowspec: match %s %s is not of IP version %s", k, p, map[bool]string{true: "6", false: "4"}[fam == bgp.RF_FS_IPv6_UC])
		}
		return p.String(), nil
	case "fragment":
		var out []string
		for _, alt := range strings.Split(v, ",") {
			op, letters := splitOp(alt)
			var names []string
			for _, r := range letters {
				n, ok := fragmentLetters[r]
				if !ok {
					return "", fmt.Errorf("flowspec: match fragment %q: letters D, I, F, L", v)
				}
				names = append(names, n)
			}
			out = append(out, op+strings.Join(names, "+"))
		}
		return strings.Join(out, " "), nil
	case "tcp-flags":
		var out []string
		for _, alt := range strings.Split(v, ",") {
			op, letters := splitOp(alt)
			if strings.Trim(letters, "FSRPAUEC") != "" || letters == "" {
				return "", fmt.Errorf("flowspec: match tcp-flags %q: letters F, S, R, P, A, U, E, C", v)
			}
			out = append(out, op+letters)
		}
		return strings.Join(out, " "), nil
	}
	var out []string
	for _, alt := range strings.Split(v, ",") {
		for i, term := range strings.Split(alt, "&") {
			op, num := splitOp(term)
			if _, err := strconv.ParseUint(num, 10, 16); err != nil {
				return "", fmt.Errorf("flowspec: match %s %q: operators =, !=, <, <=, >, >= before numbers, & and , between them", k, v)
			}
			if op == "=" || op == "" {
				op = "=="
			}
			if i > 0 {
				op = "&" + op
			}
			out = append(out, op+num)
		}
	}
	return strings.Join(out, " "), nil
}

func splitOp(s string) (op, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("=!<>", r) })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// dscpNames are the DSCP names traffic-marking takes (RFC 4594, RFC 8622).
var dscpNames = map[string]uint8{"le": 1, "ef": 46, "va": 44, "af11": 10, "af12": 12, "af13": 14, "af21": 18, "af22": 20,
	"af23": 22, "af31": 26, "af32": 28, "af33": 30, "af41": 34, "af42": 36, "af43": 38,
	"cs0": 0, "cs1": 8, "cs2": 16, "cs3": 24, "cs4": 32, "cs5": 40, "cs6": 48, "cs7": 56, "be": 0}

// flowActions turns then into the extended communities of RFC 8955
// section 7 (and RFC 8956 for IPv6 redirect-ip).
func flowActions(fam bgp.Family, then map[string]any) ([]bgp.PathAttributeInterface, netip.Addr, error) {
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	var ext, ext6 []bgp.ExtendedCommunityInterface
	var std []uint32
	nexthop := netip.Addr{}
	names := make([]string, 0, len(then))
	for k := range then {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := strings.TrimSpace(fmt.Sprint(then[k]))
		switch k {
		case "traffic-rate":
			r, err := strconv.ParseFloat(v, 32)
			if err != nil || r < 0 {
				return nil, netip.Addr{}, fmt.Errorf("traffic-rate %q: bytes per second, 0 or more (0 drops)", v)
			}
			ext = append(ext, bgp.NewTrafficRateExtended(0, float32(r)))
		case "traffic-marking":
			d, ok := dscpNames[strings.ToLower(v)]
			if !ok {
				n, err := strconv.ParseUint(v, 10, 8)
				if err != nil || n > 63 {
					return nil, netip.Addr{}, fmt.Errorf("traffic-marking %q: a DSCP name (le, ef, af11 … cs7) or 0 to 63", v)
				}
				d = uint8(n)
			}
			ext = append(ext, bgp.NewTrafficRemarkExtended(d))
		case "traffic-action":
			var terminal, sample bool
			switch v {
			case "none":
				terminal = true
			case "sample":
				terminal, sample = true, true
			case "continue":
			case "sampleandcontinue":
				sample = true
			default:
				return nil, netip.Addr{}, fmt.Errorf("traffic-action %q: none, continue, sample or sampleandcontinue", v)
			}
			ext = append(ext, bgp.NewTrafficActionExtended(terminal, sample))
		case "redirect-as":
			as, local, err := asColon(v, 0xffff, 0xffffffff)
			if err != nil {
				return nil, netip.Addr{}, fmt.Errorf("redirect-as %q: %w", v, err)
			}
			ext = append(ext, bgp.NewRedirectTwoOctetAsSpecificExtended(uint16(as), uint32(local)))
		case "redirect-as4":
			as, local, err := asColon(v, 0xffffffff, 0xffff)
			if err != nil {
				return nil, netip.Addr{}, fmt.Errorf("redirect-as4 %q: %w", v, err)
			}
			ext = append(ext, bgp.NewRedirectFourOctetAsSpecificExtended(uint32(as), uint16(local)))
		case "redirect-ip":
			i := strings.LastIndex(v, ":")
			a, err := netip.ParseAddr(strings.Trim(v[:max(i, 0)], "[]"))
			local, err2 := strconv.ParseUint(v[i+1:], 10, 16)
			if i < 0 || err != nil || err2 != nil {
				return nil, netip.Addr{}, fmt.Errorf("redirect-ip %q: address:value, such as 192.0.2.1:666", v)
			}
			if a.Is4() {
				c, err := bgp.NewRedirectIPv4AddressSpecificExtended(a, uint16(local))
				if err != nil {
					return nil, netip.Addr{}, fmt.Errorf("redirect-ip %q: %w", v, err)
				}
				ext = append(ext, c)
			} else {
				c, err := bgp.NewRedirectIPv6AddressSpecificExtended(a, uint16(local))
				if err != nil {
					return nil, netip.Addr{}, fmt.Errorf("redirect-ip %q: %w", v, err)
				}
				ext6 = append(ext6, c)
			}
		case "redirect-nexthop":
			// draft-ietf-idr-flowspec-redirect-ip: the next hop goes in
			// MP_REACH_NLRI, marked by extended community 0x0800.
			a, err := netip.ParseAddr(v)
			if err != nil || a.Is4() != (fam == bgp.RF_FS_IPv4_UC) {
				return nil, netip.Addr{}, fmt.Errorf("redirect-nexthop %q: an address of the rule's IP version", v)
			}
			nexthop = a
			ext = append(ext, bgp.NewUnknownExtended(0x08, []byte{0, 0, 0, 0, 0, 0, 0}))
		case "redirect-action-ip":
			// draft-ietf-idr-flowspec-redirect-ip-02 (ddos-protect's
			// ipaction): the target in the extended community itself, type
			// 0x01 (IPv4-address-specific, RFC 4360) sub-type 0x0c, IANA's
			// "Flow-spec Redirect to IPv4", as FRR and ExaBGP decode it;
			// the local administrator's last bit is the copy flag, 0
			// (redirect). The draft's IPv6 form needs an IPv6-address-
			// specific community (RFC 5701) that GoBGP cannot build.
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() || fam != bgp.RF_FS_IPv4_UC {
				return nil, netip.Addr{}, fmt.Errorf("redirect-action-ip %q: an IPv4 address, for an IPv4 rule (the IPv6 form is not supported)", v)
			}
			b := a.As4()
			ext = append(ext, bgp.NewUnknownExtended(0x01, []byte{0x0c, b[0], b[1], b[2], b[3], 0, 0}))
		case "communities":
			for _, c := range strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == ' ' || r == ',' }) {
				if strings.Count(c, ":") == 2 {
					e, err := rawExtended(c)
					if err != nil {
						return nil, netip.Addr{}, err
					}
					ext = append(ext, e)
					continue
				}
				n, err := community(c)
				if err != nil {
					return nil, netip.Addr{}, err
				}
				std = append(std, n)
			}
		default:
			return nil, netip.Addr{}, fmt.Errorf("unknown action %q (traffic-rate, traffic-marking, traffic-action, redirect-as, redirect-as4, redirect-ip, redirect-nexthop, redirect-action-ip, communities)", k)
		}
	}
	if len(ext) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeExtendedCommunities(ext))
	}
	if len(ext6) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeIP6ExtendedCommunities(ext6))
	}
	if len(std) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(std))
	}
	return attrs, nexthop, nil
}

func asColon(v string, asMax, localMax uint64) (uint64, uint64, error) {
	a, l, ok := strings.Cut(v, ":")
	as, err1 := strconv.ParseUint(a, 10, 32)
	local, err2 := strconv.ParseUint(l, 10, 32)
	if !ok || err1 != nil || err2 != nil || as > asMax || local > localMax {
		return 0, 0, fmt.Errorf("AS:value, AS at most %d and value at most %d", asMax, localMax)
	}
	return as, local, nil
}

// rawExtended reads type:subtype:value (ddos-protect's 128:6:0, a
// traffic-rate of 0) into an extended community.
func rawExtended(c string) (bgp.ExtendedCommunityInterface, error) {
	f := strings.Split(c, ":")
	t, err1 := strconv.ParseUint(f[0], 10, 8)
	st, err2 := strconv.ParseUint(f[1], 10, 8)
	val, err3 := strconv.ParseUint(f[2], 10, 48)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("extended community %q: type:subtype:value, 0-255, 0-255, 0-2^48", c)
	}
	b := []byte{byte(st), byte(val >> 40), byte(val >> 32), byte(val >> 24), byte(val >> 16), byte(val >> 8), byte(val)}
	return bgp.NewUnknownExtended(bgp.ExtendedCommunityAttrType(t), b), nil
}
