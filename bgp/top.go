package bgp

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
)

// TopOptions are bgpTopPrefixes' arguments (and /bgp/topprefixes' query).
type TopOptions struct {
	IPv6           bool    // bgpTopPrefixes6: the IPv6 RIB
	MaxPrefixes    int     // at most this many entries (0: none, only the totals)
	MinValue       float64 // leave out prefixes whose value is below this
	Direction      int     // Destination (egress) or Source (ingress)
	IncludeCovered bool    // keep prefixes that lie inside another learned prefix
	PruneCovered   bool    // fold a covered prefix into its listed parent when both have the same next hop
}

// ParseDirection reads a direction: destination or egress, source or
// ingress.
func ParseDirection(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "destination", "egress":
		return Destination, nil
	case "source", "ingress":
		return Source, nil
	}
	return 0, errors.New("direction " + s + ": destination (or egress) or source (or ingress)")
}

// TopPrefix is one entry of the answer.
type TopPrefix struct {
	Prefix  netip.Prefix
	Parent  netip.Prefix // the longest learned prefix covering it (invalid: none)
	Value   float64
	Route   map[string]any // Describe's fields
	nexthop netip.Addr
}

// Top is bgpTopPrefixes' answer.
type Top struct {
	State                        string
	NPrefixes                    int
	LearnedAdded, LearnedRemoved uint64
	PushedAdded, PushedRemoved   uint64
	ValueTotal, ValueCovered     float64
	Prefixes                     []TopPrefix
}

// TopPrefixes ranks the router's learned prefixes by their smoothed
// traffic (bgpAddSource's t and value).
func (s *Speaker) TopPrefixes(router netip.Addr, o TopOptions) (*Top, error) {
	s.mu.Lock()
	n := s.neighbors[router.Unmap()]
	var pa, pr uint64
	if n != nil {
		pa, pr = n.pushedAdded, n.pushedRemoved
	}
	s.mu.Unlock()
	if n == nil {
		return nil, errNoNeighbor
	}
	fam := 0
	if o.IPv6 {
		fam = 1
	}
	r := n.RIB
	top := &Top{State: n.State(), PushedAdded: pa, PushedRemoved: pr}
	var list []TopPrefix
	r.mu.RLock()
	t := &r.v4
	if o.IPv6 {
		t = &r.v6
	}
	top.NPrefixes = t.Size()
	top.LearnedAdded, top.LearnedRemoved = r.added[fam], r.removed[fam]
	top.ValueTotal = r.total[fam].value()
	if o.MaxPrefixes > 0 {
		for p, c := range r.traffic[o.Direction] {
			v := c.value()
			if p.Addr().Is4() == o.IPv6 || v <= 0 || v < o.MinValue {
				continue
			}
			e, ok := t.Get(p)
			if !ok {
				continue // withdrawn since
			}
			tp := TopPrefix{Prefix: p, Value: v, Route: Describe(p, &e.BGPRoute), nexthop: e.NextHop}
			if p.Bits() > 0 {
				if pp, _, ok := t.LookupPrefixLPM(netip.PrefixFrom(p.Addr(), p.Bits()-1)); ok {
					tp.Parent = pp
				}
			}
			list = append(list, tp)
		}
	}
	r.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool {
		if list[i].Value != list[j].Value {
			return list[i].Value > list[j].Value
		}
		return list[i].Prefix.String() < list[j].Prefix.String()
	})
	if !o.IncludeCovered {
		list = dropCovered(list)
	}
	if o.PruneCovered {
		list = pruneCovered(list)
	}
	if len(list) > o.MaxPrefixes {
		list = list[:o.MaxPrefixes]
	}
	for _, tp := range list {
		top.ValueCovered += tp.Value
	}
	top.Prefixes = list
	return top, nil
}

func dropCovered(list []TopPrefix) []TopPrefix {
	out := list[:0]
	for _, tp := range list {
		if !tp.Parent.IsValid() {
			out = append(out, tp)
		}
	}
	return out
}

// pruneCovered folds each covered prefix whose parent is also listed, with
// the same next hop, into the parent: a route cache that holds the parent
// forwards the child's traffic the same way.
func pruneCovered(list []TopPrefix) []TopPrefix {
	at := make(map[netip.Prefix]int, len(list))
	for i, tp := range list {
		at[tp.Prefix] = i
	}
	drop := make([]bool, len(list))
	// Most specific first, so that a child folded into a parent that is
	// itself folded into a grandparent carries its value along.
	order := make([]int, len(list))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return list[order[a]].Prefix.Bits() > list[order[b]].Prefix.Bits() })
	for _, i := range order {
		tp := list[i]
		if !tp.Parent.IsValid() {
			continue
		}
		if j, ok := at[tp.Parent]; ok && list[j].nexthop == tp.nexthop {
			list[j].Value += tp.Value
			drop[i] = true
		}
	}
	out := list[:0]
	for i, tp := range list {
		if !drop[i] {
			out = append(out, tp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Prefix.String() < out[j].Prefix.String()
	})
	return out
}

// JSON is the answer as sFlow-RT's scripts and REST clients read it.
func (t *Top) JSON() map[string]any {
	entries := make([]any, 0, len(t.Prefixes))
	for _, tp := range t.Prefixes {
		e := tp.Route
		e["value"] = tp.Value
		if tp.Parent.IsValid() {
			e["parentprefix"] = tp.Parent.String()
		}
		entries = append(entries, e)
	}
	cov := 0.0
	if t.ValueTotal > 0 {
		cov = min(100*t.ValueCovered/t.ValueTotal, 100)
	}
	return map[string]any{"state": t.State, "nPrefixes": t.NPrefixes,
		"learnedPrefixesAdded": t.LearnedAdded, "learnedPrefixesRemoved": t.LearnedRemoved,
		"pushedPrefixesAdded": t.PushedAdded, "pushedPrefixesRemoved": t.PushedRemoved,
		"valueTotal": t.ValueTotal, "valueCovered": t.ValueCovered, "valuePercentCoverage": cov,
		"topPrefixes": entries}
}
