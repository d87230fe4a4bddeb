package script

import (
	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/threshold"
)

// bindThresholds installs setThreshold, clearThreshold and
// thresholdTriggered (docs/thresholds.md).
func bindThresholds(s *Script) {
	vm, th := s.vm, s.m.deps.Thresholds
	s.set("setThreshold", func(c goja.FunctionCall) goja.Value {
		spec, err := threshold.ParseSpec(s.jsonOf(arg(c, 1)))
		if err == nil {
			err = th.Set(arg(c, 0).String(), spec)
		}
		if err != nil {
			throw(vm, "setThreshold %s: %v", arg(c, 0).String(), err)
		}
		s.changed("thresholds")
		return vm.ToValue(true)
	})
	s.set("clearThreshold", func(c goja.FunctionCall) goja.Value {
		ok := th.Clear(arg(c, 0).String())
		s.changed("thresholds")
		return vm.ToValue(ok)
	})
	s.set("thresholdTriggered", func(c goja.FunctionCall) goja.Value {
		key := ""
		if present(arg(c, 3)) {
			key = arg(c, 3).String()
		}
		return vm.ToValue(th.Triggered(arg(c, 0).String(), arg(c, 1).String(), arg(c, 2).String(), key))
	})
}
