package script

import (
	"time"

	"github.com/dop251/goja"
)

// bindMetrics installs the statistics queries, as REST's /metric, /dump,
// /table and /metrics, and datasourceInfo.
func bindMetrics(s *Script) {
	vm, e := s.vm, s.m.deps.Engine
	s.set("metric", func(c goja.FunctionCall) goja.Value {
		st, err := e.Metric(s.agentsOf(arg(c, 0)), stringList(arg(c, 1)), s.filterOf(arg(c, 2)), time.Now())
		if err != nil {
			throw(vm, "%v", err)
		}
		return toJS(vm, st)
	})
	s.set("dump", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, e.Dump(s.agentsOf(arg(c, 0)), stringList(arg(c, 1)), s.filterOf(arg(c, 2)), time.Now()))
	})
	s.set("table", func(c goja.FunctionCall) goja.Value {
		rows, err := e.Table(s.agentsOf(arg(c, 0)), stringList(arg(c, 1)), s.filterOf(arg(c, 2)), time.Now())
		if err != nil {
			throw(vm, "%v", err)
		}
		return toJS(vm, rows)
	})
	s.set("metrics", func(c goja.FunctionCall) goja.Value {
		if present(arg(c, 0)) {
			m, _ := e.AgentMetrics(agentAddr(vm, arg(c, 0)), time.Now())
			return toJS(vm, m)
		}
		return toJS(vm, e.MetricNames(time.Now()))
	})
	s.set("datasourceInfo", func(c goja.FunctionCall) goja.Value {
		if info, ok := e.DataSourceInfo(agentAddr(vm, arg(c, 0)), arg(c, 1).String(), time.Now()); ok {
			return toJS(vm, info)
		}
		return goja.Null()
	})
}
