package script

import (
	"encoding/json"
	"fmt"

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
		m, err := mapOf(s.jsonOf(arg(c, 1)))
		if err != nil {
			throw(vm, "setMap: a map is an object of label → list of values: %v", err)
		}
		if err := d.Maps.Set(arg(c, 0).String(), m); err != nil {
			throw(vm, "setMap: %v", err)
		}
		s.changed("maps")
		return vm.ToValue(true)
	})
}

// mapOf reads setMap's label → list of values. A number among the values
// is kept as the text JavaScript gives it (InMon's scitags app maps IPv6
// flow labels, numbers, as sFlow-RT takes them): a map: key compares it
// with the key's value, which is text.
func mapOf(b []byte) (map[string][]string, error) {
	var raw map[string][]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	m := make(map[string][]string, len(raw))
	for label, vals := range raw {
		list := make([]string, 0, len(vals))
		for i, v := range vals {
			var s string
			switch {
			case json.Unmarshal(v, &s) == nil:
			case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
				s = string(v) // JSON.stringify wrote the number as JavaScript prints it
			default:
				return nil, fmt.Errorf("label %q: value %d is %s, not a string or a number", label, i+1, v)
			}
			list = append(list, s)
		}
		m[label] = list
	}
	return m, nil
}
