package script

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/metric"
	"github.com/flowrt/flowrt/topology"
)

// bindTopology installs the topology functions (docs/classification.md),
// when the engine keeps a topology.
func bindTopology(s *Script) {
	vm, t := s.vm, s.m.deps.Topology
	if t == nil {
		return
	}
	s.set("setTopology", func(c goja.FunctionCall) goja.Value {
		topo, err := topology.Parse(s.jsonOf(arg(c, 0)))
		if err == nil {
			err = t.Set(topo)
		}
		if err != nil {
			s.log.Warn("setTopology refused", "err", err)
			return vm.ToValue(false)
		}
		s.changed("topology")
		return vm.ToValue(true)
	})
	s.set("getTopology", func(goja.FunctionCall) goja.Value { return toJS(vm, t.Get()) })
	s.set("topologyVersion", func(goja.FunctionCall) goja.Value { return vm.ToValue(t.Version()) })
	addr := func(v goja.Value) netip.Addr { return agentAddr(vm, v) }
	s.set("topologyInterfaceToLink", func(c goja.FunctionCall) goja.Value {
		if l, ok := t.InterfaceToLink(addr(arg(c, 0)), arg(c, 1).String()); ok {
			return toJS(vm, l)
		}
		return goja.Null()
	})
	s.set("topologyInterfaceToPort", func(c goja.FunctionCall) goja.Value {
		if p, ok := t.InterfaceToPort(addr(arg(c, 0)), arg(c, 1).String()); ok {
			return toJS(vm, p)
		}
		return goja.Null()
	})
	s.set("topologyNodesForAgent", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(append([]string{}, t.NodesForAgent(addr(arg(c, 0)))...))
	})
	s.set("topologyAgentForNode", func(c goja.FunctionCall) goja.Value {
		if a, ok := t.AgentForNode(arg(c, 0).String()); ok {
			return vm.ToValue(a)
		}
		return goja.Null()
	})
	s.set("topologyNodeNames", func(goja.FunctionCall) goja.Value {
		var out []string
		for n := range t.Effective().Nodes {
			out = append(out, n)
		}
		slices.Sort(out)
		return vm.ToValue(append([]string{}, out...))
	})
	s.set("topologyLinkNames", func(goja.FunctionCall) goja.Value {
		var out []string
		for n := range t.Effective().Links {
			out = append(out, n)
		}
		slices.Sort(out)
		return vm.ToValue(append([]string{}, out...))
	})
	s.set("topologyNode", func(c goja.FunctionCall) goja.Value {
		if n, ok := t.Effective().Nodes[arg(c, 0).String()]; ok {
			return toJS(vm, n)
		}
		return goja.Null()
	})
	s.set("topologyLink", func(c goja.FunctionCall) goja.Value {
		if l, ok := t.Effective().Links[arg(c, 0).String()]; ok {
			return toJS(vm, l)
		}
		return goja.Null()
	})
	s.set("topologyNodeLinks", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, t.Effective().NodeLinks(arg(c, 0).String()))
	})
	s.set("topologyLinkToInterfaces", func(c goja.FunctionCall) goja.Value {
		if ifs, ok := t.Effective().LinkToInterfaces(arg(c, 0).String()); ok {
			return toJS(vm, ifs)
		}
		return goja.Null()
	})
	s.set("topologyShortestPath", func(c goja.FunctionCall) goja.Value {
		if p := t.Effective().ShortestPath(arg(c, 0).String(), arg(c, 1).String()); p != nil {
			return toJS(vm, p)
		}
		return goja.Null()
	})
	s.set("topologyShortestPaths", func(c goja.FunctionCall) goja.Value {
		k, maxLen := 1, 0
		if present(arg(c, 2)) {
			k = int(arg(c, 2).ToInteger())
		}
		if present(arg(c, 3)) {
			maxLen = int(arg(c, 3).ToInteger())
		}
		return toJS(vm, t.Effective().ShortestPaths(arg(c, 0).String(), arg(c, 1).String(), k, maxLen))
	})
	bindLocate(s, t)
	s.set("topologyMinimumSpanningTree", func(goja.FunctionCall) goja.Value { return toJS(vm, t.Effective().MinimumSpanningTree()) })
	s.set("topologyDiameter", func(goja.FunctionCall) goja.Value { return vm.ToValue(t.Effective().Diameter()) })
	// topologyLinkMetric(link, metrics[, startNode]): each metric at each
	// end, the start node's end first.
	s.set("topologyLinkMetric", func(c goja.FunctionCall) goja.Value {
		ifs, ok := t.Effective().LinkToInterfaces(arg(c, 0).String())
		if !ok {
			return goja.Null()
		}
		if present(arg(c, 2)) && ifs[1].Node == arg(c, 2).String() {
			ifs[0], ifs[1] = ifs[1], ifs[0]
		}
		e := s.m.deps.Engine
		asked := stringList(arg(c, 1))
		var out []metric.Statistic
		for _, end := range ifs {
			sel, err := e.ParseAgents(end.Agent)
			if err != nil {
				throw(vm, "link %s: node %s has no agent", arg(c, 0).String(), end.Node)
			}
			var names []string
			for _, m := range asked {
				if agg, name, ok := strings.Cut(m, ":"); ok {
					names = append(names, agg+":"+end.IfIndex+"."+name)
				} else {
					names = append(names, end.IfIndex+"."+m)
				}
			}
			st, err := e.Metric(sel, names, nil, time.Now())
			if err != nil {
				throw(vm, "%v", err)
			}
			for i, m := range asked {
				st[i].MetricName = m // as asked: the data source says which interface
			}
			out = append(out, st...)
		}
		return toJS(vm, out)
	})
}
