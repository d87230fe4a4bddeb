package forward

import (
	"net"
	"net/netip"
)

// reachesSelf reports whether a datagram sent to dest would arrive at one
// of the engine's own sockets (and which): same port, and an address the
// socket receives on — any address of this host (loopback, 127.0.0.0/8,
// ::1, the interfaces' addresses) for a socket bound to the wildcard, that
// address itself for one bound to an address. An IPv4 wildcard socket
// receives IPv4 only; an IPv6 one (dual-stack, as the collector opens it)
// both.
func reachesSelf(dest netip.AddrPort, own []netip.AddrPort, local []netip.Addr) (netip.AddrPort, bool) {
	d := dest.Addr().Unmap()
	for _, o := range own {
		if o.Port() != dest.Port() {
			continue
		}
		oa := o.Addr()
		switch {
		case oa.Is4In6() && oa.Unmap().IsUnspecified(), oa.Is4() && oa.IsUnspecified():
			if d.Is4() && isLocal(d, local) {
				return o, true
			}
		case oa.IsUnspecified():
			if isLocal(d, local) {
				return o, true
			}
		case oa.Unmap() == d:
			return o, true
		}
	}
	return netip.AddrPort{}, false
}

func isLocal(a netip.Addr, local []netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, l := range local {
		if l.Unmap() == a {
			return true
		}
	}
	return false
}

// localAddrs are this host's interface addresses (asked when a session is
// set: interfaces come and go).
func localAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// ReachesSelf reports whether a datagram sent to dest would arrive at one
// of own, the engine's sFlow sockets (and which). Tenant streams (package
// tenant) must not loop back either.
func ReachesSelf(dest netip.AddrPort, own []netip.AddrPort) (netip.AddrPort, bool) {
	return reachesSelf(dest, own, localAddrs())
}
