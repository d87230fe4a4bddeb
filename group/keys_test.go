package group_test

import (
	"net/netip"
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
