package bgp

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

func TestBadInputSaysWhy(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"unknown option", second(ParseOptions(map[string]any{"ipv6": true, "flowspce": true})), `unknown option "flowspce"`},
		{"option type", second(ParseOptions(map[string]any{"ipv6": "maybe"})), "ipv6=maybe: must be true or false"},
		{"prefix length", second(ParseRoute(map[string]any{"prefix": "10.0.0.0/33", "nexthop": "192.0.2.1"})), `prefix "10.0.0.0/33"`},
		{"prefix host bits", second(ParseRoute(map[string]any{"prefix": "10.0.0.1/24", "nexthop": "192.0.2.1"})), "has bits set past its length (10.0.0.0/24?)"},
		{"not a prefix", second(ParseRoute(map[string]any{"prefix": "ten.0.0.0", "nexthop": "192.0.2.1"})), `prefix "ten.0.0.0": not an address`},
		{"no nexthop", second(ParseRoute(map[string]any{"prefix": "10.0.0.1"})), "no nexthop"},
		{"nexthop version", second(ParseRoute(map[string]any{"prefix": "10.0.0.1", "nexthop": "100::1"})), "other IP version"},
		{"community", second(ParseRoute(map[string]any{"prefix": "10.0.0.1", "nexthop": "192.0.2.1", "communities": "65535:666666"})), `community "65535:666666"`},
		{"route field", second(ParseRoute(map[string]any{"prefix": "10.0.0.1", "nexthop": "192.0.2.1", "comunities": "1:1"})), `unknown field "comunities"`},
		{"match field", second(ParseFlowSpec(map[string]any{"match": map[string]any{"dest": "10.0.0.1"}, "then": map[string]any{"traffic-rate": 0}})), `unknown match field "dest"`},
		{"match op", second(ParseFlowSpec(map[string]any{"match": map[string]any{"protocol": "~17"}, "then": map[string]any{"traffic-rate": 0}})), "operators"},
		{"match version", second(ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "10.0.0.1", "version": "6"}, "then": map[string]any{"traffic-rate": 0}})), "not of IP version 6"},
		{"action", second(ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "10.0.0.1"}, "then": map[string]any{"explode": 1}})), `unknown action "explode"`},
		{"no then", second(ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "10.0.0.1"}})), "no then"},
		{"redirect-action-ip v6", second(ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "2001:db8::1"}, "then": map[string]any{"redirect-action-ip": "100::1"}})), "IPv6 form is not supported"},
		{"dscp", second(ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "10.0.0.1"}, "then": map[string]any{"traffic-marking": "af99"}})), "traffic-marking"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// extCommunities returns the 8-byte extended communities of a rule.
func extCommunities(t *testing.T, then map[string]any) [][8]byte {
	t.Helper()
	f, err := ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "198.51.100.7/32", "protocol": "=17"}, "then": then})
	if err != nil {
		t.Fatal(err)
	}
	var out [][8]byte
	for _, a := range f.Attrs {
		if e, ok := a.(*bgp.PathAttributeExtendedCommunities); ok {
			for _, c := range e.Value {
				b, err := c.Serialize()
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, [8]byte(b))
			}
		}
	}
	return out
}

// TestFlowSpecActions checks the bytes RFC 8955 section 7 gives each action
// ddos-protect uses: drop and rate-limit (traffic-rate, type 0x80 06),
// DSCP mark (0x80 09), redirect to a VRF (0x80 08 and 0x82 08) and its
// raw community form (128:6:0).
func TestFlowSpecActions(t *testing.T) {
	rate := func(r float32) [8]byte {
		var b [8]byte
		b[0], b[1] = 0x80, 0x06
		binary.BigEndian.PutUint32(b[4:], math.Float32bits(r))
		return b
	}
	cases := []struct {
		then map[string]any
		want [8]byte
	}{
		{map[string]any{"traffic-rate": 0.0}, rate(0)},
		{map[string]any{"traffic-rate": "12500"}, rate(12500)},
		{map[string]any{"traffic-marking": "le"}, [8]byte{0x80, 0x09, 0, 0, 0, 0, 0, 1}},
		{map[string]any{"traffic-marking": "46"}, [8]byte{0x80, 0x09, 0, 0, 0, 0, 0, 46}},
		{map[string]any{"redirect-as": "65000:666"}, [8]byte{0x80, 0x08, 0xfd, 0xe8, 0, 0, 0x02, 0x9a}},
		{map[string]any{"redirect-as4": "4200000000:666"}, [8]byte{0x82, 0x08, 0xfa, 0x56, 0xea, 0x00, 0x02, 0x9a}},
		{map[string]any{"redirect-ip": "192.0.2.1:666"}, [8]byte{0x81, 0x08, 192, 0, 2, 1, 0x02, 0x9a}},
		{map[string]any{"redirect-action-ip": "192.0.2.1"}, [8]byte{0x01, 0x0c, 192, 0, 2, 1, 0, 0}},
		{map[string]any{"communities": "128:6:0"}, rate(0)},
	}
	for _, c := range cases {
		got := extCommunities(t, c.then)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("then %v: extended communities % x, want % x", c.then, got, c.want)
		}
	}
	// The match: destination /32, protocol ==17, as GoBGP's decoder reads it back.
	f, _ := ParseFlowSpec(map[string]any{"match": map[string]any{"destination": "198.51.100.7", "protocol": "=17", "source-port": ">=1024&<=2048", "tcp-flags": "=SA"},
		"then": map[string]any{"traffic-rate": 0}})
	if s := f.NLRI.String(); !strings.Contains(s, "[destination: 198.51.100.7/32]") || !strings.Contains(s, "[protocol: ==udp]") ||
		!strings.Contains(s, "[source-port: >=1024&<=2048]") || !strings.Contains(s, "[tcp-flags: =SA]") {
		t.Errorf("NLRI %s", s)
	}
}

// TestNeighborThatNeverAnswers: announcing to a router whose session never
// came up is refused, saying so, and does not wait for it.
func TestNeighborThatNeverAnswers(t *testing.T) {
	port := freeTCP(t)
	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	silent := netip.MustParseAddr("127.0.0.9")
	if _, err := sp.AddNeighbor(silent, 65000, flowrtAddr, Options{Active: true, Port: freeTCP(t)}, "t", nil, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := sp.AddRoute(silent, map[string]any{"prefix": "198.51.100.1", "nexthop": "192.0.2.1"}, "t")
	if !errors.Is(err, ErrNotEstablished) || time.Since(start) > time.Second {
		t.Errorf("AddRoute to a silent router: %v after %v", err, time.Since(start))
	}
	if err := sp.AddRoute(netip.MustParseAddr("127.0.0.8"), map[string]any{"prefix": "198.51.100.1", "nexthop": "192.0.2.1"}, "t"); err == nil || !strings.Contains(err.Error(), "bgpAddNeighbor") {
		t.Errorf("AddRoute to no neighbor: %v", err)
	}
	var ie *InputError
	if err := sp.AddRoute(silent, map[string]any{"prefix": "198.51.100.1/40", "nexthop": "192.0.2.1"}, "t"); !errors.As(err, &ie) {
		t.Errorf("malformed route: %v, want an InputError", err)
	}
	if n, _ := sp.Neighbor(silent); n.Established() {
		t.Error("a router that never answered is established")
	}
	// A second speaker on the same port says what to do.
	sp2 := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp2.Close()
	if _, err := sp2.AddNeighbor(birdAddr, 65000, flowrtAddr, Options{}, "t", nil, nil); err == nil || !strings.Contains(err.Error(), "bgp.port") {
		t.Errorf("a second speaker on port %d: %v", port, err)
	}
}
