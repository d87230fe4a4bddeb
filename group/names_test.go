package group

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/flow"
)

// TestNamesAreFlowNames: group sets and maps are named by the flow-name
// rule, in Set and where key functions name them; the default set has no
// name.
func TestNamesAreFlowNames(t *testing.T) {
	g, m := &Groups{}, &Maps{}
	def := map[string][]string{"lab": {"10.0.0.0/8"}}
	for _, bad := range []string{"bad name", "../x", "a/b", "", strings.Repeat("x", 129), "é"} {
		if bad != "" {
			if err := g.Set(bad, def); err == nil || !strings.Contains(err.Error(), "group set name") {
				t.Errorf("group set %q: %v", bad, err)
			}
		}
		if err := m.Set(bad, def); err == nil || !strings.Contains(err.Error(), "map name") {
			t.Errorf("map %q: %v", bad, err)
		}
	}
	for _, good := range []string{"blocklist", "phish-2_v6", strings.Repeat("x", 128)} {
		if err := g.Set(good, def); err != nil {
			t.Errorf("group set %q: %v", good, err)
		}
		if err := m.Set(good, def); err != nil {
			t.Errorf("map %q: %v", good, err)
		}
	}
	if err := g.Set(Default, def); err != nil {
		t.Errorf("default set: %v", err)
	}
	c := flow.NewCompiler()
	Register(c, g, m)
	for expr, want := range map[string]string{"group:ipsource:bad name": "group set name", "group:ipsource:ok:a/b": "group set name",
		"map:ipprotocol:x y": "map name"} {
		if _, err := c.Key(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", expr, err, want)
		}
	}
	if _, err := c.Key("group:ipsource:blocklist:phish-2_v6"); err != nil {
		t.Error(err)
	}
}

// TestCompileStopsWithItsContext: a load whose request has gone stops
// and installs nothing.
func TestCompileStopsWithItsContext(t *testing.T) {
	ps := prefixes300k(20000, 7)
	g := &Groups{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.SetContext(ctx, "big", groupsOf(ps)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled load: %v", err)
	}
	if _, ok := g.Get("big"); ok {
		t.Error("a cancelled load was installed")
	}
	if err := g.SetContext(context.Background(), "big", groupsOf(ps)); err != nil {
		t.Fatal(err)
	}
	if s, _ := g.Get("big"); s.Prefixes() != len(ps) {
		t.Errorf("%d prefixes, want %d", s.Prefixes(), len(ps))
	}
}
