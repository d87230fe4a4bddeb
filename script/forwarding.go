package script

import (
	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/forward"
)

// bindForwarding installs setForward(name, address[, port]) and
// clearForward(name), REST's /forwarding/{name}/json, when the engine
// forwards.
func bindForwarding(s *Script) {
	vm, f := s.vm, s.m.deps.Forwarder
	if f == nil {
		return
	}
	s.set("setForward", func(c goja.FunctionCall) goja.Value {
		spec := forward.Spec{Address: arg(c, 1).String(), Port: forward.DefaultPort}
		if present(arg(c, 2)) {
			spec.Port = int(arg(c, 2).ToInteger())
		}
		if err := f.Set(arg(c, 0).String(), spec); err != nil {
			throw(vm, "setForward: %v", err)
		}
		s.changed("forwarding")
		return vm.ToValue(true)
	})
	s.set("clearForward", func(c goja.FunctionCall) goja.Value {
		ok := f.Delete(arg(c, 0).String())
		s.changed("forwarding")
		return vm.ToValue(ok)
	})
}
