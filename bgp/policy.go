package bgp

import (
	"context"
	"fmt"
	"slices"

	api "github.com/osrg/gobgp/v4/api"
)

// GoBGP has one RIB for what it announces, and a per-neighbor policy only
// for route-server clients. So that a route a script adds for one router
// goes to that router only, each announced path carries a large community
// per router it is for (tagAS:tagData:n), and one global export policy
// lets a path out to router n only when it carries n's tag, taking the
// tags off on the way. Routes learned from routers carry no tag, so they
// are never passed on; the import policy keeps them out of GoBGP's global
// RIB too (only the per-router RIBs of this package hold them).
const (
	tagAS   = 4200000000 // private 4-byte ASN (RFC 6996)
	tagData = 0xF10E
)

func tagCommunity(n uint32) string { return fmt.Sprintf("%d:%d:%d", tagAS, tagData, n) }

// setPoliciesLocked replaces GoBGP's policies with those for the current
// neighbors.
func (s *Speaker) setPoliciesLocked() error {
	ns := make([]*Neighbor, 0, len(s.neighbors))
	for _, n := range s.neighbors {
		ns = append(ns, n)
	}
	slices.SortFunc(ns, func(a, b *Neighbor) int { return int(a.tag) - int(b.tag) })
	var sets []*api.DefinedSet
	var stmts []*api.Statement
	anyTag := fmt.Sprintf("^%d:%d:.*$", tagAS, tagData)
	for _, n := range ns {
		nset, cset := fmt.Sprintf("flowrt-router-%d", n.tag), fmt.Sprintf("flowrt-tag-%d", n.tag)
		sets = append(sets,
			&api.DefinedSet{DefinedType: api.DefinedType_DEFINED_TYPE_NEIGHBOR, Name: nset, List: []string{hostPrefix(n)}},
			&api.DefinedSet{DefinedType: api.DefinedType_DEFINED_TYPE_LARGE_COMMUNITY, Name: cset, List: []string{"^" + tagCommunity(n.tag) + "$"}})
		stmts = append(stmts, &api.Statement{Name: fmt.Sprintf("flowrt-to-%d", n.tag),
			Conditions: &api.Conditions{
				NeighborSet:       &api.MatchSet{Type: api.MatchSet_TYPE_ANY, Name: nset},
				LargeCommunitySet: &api.MatchSet{Type: api.MatchSet_TYPE_ANY, Name: cset}},
			Actions: &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT,
				LargeCommunity: &api.CommunityAction{Type: api.CommunityAction_TYPE_REMOVE, Communities: []string{anyTag}}}})
	}
	in := &api.Policy{Name: "flowrt-in", Statements: []*api.Statement{
		{Name: "flowrt-learned-ibgp", Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_INTERNAL},
			Actions: &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_REJECT}},
		{Name: "flowrt-learned-ebgp", Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_EXTERNAL},
			Actions: &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_REJECT}},
	}}
	policies := []*api.Policy{in, {Name: "flowrt-out", Statements: stmts}}
	if err := s.srv.SetPolicies(context.Background(), &api.SetPoliciesRequest{DefinedSets: sets, Policies: policies}); err != nil {
		return fmt.Errorf("setting the BGP policies: %w", err)
	}
	if s.assigned {
		return nil // SetPolicies keeps the assignments, which name the policies
	}
	for _, a := range []*api.PolicyAssignment{
		{Name: "global", Direction: api.PolicyDirection_POLICY_DIRECTION_IMPORT,
			Policies: []*api.Policy{{Name: "flowrt-in"}}, DefaultAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
		{Name: "global", Direction: api.PolicyDirection_POLICY_DIRECTION_EXPORT,
			Policies: []*api.Policy{{Name: "flowrt-out"}}, DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT},
	} {
		if err := s.srv.SetPolicyAssignment(context.Background(), &api.SetPolicyAssignmentRequest{Assignment: a}); err != nil {
			return fmt.Errorf("assigning the BGP %s policy: %w", a.Policies[0].Name, err)
		}
	}
	s.assigned = true
	return nil
}

// hostPrefix is the neighbor as GoBGP knows it (relay.go).
func hostPrefix(n *Neighbor) string { return n.inner.String() + "/32" }
