package script

import (
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/flow"
)

// bindFlows installs the flow definitions and queries: setFlow, clearFlow,
// flowKeys, activeFlows, flowLocations and flowValue.
func bindFlows(s *Script) {
	vm, e := s.vm, s.m.deps.Engine
	s.set("setFlow", func(c goja.FunctionCall) goja.Value {
		spec, err := flow.ParseSpec(s.jsonOf(arg(c, 1)))
		if err == nil {
			err = e.Define(arg(c, 0).String(), spec)
		}
		if err != nil {
			throw(vm, "setFlow %s: %v", arg(c, 0).String(), err)
		}
		s.changed("flows")
		return vm.ToValue(true)
	})
	s.set("clearFlow", func(c goja.FunctionCall) goja.Value {
		ok := e.Undefine(arg(c, 0).String())
		s.changed("flows")
		return vm.ToValue(ok)
	})
	s.set("flowKeys", func(goja.FunctionCall) goja.Value { return toJS(vm, e.FlowKeys(time.Now())) })
	s.set("activeFlows", func(c goja.FunctionCall) goja.Value {
		maxFlows, minValue, aggMode := 100, 0.0, ""
		if present(arg(c, 2)) {
			maxFlows = int(arg(c, 2).ToInteger())
		}
		if present(arg(c, 3)) {
			minValue = arg(c, 3).ToFloat()
		}
		if present(arg(c, 4)) {
			aggMode = arg(c, 4).String()
		}
		fl, err := e.ActiveFlows(s.agentsOf(arg(c, 0)), arg(c, 1).String(), maxFlows, minValue, aggMode, time.Now())
		if err != nil {
			throw(vm, "activeFlows %s: %v", arg(c, 1).String(), err)
		}
		return toJS(vm, fl)
	})
	s.set("flowLocations", func(c goja.FunctionCall) goja.Value {
		locs, err := e.FlowLocations(s.agentsOf(arg(c, 0)), arg(c, 1).String(), arg(c, 2).String(), time.Now())
		if err != nil {
			throw(vm, "flowLocations %s: %v", arg(c, 1).String(), err)
		}
		return toJS(vm, locs)
	})
	s.set("flowValue", func(c goja.FunctionCall) goja.Value {
		a := agentAddr(vm, arg(c, 0))
		dsFlow := arg(c, 1).String()
		i := strings.LastIndexByte(dsFlow, '.')
		if i <= 0 {
			throw(vm, "flowValue needs <dataSource>.<flow>, got %q", dsFlow)
		}
		v, ok := e.FlowValue(a, dsFlow[:i], dsFlow[i+1:], arg(c, 2).String(), time.Now())
		if !ok {
			return vm.ToValue(0)
		}
		return vm.ToValue(v)
	})
}
