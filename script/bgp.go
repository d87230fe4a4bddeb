package script

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/bgp"
)

// bindBGP installs sFlow-RT's bgp* functions (docs/bgp.md) when the engine
// runs the BGP speaker (bgp.start=yes). What a script announces is
// withdrawn, and the neighbors it added are removed, when it stops.
func bindBGP(s *Script) {
	vm, sp := s.vm, s.m.deps.BGP
	if sp == nil {
		return
	}
	go func() {
		<-s.ctx.Done()
		sp.RemoveOwner(s.ID)
	}()
	router := func(v goja.Value, fn string) netip.Addr {
		a, err := netip.ParseAddr(strings.TrimSpace(v.String()))
		if err != nil {
			throw(vm, "%s: router %q is not an IP address", fn, v.String())
		}
		return a.Unmap()
	}
	object := func(v goja.Value, fn, what string) map[string]any {
		if !present(v) {
			throw(vm, "%s: no %s object", fn, what)
		}
		var m map[string]any
		if err := json.Unmarshal(s.jsonOf(v), &m); err != nil || m == nil {
			throw(vm, "%s: the %s must be an object", fn, what)
		}
		return m
	}
	handler := func(v goja.Value, fn, name string, r netip.Addr) func() {
		if !present(v) {
			return nil
		}
		cb, ok := goja.AssertFunction(v)
		if !ok {
			throw(vm, "%s: %s must be a function(router)", fn, name)
		}
		return func() {
			s.enqueue(jobCall, func(vm *goja.Runtime) error {
				_, err := cb(goja.Undefined(), vm.ToValue(r.String()))
				return err
			})
		}
	}
	// result is what an announcement returns: false, logged, when the
	// router cannot take it now; a malformed one throws.
	result := func(fn string, r netip.Addr, err error) goja.Value {
		var perr *bgpInputError
		switch {
		case err == nil:
			return vm.ToValue(true)
		case errors.As(err, &perr):
			throw(vm, "%s: %v", fn, perr.err)
		}
		s.log.Warn(fn+" refused", "router", r, "err", err)
		return vm.ToValue(false)
	}
	s.set("bgpAddNeighbor", func(c goja.FunctionCall) goja.Value {
		r := router(arg(c, 0), "bgpAddNeighbor")
		as, err := strconv.ParseUint(strings.TrimSpace(arg(c, 1).String()), 10, 32)
		if err != nil || as == 0 {
			throw(vm, "bgpAddNeighbor: AS %q is not a number from 1 to 4294967295", arg(c, 1).String())
		}
		var id netip.Addr // absent: the speaker picks one (bgp.DefaultRouterID)
		if present(arg(c, 2)) {
			if id, err = netip.ParseAddr(strings.TrimSpace(arg(c, 2).String())); err != nil || !id.Is4() {
				throw(vm, "bgpAddNeighbor: router ID %q is not a dotted quad such as 192.0.2.1", arg(c, 2).String())
			}
		}
		var opts bgp.Options
		if present(arg(c, 3)) {
			if opts, err = bgp.ParseOptions(object(arg(c, 3), "bgpAddNeighbor", "options")); err != nil {
				throw(vm, "bgpAddNeighbor %s: %v", r, err)
			}
		}
		open := handler(arg(c, 4), "bgpAddNeighbor", "openHandler", r)
		closeFn := handler(arg(c, 5), "bgpAddNeighbor", "closeHandler", r)
		if _, err := sp.AddNeighbor(r, uint32(as), id, opts, s.ID, open, closeFn); err != nil {
			throw(vm, "bgpAddNeighbor %s: %v", r, err)
		}
		return vm.ToValue(true)
	})
	s.set("bgpRemoveNeighbor", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(sp.RemoveNeighbor(router(arg(c, 0), "bgpRemoveNeighbor")))
	})
	s.set("bgpSetNextHops", func(c goja.FunctionCall) goja.Value {
		hops, err := bgp.ParseNextHops(object(arg(c, 0), "bgpSetNextHops", "next hops (address to MAC)"))
		if err != nil {
			throw(vm, "bgpSetNextHops: %v", err)
		}
		sp.SetNextHops(hops, s.ID)
		return vm.ToValue(true)
	})
	s.set("bgpAddSource", func(c goja.FunctionCall) goja.Value {
		// EDGE: every agent that has no bgpAddSource of its own.
		edge := strings.TrimSpace(arg(c, 0).String()) == "EDGE"
		var agent netip.Addr
		if !edge {
			agent = router(arg(c, 0), "bgpAddSource")
		}
		var v4, v6 *bgp.Neighbor
		look := func(v goja.Value) *bgp.Neighbor {
			n, ok := sp.Neighbor(router(v, "bgpAddSource"))
			if !ok {
				throw(vm, "bgpAddSource: router %s is not a BGP neighbor: add it with bgpAddNeighbor first", v.String())
			}
			return n
		}
		if o, ok := arg(c, 1).(*goja.Object); ok && o.ClassName() == "Object" {
			if v := o.Get("router"); present(v) {
				v4 = look(v)
			}
			if v := o.Get("router6"); present(v) {
				v6 = look(v)
			}
			if v4 == nil && v6 == nil {
				throw(vm, "bgpAddSource: the routers object has neither router nor router6")
			}
		} else {
			v4 = look(arg(c, 1))
			v6 = v4
		}
		t, frames := float64(bgp.DefaultSmoothing), false
		if present(arg(c, 2)) {
			f, err := strconv.ParseFloat(strings.TrimSpace(arg(c, 2).String()), 64)
			if err != nil || f <= 0 {
				throw(vm, "bgpAddSource: t %q is not a number of seconds above 0 (the smoothing of bgpTopPrefixes' values)", arg(c, 2).String())
			}
			t = f
		}
		if present(arg(c, 3)) {
			switch v := strings.ToLower(strings.TrimSpace(arg(c, 3).String())); v {
			case "bytes":
			case "frames":
				frames = true
			default:
				throw(vm, "bgpAddSource: value %q: bytes or frames", arg(c, 3).String())
			}
		}
		for _, n := range []*bgp.Neighbor{v4, v6} {
			if n != nil {
				n.RIB.SetCounting(t, frames)
			}
		}
		if edge {
			sp.AddEdgeSource(v4, v6)
		} else {
			sp.AddSource(agent, v4, v6)
		}
		return vm.ToValue(true)
	})
	top := func(fn string, v6 bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			r := router(arg(c, 0), fn)
			o := bgp.TopOptions{IPv6: v6, MaxPrefixes: 100, IncludeCovered: true}
			if present(arg(c, 1)) {
				n, err := strconv.Atoi(strings.TrimSpace(arg(c, 1).String()))
				if err != nil || n < 0 {
					throw(vm, "%s: maxPrefixes %q is not a whole number from 0", fn, arg(c, 1).String())
				}
				o.MaxPrefixes = n
			}
			if present(arg(c, 2)) {
				f, err := strconv.ParseFloat(strings.TrimSpace(arg(c, 2).String()), 64)
				if err != nil || f < 0 {
					throw(vm, "%s: minValue %q is not a number from 0", fn, arg(c, 2).String())
				}
				o.MinValue = f
			}
			if present(arg(c, 3)) {
				d, err := bgp.ParseDirection(arg(c, 3).String())
				if err != nil {
					throw(vm, "%s: %v", fn, err)
				}
				o.Direction = d
			}
			if present(arg(c, 4)) {
				o.IncludeCovered = arg(c, 4).ToBoolean()
			}
			if present(arg(c, 5)) {
				o.PruneCovered = arg(c, 5).ToBoolean()
			}
			if present(arg(c, 6)) && !s.topSeventhSaid {
				// InMon's active-routes passes a seventh flag whose meaning
				// sFlow-RT does not publish: said once, not silently dropped.
				s.topSeventhSaid = true
				s.log.Warn(fn+": the seventh argument is not used by flowrt (docs/bgp.md)", "value", arg(c, 6).String())
			}
			t, err := sp.TopPrefixes(r, o)
			if err != nil {
				throw(vm, "%s %s: %v", fn, r, err)
			}
			return vm.ToValue(t.JSON())
		}
	}
	s.set("bgpTopPrefixes", top("bgpTopPrefixes", false))
	s.set("bgpTopPrefixes6", top("bgpTopPrefixes6", true))
	s.set("bgpRemoveSource", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(sp.RemoveSource(router(arg(c, 0), "bgpRemoveSource")))
	})
	s.set("bgpAddRoute", func(c goja.FunctionCall) goja.Value {
		r := router(arg(c, 0), "bgpAddRoute")
		return result("bgpAddRoute", r, inputErr(sp.AddRoute(r, object(arg(c, 1), "bgpAddRoute", "route"), s.ID)))
	})
	s.set("bgpRemoveRoute", func(c goja.FunctionCall) goja.Value {
		r := router(arg(c, 0), "bgpRemoveRoute")
		ok, err := sp.RemoveRoute(r, arg(c, 1).String())
		if err != nil {
			return result("bgpRemoveRoute", r, inputErr(err))
		}
		return vm.ToValue(ok)
	})
	s.set("bgpRouteCount", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(max(sp.Count(router(arg(c, 0), "bgpRouteCount"), false), 0))
	})
	s.set("bgpAddFlow", func(c goja.FunctionCall) goja.Value {
		r := router(arg(c, 0), "bgpAddFlow")
		return result("bgpAddFlow", r, inputErr(sp.AddFlow(r, object(arg(c, 1), "bgpAddFlow", "flowspec"), s.ID)))
	})
	s.set("bgpRemoveFlow", func(c goja.FunctionCall) goja.Value {
		r := router(arg(c, 0), "bgpRemoveFlow")
		ok, err := sp.RemoveFlow(r, object(arg(c, 1), "bgpRemoveFlow", "flowspec"))
		if err != nil {
			return result("bgpRemoveFlow", r, inputErr(err))
		}
		return vm.ToValue(ok)
	})
	s.set("bgpFlowCount", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(max(sp.Count(router(arg(c, 0), "bgpFlowCount"), true), 0))
	})
}

// bgpInputError marks a malformed argument: it throws, where a router
// that cannot take an announcement now makes the call return false.
type bgpInputError struct{ err error }

func (e *bgpInputError) Error() string { return e.err.Error() }

func inputErr(err error) error {
	var ie *bgp.InputError
	if errors.As(err, &ie) {
		return &bgpInputError{err}
	}
	return err
}
