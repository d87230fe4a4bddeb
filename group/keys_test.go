package group_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/internal/synth"
)

// TestGroupKeysInFlows defines flows on sourcegroup/destinationgroup (the
// Blacklists article's filters), group: and map:, feeds traffic, and
// reloads the default set while traffic flows.
func TestGroupKeysInFlows(t *testing.T) {
	e := engine.New(engine.Config{})
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	for name, body := range map[string]string{
		"bygroup": "{keys:'sourcegroup,destinationgroup', value:'frames'}",
		"phish":   "{keys:'ipdestination', value:'frames', filter:'sourcegroup=local&destinationgroup~^la.*'}",
		"named":   "{keys:'group:ipsource:zones', value:'frames'}",
		"mapped":  "{keys:'map:ipprotocol:protos', value:'frames'}",
	} {
		spec, err := flow.ParseSpec([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Define(name, spec); err != nil { // before any set exists: the slots wait
			t.Fatalf("%s: %v", name, err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(groups.Set(group.Default, map[string][]string{"local": {"10.0.0.0/8"}, "lan": {"192.168.0.0/16"}}))
	must(groups.Set("zones", map[string][]string{"zone-a": {"10.0.0.0/24"}, "zone-b": {"10.0.1.0/24"}}))
	must(maps.Set("protos", map[string][]string{"udp": {"17"}, "tcp": {"6"}}))
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 400, Mix: []synth.Proto{synth.UDP, synth.TCP}, Seed: 1})
	w := e.NewWorker()
	src := netip.MustParseAddrPort("127.0.0.1:9")
	now := time.Unix(1_700_000_000, 0)
	feed := func(n int) {
		for range n {
			b, _ := g.Datagram(nil, 1000)
			w.Process(b, src, now)
			now = now.Add(10 * time.Millisecond)
		}
	}
	feed(200)
	keys := func(name string) map[string]bool {
		fl, err := e.ActiveFlows(engine.AllAgents, name, 20, 0, "max", now)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, f := range fl {
			out[f.Key] = true
		}
		return out
	}
	if k := keys("bygroup"); len(k) != 1 || !k["local,lan"] {
		t.Errorf("bygroup %v, want local,lan", k)
	}
	if k := keys("phish"); len(k) == 0 {
		t.Error("the sourcegroup/destinationgroup filter matched nothing")
	}
	if k := keys("named"); !k["zone-a"] || !k["zone-b"] || len(k) != 2 {
		t.Errorf("group:ipsource:zones %v", k)
	}
	if k := keys("mapped"); !k["udp"] || !k["tcp"] || len(k) != 2 {
		t.Errorf("map:ipprotocol:protos %v", k)
	}
	// Reload the default set: new samples take the new labels.
	must(groups.Set(group.Default, map[string][]string{"inside": {"10.0.0.0/8"}, "dmz": {"192.168.0.0/16"}}))
	e.Undefine("bygroup")
	spec, _ := flow.ParseSpec([]byte("{keys:'sourcegroup,destinationgroup', value:'frames'}"))
	e.Define("bygroup", spec)
	feed(100)
	if k := keys("bygroup"); len(k) != 1 || !k["inside,dmz"] {
		t.Errorf("after reload %v, want inside,dmz", k)
	}
}

// TestSampledTrafficWith300kCIDRs classifies sampled traffic through the
// engine with a 300,000-prefix default group set (the Blacklists article's
// size) and checks every flow's sourcegroup against a brute-force
// reference over all prefixes of the group set.
func TestSampledTrafficWith300kCIDRs(t *testing.T) {
	e := engine.New(engine.Config{})
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	// 300,000 /24s and /16s over 10.0.0.0/8 and 192.168.0.0/16, labelled by
	// their third (or second) byte, plus a catch-all.
	def := map[string][]string{"other": {"0.0.0.0/0"}}
	var all []netip.Prefix
	for i := range 300_000 {
		var p netip.Prefix
		if i < 65536 {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
		} else {
			j := i - 65536
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(11 + j>>16), byte(j >> 8), byte(j), 0}), 24)
		}
		if i%3 == 0 {
			p = netip.PrefixFrom(p.Addr(), 16).Masked()
		}
		label := "blk" + string(rune('a'+i%26))
		def[label] = append(def[label], p.String())
		all = append(all, p)
	}
	if err := groups.Set(group.Default, def); err != nil {
		t.Fatal(err)
	}
	// The same /16 is listed under several labels: the first label wins.
	labelOf := map[netip.Prefix]string{}
	for label, cidrs := range def {
		for _, c := range cidrs {
			p := netip.MustParsePrefix(c)
			if old, ok := labelOf[p]; !ok || label < old {
				labelOf[p] = label
			}
		}
	}
	brute := func(a netip.Addr) string {
		best, bits := "", -1
		for p, label := range labelOf { // every prefix: the reference is deliberately naive
			if p.Contains(a) && p.Bits() > bits {
				best, bits = label, p.Bits()
			}
		}
		return best
	}
	spec, _ := flow.ParseSpec([]byte("{keys:'ipsource,sourcegroup', value:'frames', n:20}"))
	e.Define("src", spec)
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 2000, Zipf: 0.3, Seed: 5})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for range 500 {
		b, _ := g.Datagram(nil, 1000)
		w.Process(b, netip.MustParseAddrPort("127.0.0.1:9"), now)
	}
	fl, _ := e.ActiveFlows(engine.AllAgents, "src", 20, 0, "max", now)
	if len(fl) < 10 {
		t.Fatalf("only %d flows", len(fl))
	}
	for _, f := range fl {
		src, label, _ := strings.Cut(f.Key, ",")
		if want := brute(netip.MustParseAddr(src)); label != want {
			t.Errorf("%s classified %q, brute force says %q", src, label, want)
		}
	}
	if len(all) != 300_000 {
		t.Fatal(len(all))
	}
}
