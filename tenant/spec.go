package tenant

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/internal/jsobj"
	"github.com/flowrt/flowrt/packet"
)

// Spec is a tenant as PUT to /tenant/{name}/json: where its stream goes,
// and which samples are its own.
type Spec struct {
	CollectorAddress string  `json:"collectorAddress"`
	CollectorPort    int     `json:"collectorPort"`
	Filters          Filters `json:"filters"`
}

// Filters select a tenant's samples. A sample is the tenant's when any
// entry of any filter matches it.
type Filters struct {
	// IfIndex: "<agent>_<ifIndex>": flow and discard samples whose data
	// source, input or output is that interface, and its counters.
	IfIndex []string `json:"ifindex,omitempty"`
	// IfName: "<agent>_<ifName>", the interface by the name the agent
	// reports in its port-name counter records.
	IfName []string `json:"ifname,omitempty"`
	// CIDR: flow and discard samples whose sampled packet has a source or
	// destination in the prefix, in the outer packet; "<prefix>@<level>"
	// asks for a tunnel level instead (1: inside the first tunnel).
	CIDR []string `json:"cidr,omitempty"`
	// MAC: flow and discard samples whose frame has this source or
	// destination MAC (12 hex digits, no separators).
	MAC []string `json:"mac,omitempty"`
}

// DefaultPort is the collector port when a tenant names none.
const DefaultPort = 6343

// FieldError is a tenant definition refused because of one field.
type FieldError struct {
	Field string // e.g. "filters.cidr[2]"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var filterNames = []string{"ifindex", "ifname", "cidr", "mac"}

// ParseSpec reads a tenant in strict JSON or JavaScript object form and
// checks every field, so that a definition the splitter would refuse is
// refused here, naming the field.
func ParseSpec(body []byte) (Spec, error) {
	var raw struct {
		CollectorAddress *string         `json:"collectorAddress"`
		CollectorPort    *int            `json:"collectorPort"`
		Filters          json.RawMessage `json:"filters"`
	}
	if _, err := jsobj.DecodeObject(body, &raw, "tenant", "collectorAddress", "collectorPort", "filters"); err != nil {
		return Spec{}, err
	}
	var s Spec
	if raw.CollectorAddress == nil || *raw.CollectorAddress == "" {
		return Spec{}, fieldErr("collectorAddress", "missing: give the address of the collector that receives this tenant's sFlow")
	}
	s.CollectorAddress = *raw.CollectorAddress
	s.CollectorPort = DefaultPort
	if raw.CollectorPort != nil {
		s.CollectorPort = *raw.CollectorPort
	}
	if len(raw.Filters) == 0 || string(raw.Filters) == "null" {
		return Spec{}, fieldErr("filters", "missing: give at least one of %s", strings.Join(filterNames, ", "))
	}
	if _, err := jsobj.DecodeObject(raw.Filters, &s.Filters, "tenant filter", filterNames...); err != nil {
		return Spec{}, &FieldError{Field: "filters", Msg: err.Error()}
	}
	if _, err := compile(s); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// compiled is a checked Spec, in the forms matching uses.
type compiled struct {
	dest    netip.AddrPort
	ifindex []ifKey
	ifname  []nameKey
	cidr    []levelPrefix
	mac     []uint64
}

type ifKey struct {
	agent netip.Addr
	index uint32
}

type nameKey struct {
	agent netip.Addr
	name  string
}

type levelPrefix struct {
	prefix netip.Prefix
	level  uint8
}

// compile checks a Spec; each error names its field.
func compile(s Spec) (compiled, error) {
	var c compiled
	addr, err := netip.ParseAddr(s.CollectorAddress)
	if err != nil {
		return c, fieldErr("collectorAddress", "%q is not an IP address", s.CollectorAddress)
	}
	addr = addr.Unmap()
	if addr.IsUnspecified() || addr.IsMulticast() {
		return c, fieldErr("collectorAddress", "%s is not a collector's address", s.CollectorAddress)
	}
	if s.CollectorPort <= 0 || s.CollectorPort > 65535 {
		return c, fieldErr("collectorPort", "%d is not a UDP port (1-65535)", s.CollectorPort)
	}
	c.dest = netip.AddrPortFrom(addr, uint16(s.CollectorPort))
	f := s.Filters
	if len(f.IfIndex)+len(f.IfName)+len(f.CIDR)+len(f.MAC) == 0 {
		return c, fieldErr("filters", "empty: give at least one of %s (a tenant with no filter would receive nothing)", strings.Join(filterNames, ", "))
	}
	for i, v := range f.IfIndex {
		agent, rest, err := agentPart(v)
		if err == nil {
			var n uint64
			if n, err = strconv.ParseUint(rest, 10, 32); err != nil {
				err = fmt.Errorf("%q after the agent is not an ifIndex", rest)
			} else {
				c.ifindex = append(c.ifindex, ifKey{agent, uint32(n)})
			}
		}
		if err != nil {
			return c, fieldErr(fmt.Sprintf("filters.ifindex[%d]", i), "%q: %v (want <agent>_<ifIndex>, e.g. 10.0.0.1_3)", v, err)
		}
	}
	for i, v := range f.IfName {
		agent, rest, err := agentPart(v)
		if err == nil && rest == "" {
			err = errors.New("no interface name after the agent")
		}
		if err != nil {
			return c, fieldErr(fmt.Sprintf("filters.ifname[%d]", i), "%q: %v (want <agent>_<ifName>, e.g. 10.0.0.1_eth0)", v, err)
		}
		c.ifname = append(c.ifname, nameKey{agent, rest})
	}
	for i, v := range f.CIDR {
		p, err := parseCIDR(v)
		if err != nil {
			return c, fieldErr(fmt.Sprintf("filters.cidr[%d]", i), "%v", err)
		}
		c.cidr = append(c.cidr, p)
	}
	for i, v := range f.MAC {
		m, err := parseMAC(v)
		if err != nil {
			return c, fieldErr(fmt.Sprintf("filters.mac[%d]", i), "%v", err)
		}
		c.mac = append(c.mac, m)
	}
	return c, nil
}

// agentPart splits "<agent>_<rest>" (an IP address never holds '_').
func agentPart(v string) (netip.Addr, string, error) {
	a, rest, ok := strings.Cut(v, "_")
	if !ok {
		return netip.Addr{}, "", errors.New("no '_' between agent and interface")
	}
	agent, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("agent %q is not an IP address", a)
	}
	return agent.Unmap(), rest, nil
}

func parseCIDR(v string) (levelPrefix, error) {
	s, lvl, hasLevel := strings.Cut(v, "@")
	var out levelPrefix
	if hasLevel {
		n, err := strconv.Atoi(lvl)
		if err != nil || n < 0 || n > packet.MaxLevel {
			return out, fmt.Errorf("%q: tunnel level %q is not 0 to %d", v, lvl, packet.MaxLevel)
		}
		out.level = uint8(n)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return out, fmt.Errorf("%q is not a CIDR (e.g. 10.1.0.0/16 or 2001:db8::/32, optionally @<tunnel level>)", v)
	}
	if p.Addr().Zone() != "" || p.Addr().Is4In6() {
		return out, fmt.Errorf("%q: give a plain IPv4 or IPv6 prefix", v)
	}
	if m := p.Masked(); m != p {
		return out, fmt.Errorf("%q has bits set beyond its /%d: did you mean %s?", v, p.Bits(), m)
	}
	out.prefix = p
	return out, nil
}

func parseMAC(v string) (uint64, error) {
	if len(v) != 12 {
		return 0, fmt.Errorf("%q is not a MAC: give 12 hex digits without separators, e.g. 0050568F1A2B", v)
	}
	var b [8]byte
	if _, err := hex.Decode(b[2:], []byte(v)); err != nil {
		return 0, fmt.Errorf("%q is not a MAC: give 12 hex digits without separators, e.g. 0050568F1A2B", v)
	}
	return uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7]), nil
}
