package script

import (
	"slices"
	"time"

	"github.com/dop251/goja"
)

// dnsTimeout bounds dnsGetAllByName (the callback's time bounds it too).
const dnsTimeout = 5 * time.Second

// bindSystem installs what a script asks of the server and its host:
// version, analyzer, agents, the -D properties, scriptdir and
// dnsGetAllByName (include is in include.go).
func bindSystem(s *Script) {
	vm, d := s.vm, s.m.deps
	s.set("version", func(goja.FunctionCall) goja.Value { return vm.ToValue(d.Version) })
	s.set("analyzer", func(goja.FunctionCall) goja.Value { return toJS(vm, d.Engine.Analyzer()) })
	s.set("agents", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, d.Engine.AgentsInfo(s.agentsOf(arg(c, 0)), time.Now()))
	})
	s.set("getSystemProperty", func(c goja.FunctionCall) goja.Value {
		if v, ok := d.Properties[arg(c, 0).String()]; ok {
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	s.set("getSystemPropertyNames", func(goja.FunctionCall) goja.Value {
		names := make([]string, 0, len(d.Properties))
		for k := range d.Properties {
			names = append(names, k)
		}
		slices.Sort(names)
		return vm.ToValue(names)
	})
	s.set("scriptdir", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.Dir()) })
	s.set("dnsGetAllByName", func(c goja.FunctionCall) goja.Value {
		ctx, cancel := s.callContext(dnsTimeout)
		defer cancel()
		addrs, err := d.Resolver.LookupHost(ctx, arg(c, 0).String())
		if err != nil {
			throw(vm, "dnsGetAllByName: %v", timedOut(ctx, err, s.limitName(dnsTimeout)))
		}
		return vm.ToValue(addrs)
	})
}
