package script

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/metric"
)

// Conversions between JavaScript arguments and the Go values the engine
// takes, shared by every API area.

// toJS converts a Go value to JavaScript through its JSON form, so that
// scripts see the same field names as REST clients.
func toJS(vm *goja.Runtime, v any) goja.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return goja.Null()
	}
	var x any
	json.Unmarshal(b, &x)
	return vm.ToValue(x)
}

// throw raises a JavaScript exception (scripts catch them with try/catch).
func throw(vm *goja.Runtime, format string, args ...any) {
	panic(vm.NewGoError(fmt.Errorf(format, args...)))
}

// strings of an argument that is a comma string or an array.
func stringList(v goja.Value) []string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	switch x := v.Export().(type) {
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ';' })
	case []any:
		return flatStrings(make([]string, 0, len(x)), x)
	}
	return []string{v.String()}
}

// flatStrings appends a list's elements as text, the elements of nested
// lists each in its own right: sflow-test passes agents([agent]) where agent
// is already a query's list (req.query.agent), which Nashorn's conversion to
// text flattened the same way.
func flatStrings(out []string, list []any) []string {
	for _, e := range list {
		switch x := e.(type) {
		case []any:
			out = flatStrings(out, x)
		case nil:
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func nameSet(v goja.Value) map[string]bool {
	l := stringList(v)
	if l == nil {
		return nil
	}
	m := map[string]bool{}
	for _, n := range l {
		m[n] = true
	}
	return m
}

func (s *Script) filterOf(v goja.Value) metric.Filter {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	f := metric.Filter{}
	if err := json.Unmarshal(s.jsonOf(v), &f); err != nil {
		return nil
	}
	return f
}

// agentAddr is an agent address argument; anything else throws.
func agentAddr(vm *goja.Runtime, v goja.Value) netip.Addr {
	a, err := netip.ParseAddr(v.String())
	if err != nil {
		throw(vm, "%q is not an agent address", v.String())
	}
	return a
}

func arg(c goja.FunctionCall, i int) goja.Value { return c.Argument(i) }

func present(v goja.Value) bool { return v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) }

func optString(v goja.Value) string {
	if present(v) {
		return v.String()
	}
	return ""
}
