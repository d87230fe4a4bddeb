package script

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/topology"
)

// lagMember adds, for a place that is a member of a link aggregation, the
// aggregator's ifIndex (agg_attachedaggid) and the partner's system ID
// (agg_partneropersystemid), from the port's LAG counters: the IXP apps
// report a member's LAG rather than the physical port.
func lagMember(e *engine.Engine, l engine.HostLocation, o *goja.Object) {
	sel, err := e.ParseAgents(l.Agent)
	if err != nil {
		return
	}
	names := []string{l.IfIndex + ".agg_attachedaggid", l.IfIndex + ".agg_partneropersystemid", l.IfIndex + ".agg_partnersystemid"}
	st, err := e.Metric(sel, names, nil, time.Now())
	if err != nil || len(st) != 3 || st[0].MetricN == 0 {
		return
	}
	if v, ok := st[0].MetricValue.(float64); ok && v > 0 {
		o.Set("agg_attachedaggid", strconv.FormatFloat(v, 'f', -1, 64))
	}
	for _, p := range st[1:] { // the name sFlow-RT's apps read, or flowrt's own
		if p.MetricN > 0 && p.MetricValue != nil {
			o.Set("agg_partneropersystemid", p.MetricValue)
			break
		}
	}
}

// bindLocate installs sFlow-RT's host location functions: where a MAC or
// IP address attaches (the edge ports the engine saw it come in on,
// engine/locate.go), each place with the node and port the topology gives
// that interface when it has one, and the MACs located at all or at one
// port. An address that is not one throws; one never seen gives [].
func bindLocate(s *Script, t *topology.Store) {
	vm, e := s.vm, s.m.deps.Engine
	// Each place is built in a fixed key order (mac, agent, ifindex, node,
	// port, vlan, the LAG's, lastSeen), so answers read the same each time.
	places := func(locs []engine.HostLocation) goja.Value {
		out := make([]any, 0, len(locs))
		for _, l := range locs {
			o := vm.NewObject()
			o.Set("mac", l.MAC)
			o.Set("agent", l.Agent)
			o.Set("ifindex", l.IfIndex)
			if p, ok := t.InterfaceToPort(netip.MustParseAddr(l.Agent), l.IfIndex); ok {
				o.Set("node", p.Node)
				if p.Port != "" {
					o.Set("port", p.Port)
				}
			}
			if l.VLAN != 0 {
				o.Set("vlan", l.VLAN)
			}
			lagMember(e, l, o)
			o.Set("lastSeen", l.LastSeen)
			out = append(out, o)
		}
		return vm.ToValue(out)
	}
	s.set("topologyLocateHostMac", func(c goja.FunctionCall) goja.Value {
		mac, ok := engine.ParseMAC(arg(c, 0).String())
		if !ok {
			throw(vm, "topologyLocateHostMac: %q is not a MAC address (12 hex digits, e.g. 0A1B2C3D4E5F)", arg(c, 0).String())
		}
		return places(e.LocateMAC(mac))
	})
	ip := func(name string, v6 bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			a, err := netip.ParseAddr(arg(c, 0).String())
			if err != nil || a.Unmap().Is6() != v6 {
				kind := "an IPv4"
				if v6 {
					kind = "an IPv6"
				}
				throw(vm, "%s: %q is not %s address", name, arg(c, 0).String(), kind)
			}
			return places(e.LocateIP(a))
		}
	}
	s.set("topologyLocateHostIP", ip("topologyLocateHostIP", false))
	s.set("topologyLocateHostIP6", ip("topologyLocateHostIP6", true))
	// topologyLocatedHostMacs([agent, ifindex])
	s.set("topologyLocatedHostMacs", func(c goja.FunctionCall) goja.Value {
		var agent netip.Addr
		ifIndex := ""
		if present(arg(c, 0)) {
			agent = agentAddr(vm, arg(c, 0))
			if !present(arg(c, 1)) {
				throw(vm, "topologyLocatedHostMacs(agent, ifindex): the ifindex is missing")
			}
			ifIndex = arg(c, 1).String()
		}
		return vm.ToValue(e.LocatedMACs(agent, ifIndex))
	})
}
