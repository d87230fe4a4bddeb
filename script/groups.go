package script

import (
	"encoding/json"

	"github.com/dop251/goja"
)

// bindGroups installs setGroups and setMap. setGroups(groups) sets the
// default set (the seeds' one-argument form); setGroups(name, groups) a
// named one.
func bindGroups(s *Script) {
	vm, d := s.vm, s.m.deps
	s.set("setGroups", func(c goja.FunctionCall) goja.Value {
		name, body := "", arg(c, 0)
		if len(c.Arguments) >= 2 {
			name, body = arg(c, 0).String(), arg(c, 1)
		}
		var g map[string][]string
		if err := json.Unmarshal(s.jsonOf(body), &g); err != nil {
			throw(vm, "setGroups: groups must be an object of label → list of CIDRs: %v", err)
		}
		if err := d.Groups.Set(name, g); err != nil {
			throw(vm, "setGroups: %v", err)
		}
		s.changed("groups")
		return vm.ToValue(true)
	})
	s.set("setMap", func(c goja.FunctionCall) goja.Value {
		var m map[string][]string
		if err := json.Unmarshal(s.jsonOf(arg(c, 1)), &m); err != nil {
			throw(vm, "setMap: a map is an object of label → list of values: %v", err)
		}
		if err := d.Maps.Set(arg(c, 0).String(), m); err != nil {
			throw(vm, "setMap: %v", err)
		}
		s.changed("maps")
		return vm.ToValue(true)
	})
}
