package flow

import (
	"net/netip"
	"sync/atomic"
)

// BGPRoute is what the bgp* flow keys read of the route that a sampled
// address matched in a router's RIB (the bgp package's embedded speaker
// keeps the RIBs; docs/bgp.md). Values are shared between prefixes with the
// same attributes and never changed once published.
type BGPRoute struct {
	NextHop     netip.Addr
	ASPath      []uint32 // AS_SEQUENCE and AS_SET members in order, the neighbor first
	Communities []uint32 // standard communities, high 16 bits the AS
	LocalPref   uint32
	MED         uint32
}

// BGPRoutes answers longest-prefix matches in the RIB of the router that an
// agent's samples are attributed to (bgpAddSource). It must not allocate:
// it runs for every sample of a definition that names a bgp key.
type BGPRoutes interface {
	// RouteSample returns the best match for addr (the sample's source
	// address when source, else its destination), and the router's AS;
	// ok is false when the sample's agent is not attributed to a router.
	// r is nil when it is, but no route covers addr.
	RouteSample(s *Sample, addr netip.Addr, source bool) (r *BGPRoute, routerAS uint32, ok bool)
	// CountSample adds the sample's traffic to the prefixes that cover its
	// addresses (bgpTopPrefixes); it runs once per flow sample.
	CountSample(s *Sample)
}

// CountBGP gives a flow sample to the BGP speaker's traffic per prefix,
// when one runs. It allocates nothing.
func CountBGP(s *Sample) {
	if h := bgpRoutes.Load(); h != nil {
		h.r.CountSample(s)
	}
}

type bgpHolder struct{ r BGPRoutes }

var bgpRoutes atomic.Pointer[bgpHolder]

// SetBGPRoutes makes the bgp keys read routes from r for the agents it
// attributes (nil: from extended_gateway records only, the default).
func SetBGPRoutes(r BGPRoutes) {
	if r == nil {
		bgpRoutes.Store(nil)
		return
	}
	bgpRoutes.Store(&bgpHolder{r})
}

// ribRoute looks the sample's source or destination address up in the
// RIB; attributed is false when no RIB answers for the agent, so the key
// falls back to the extended_gateway record.
func ribRoute(s *Sample, source bool) (r *BGPRoute, as uint32, attributed bool) {
	h := bgpRoutes.Load()
	if h == nil {
		return nil, 0, false
	}
	var a netip.Addr
	var ok bool
	if source {
		a, ok = s.SourceAddr()
	} else {
		a, ok = s.DestinationAddr()
	}
	if !ok {
		if _, _, att := h.r.RouteSample(s, netip.Addr{}, source); att {
			return nil, 0, true
		}
		return nil, 0, false
	}
	return h.r.RouteSample(s, a, source)
}

// originAS is the last AS of a path, the router's own for a route learned
// inside its AS (an empty path).
func originAS(r *BGPRoute, routerAS uint32) uint32 {
	if len(r.ASPath) == 0 {
		return routerAS
	}
	return r.ASPath[len(r.ASPath)-1]
}

// peerAS is the first AS of a path (the neighbor AS the route came from),
// the router's own for an empty path.
func peerAS(r *BGPRoute, routerAS uint32) uint32 {
	if len(r.ASPath) == 0 {
		return routerAS
	}
	return r.ASPath[0]
}

// ribKey answers a bgp key from the RIB for attributed agents and from the
// extended_gateway record otherwise.
func ribKey(source bool, fromRoute func(r *BGPRoute, as uint32, dst []byte) []byte, gateway sampleKeyFunc) sampleKeyFunc {
	return func(s *Sample, dst []byte) ([]byte, bool) {
		r, as, attributed := ribRoute(s, source)
		if !attributed {
			return gateway(s, dst)
		}
		if r == nil {
			return dst, false
		}
		return fromRoute(r, as, dst), true
	}
}

func appendASPath(dst []byte, path []uint32) []byte {
	for i, as := range path {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = appendU(dst, as)
	}
	return dst
}

func appendCommunities(dst []byte, cs []uint32) []byte {
	for i, c := range cs {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = appendU(dst, c>>16)
		dst = append(dst, ':')
		dst = appendU(dst, c&0xffff)
	}
	return dst
}

// The bgp keys look in the RIB first (sFlow-RT's embedded BGP), the
// extended_gateway record second.
func init() {
	wrap := func(name string, source bool, f func(r *BGPRoute, as uint32, dst []byte) []byte) {
		sampleKeys[name] = ribKey(source, f, sampleKeys[name])
	}
	wrap("bgpnexthop", false, func(r *BGPRoute, _ uint32, dst []byte) []byte { return r.NextHop.AppendTo(dst) })
	wrap("bgpas", false, func(_ *BGPRoute, as uint32, dst []byte) []byte { return appendU(dst, as) })
	wrap("bgpsourceas", true, func(r *BGPRoute, as uint32, dst []byte) []byte { return appendU(dst, originAS(r, as)) })
	wrap("bgpsourcepeeras", true, func(r *BGPRoute, as uint32, dst []byte) []byte { return appendU(dst, peerAS(r, as)) })
	wrap("bgpdestinationas", false, func(r *BGPRoute, as uint32, dst []byte) []byte { return appendU(dst, originAS(r, as)) })
	wrap("bgpdestinationpeeras", false, func(r *BGPRoute, as uint32, dst []byte) []byte { return appendU(dst, peerAS(r, as)) })
	wrap("bgpdestinationaspath", false, func(r *BGPRoute, _ uint32, dst []byte) []byte { return appendASPath(dst, r.ASPath) })
	wrap("bgpcommunities", false, func(r *BGPRoute, _ uint32, dst []byte) []byte { return appendCommunities(dst, r.Communities) })
	wrap("bgplocalpref", false, func(r *BGPRoute, _ uint32, dst []byte) []byte { return appendU(dst, r.LocalPref) })
}
