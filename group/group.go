// Package group labels flow keys from named sets: address groups (label →
// CIDRs, longest-prefix match in a bart table, for the sourcegroup and
// destinationgroup keys and the group: function) and value maps (label →
// values, for the map: function). Sets are replaced whole and read without
// locks: a flow definition holds a slot that always points at the current
// set of its name, so a group set can be loaded after the definitions that
// use it, and reloaded while traffic flows.
package group

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/flow"
	"github.com/gaissmai/bart"
)

// Set is a compiled group set.
type Set struct {
	groups map[string][]string
	table  bart.Table[int32] // prefix → index in labels
	labels []string
}

// Compile builds a set from label → addresses and CIDRs (IPv4 and IPv6).
// An address that is not one names itself in the error. A prefix listed
// under several labels (block lists overlap) belongs to the label that
// sorts first.
func Compile(groups map[string][]string) (*Set, error) {
	return CompileContext(context.Background(), groups)
}

// checkEvery is how many prefixes are inserted between looks at the
// context: a 300,000-CIDR set is a fraction of a second of work, stopped
// within a few milliseconds of its request going away.
const checkEvery = 4096

// CompileContext is Compile that stops, with ctx's error, when ctx ends.
func CompileContext(ctx context.Context, groups map[string][]string) (*Set, error) {
	s := &Set{groups: groups}
	names := slices.Sorted(maps.Keys(groups))
	n := 0
	for _, label := range names {
		idx := int32(len(s.labels))
		s.labels = append(s.labels, label)
		for _, c := range groups[label] {
			if n++; n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			p, err := parsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("group %q: %q is not an address or CIDR", label, c)
			}
			if _, dup := s.table.Get(p); !dup {
				s.table.Insert(p, idx)
			}
		}
	}
	return s, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Lookup returns the label of the longest prefix containing a.
func (s *Set) Lookup(a netip.Addr) (string, bool) {
	if s == nil {
		return "", false
	}
	i, ok := s.table.Lookup(a.Unmap())
	if !ok {
		return "", false
	}
	return s.labels[i], true
}

// Groups returns the set's definition.
func (s *Set) Groups() map[string][]string { return s.groups }

// Prefixes returns how many prefixes the set holds.
func (s *Set) Prefixes() int { return s.table.Size() }

// slot is where definitions find the current set of a name.
type slot[T any] struct{ p atomic.Pointer[T] }

// registry holds named sets of one kind.
type registry[T any] struct {
	mu    sync.Mutex
	slots map[string]*slot[T]
	count atomic.Int64 // sets defined
}

func (r *registry[T]) slot(name string) *slot[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.slots == nil {
		r.slots = map[string]*slot[T]{}
	}
	s := r.slots[name]
	if s == nil {
		s = &slot[T]{}
		r.slots[name] = s
	}
	return s
}

func (r *registry[T]) set(name string, v *T) {
	if r.slot(name).p.Swap(v) == nil {
		r.count.Add(1)
	}
}

func (r *registry[T]) remove(name string) bool {
	r.mu.Lock()
	s := r.slots[name]
	r.mu.Unlock()
	if s == nil || s.p.Swap(nil) == nil {
		return false
	}
	r.count.Add(-1)
	return true
}

func (r *registry[T]) get(name string) *T {
	r.mu.Lock()
	s := r.slots[name]
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.p.Load()
}

func (r *registry[T]) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, s := range r.slots {
		if s.p.Load() != nil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Default is the name of the group set behind sourcegroup and
// destinationgroup: the one setGroups(groups) and PUT /group/json set.
const Default = ""

// Groups holds the group sets.
type Groups struct{ r registry[Set] }

// Set compiles and installs a group set.
func (g *Groups) Set(name string, groups map[string][]string) error {
	return g.SetContext(context.Background(), name, groups)
}

// SetContext is Set that gives up, installing nothing, when ctx ends (the
// request that brought the set has gone).
func (g *Groups) SetContext(ctx context.Context, name string, groups map[string][]string) error {
	if name != Default {
		if err := ValidName("group set", name); err != nil {
			return err
		}
	}
	s, err := CompileContext(ctx, groups)
	if err != nil {
		return err
	}
	g.r.set(name, s)
	return nil
}

// ValidName checks the name of a group set or map (what says which) by
// the rule for flow names: it is a path segment and a key function
// argument.
func ValidName(what, name string) error {
	if err := flow.ValidName(name); err != nil {
		return fmt.Errorf("%s %v", what, err)
	}
	return nil
}

// Delete removes a group set.
func (g *Groups) Delete(name string) bool { return g.r.remove(name) }

// Get returns a group set.
func (g *Groups) Get(name string) (*Set, bool) {
	s := g.r.get(name)
	return s, s != nil
}

// Names lists the named sets (not the default one).
func (g *Groups) Names() []string {
	return slices.DeleteFunc(g.r.names(), func(n string) bool { return n == Default })
}

// Maps holds the value maps: label → values, looked up value → label.
type Maps struct{ r registry[Map] }

// Map is a compiled value map.
type Map struct {
	def    map[string][]string
	labels map[string]string
}

// CompileMap builds a value map; a value listed under two labels is an
// error.
func CompileMap(def map[string][]string) (*Map, error) {
	m := &Map{def: def, labels: map[string]string{}}
	for _, label := range slices.Sorted(maps.Keys(def)) {
		for _, v := range def[label] {
			if other, dup := m.labels[v]; dup {
				return nil, fmt.Errorf("map value %q is under both %q and %q", v, other, label)
			}
			m.labels[v] = label
		}
	}
	return m, nil
}

// Def returns the map's definition.
func (m *Map) Def() map[string][]string { return m.def }

// Set compiles and installs a map.
func (ms *Maps) Set(name string, def map[string][]string) error {
	if err := ValidName("map", name); err != nil {
		return err
	}
	m, err := CompileMap(def)
	if err != nil {
		return err
	}
	ms.r.set(name, m)
	return nil
}

// Delete removes a map.
func (ms *Maps) Delete(name string) bool { return ms.r.remove(name) }

// Get returns a map.
func (ms *Maps) Get(name string) (*Map, bool) {
	m := ms.r.get(name)
	return m, m != nil
}

// Names lists the maps.
func (ms *Maps) Names() []string { return ms.r.names() }

// All returns every group set's definition by name (the default set under
// Default, the empty name).
func (g *Groups) All() map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, n := range g.r.names() {
		if s := g.r.get(n); s != nil {
			out[n] = s.groups
		}
	}
	return out
}

// All returns every map's definition by name.
func (ms *Maps) All() map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, n := range ms.r.names() {
		if m := ms.r.get(n); m != nil {
			out[n] = m.def
		}
	}
	return out
}
