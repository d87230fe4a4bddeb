package script

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/metric"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

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

// jsonOf returns a JavaScript value's JSON form (for the parsers REST uses).
func jsonOf(v goja.Value) []byte {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return []byte("null")
	}
	b, err := json.Marshal(v.Export())
	if err != nil {
		return []byte("null")
	}
	return b
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
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{v.String()}
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

func filterOf(v goja.Value) metric.Filter {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	f := metric.Filter{}
	if err := json.Unmarshal(jsonOf(v), &f); err != nil {
		return nil
	}
	return f
}

func arg(c goja.FunctionCall, i int) goja.Value { return c.Argument(i) }

func present(v goja.Value) bool { return v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) }

// bind installs the API in a script's runtime.
func bind(s *Script) {
	vm, d := s.vm, s.m.deps
	e := d.Engine
	set := func(name string, fn func(c goja.FunctionCall) goja.Value) {
		vm.Set(name, fn)
	}
	changed := func(kind string) {
		if d.Changed != nil {
			d.Changed(kind)
		}
	}
	agentsOf := func(v goja.Value) engine.Agents {
		spec := "ALL"
		if present(v) {
			spec = strings.Join(stringList(v), ";")
		}
		sel, err := e.ParseAgents(spec)
		if err != nil {
			throw(vm, "%v", err)
		}
		return sel
	}

	// Logging.
	logAt := func(level func(msg string, args ...any)) func(c goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			level(arg(c, 0).String())
			return goja.Undefined()
		}
	}
	set("logInfo", logAt(s.log.Info))
	set("logWarning", logAt(s.log.Warn))
	set("logSevere", logAt(s.log.Error))
	set("logFine", logAt(s.log.Debug))

	// Server.
	set("version", func(goja.FunctionCall) goja.Value { return vm.ToValue(d.Version) })
	set("analyzer", func(goja.FunctionCall) goja.Value { return toJS(vm, e.Analyzer()) })
	set("agents", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, e.AgentsInfo(agentsOf(arg(c, 0)), time.Now()))
	})
	set("getSystemProperty", func(c goja.FunctionCall) goja.Value {
		if v, ok := d.Properties[arg(c, 0).String()]; ok {
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	set("getSystemPropertyNames", func(goja.FunctionCall) goja.Value {
		names := make([]string, 0, len(d.Properties))
		for k := range d.Properties {
			names = append(names, k)
		}
		slices.Sort(names)
		return vm.ToValue(names)
	})
	set("scriptdir", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.Dir()) })
	set("include", func(c goja.FunctionCall) goja.Value {
		name := arg(c, 0).String()
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.Dir(), name)
		}
		src, err := readFile(path)
		if err != nil {
			var ok bool
			if src, ok = extraFile(name); !ok {
				throw(vm, "include %s: %v", name, err)
			}
		}
		if _, err := vm.RunScript(path, src); err != nil {
			panic(err)
		}
		return goja.Undefined()
	})

	// Metrics.
	set("metric", func(c goja.FunctionCall) goja.Value {
		st, err := e.Metric(agentsOf(arg(c, 0)), stringList(arg(c, 1)), filterOf(arg(c, 2)), time.Now())
		if err != nil {
			throw(vm, "%v", err)
		}
		return toJS(vm, st)
	})
	set("dump", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, e.Dump(agentsOf(arg(c, 0)), stringList(arg(c, 1)), filterOf(arg(c, 2)), time.Now()))
	})
	set("table", func(c goja.FunctionCall) goja.Value {
		rows, err := e.Table(agentsOf(arg(c, 0)), stringList(arg(c, 1)), filterOf(arg(c, 2)), time.Now())
		if err != nil {
			throw(vm, "%v", err)
		}
		return toJS(vm, rows)
	})
	set("metrics", func(c goja.FunctionCall) goja.Value {
		if present(arg(c, 0)) {
			a, err := netip.ParseAddr(arg(c, 0).String())
			if err != nil {
				throw(vm, "%q is not an agent address", arg(c, 0).String())
			}
			m, _ := e.AgentMetrics(a, time.Now())
			return toJS(vm, m)
		}
		return toJS(vm, e.MetricNames(time.Now()))
	})

	// Flows.
	set("setFlow", func(c goja.FunctionCall) goja.Value {
		spec, err := flow.ParseSpec(jsonOf(arg(c, 1)))
		if err == nil {
			err = e.Define(arg(c, 0).String(), spec)
		}
		if err != nil {
			throw(vm, "setFlow %s: %v", arg(c, 0).String(), err)
		}
		changed("flows")
		return vm.ToValue(true)
	})
	set("clearFlow", func(c goja.FunctionCall) goja.Value {
		ok := e.Undefine(arg(c, 0).String())
		changed("flows")
		return vm.ToValue(ok)
	})
	set("flowKeys", func(goja.FunctionCall) goja.Value { return toJS(vm, e.FlowKeys(time.Now())) })
	set("activeFlows", func(c goja.FunctionCall) goja.Value {
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
		fl, err := e.ActiveFlows(agentsOf(arg(c, 0)), arg(c, 1).String(), maxFlows, minValue, aggMode, time.Now())
		if err != nil {
			throw(vm, "activeFlows %s: %v", arg(c, 1).String(), err)
		}
		return toJS(vm, fl)
	})
	set("flowValue", func(c goja.FunctionCall) goja.Value {
		a, err := netip.ParseAddr(arg(c, 0).String())
		if err != nil {
			throw(vm, "%q is not an agent address", arg(c, 0).String())
		}
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

	// Groups and maps. setGroups(groups) sets the default set (the seeds'
	// one-argument form); setGroups(name, groups) a named one.
	set("setGroups", func(c goja.FunctionCall) goja.Value {
		name, body := "", arg(c, 0)
		if len(c.Arguments) >= 2 {
			name, body = arg(c, 0).String(), arg(c, 1)
		}
		var g map[string][]string
		if err := json.Unmarshal(jsonOf(body), &g); err != nil {
			throw(vm, "setGroups: groups must be an object of label → list of CIDRs: %v", err)
		}
		if err := d.Groups.Set(name, g); err != nil {
			throw(vm, "setGroups: %v", err)
		}
		changed("groups")
		return vm.ToValue(true)
	})
	set("setMap", func(c goja.FunctionCall) goja.Value {
		var m map[string][]string
		if err := json.Unmarshal(jsonOf(arg(c, 1)), &m); err != nil {
			throw(vm, "setMap: a map is an object of label → list of values: %v", err)
		}
		if err := d.Maps.Set(arg(c, 0).String(), m); err != nil {
			throw(vm, "setMap: %v", err)
		}
		changed("maps")
		return vm.ToValue(true)
	})

	// Thresholds.
	set("setThreshold", func(c goja.FunctionCall) goja.Value {
		spec, err := threshold.ParseSpec(jsonOf(arg(c, 1)))
		if err == nil {
			err = d.Thresholds.Set(arg(c, 0).String(), spec)
		}
		if err != nil {
			throw(vm, "setThreshold %s: %v", arg(c, 0).String(), err)
		}
		changed("thresholds")
		return vm.ToValue(true)
	})
	set("clearThreshold", func(c goja.FunctionCall) goja.Value {
		ok := d.Thresholds.Clear(arg(c, 0).String())
		changed("thresholds")
		return vm.ToValue(ok)
	})
	set("thresholdTriggered", func(c goja.FunctionCall) goja.Value {
		key := ""
		if present(arg(c, 3)) {
			key = arg(c, 3).String()
		}
		return vm.ToValue(d.Thresholds.Triggered(arg(c, 0).String(), arg(c, 1).String(), arg(c, 2).String(), key))
	})

	// Handlers.
	callable := func(v goja.Value, what string) goja.Callable {
		fn, ok := goja.AssertFunction(v)
		if !ok {
			throw(vm, "%s needs a function", what)
		}
		return fn
	}
	// handler registers set/clear functions for one kind of handler.
	handler := func(name string, assign func(h *handlers, fn goja.Callable, names map[string]bool)) {
		set("set"+name, func(c goja.FunctionCall) goja.Value {
			fn := callable(arg(c, 0), "set"+name)
			s.handlersMu.Lock()
			assign(&s.handlers, fn, nameSet(arg(c, 1)))
			s.handlersMu.Unlock()
			return goja.Undefined()
		})
		set("clear"+name, func(goja.FunctionCall) goja.Value {
			s.handlersMu.Lock()
			assign(&s.handlers, nil, nil)
			s.handlersMu.Unlock()
			return goja.Undefined()
		})
	}
	handler("FlowHandler", func(h *handlers, fn goja.Callable, names map[string]bool) { h.flow, h.flowNames = fn, names })
	handler("EventHandler", func(h *handlers, fn goja.Callable, names map[string]bool) { h.event, h.eventIDs = fn, names })
	handler("HttpHandler", func(h *handlers, fn goja.Callable, _ map[string]bool) { h.http = fn })
	set("setIntervalHandler", func(c goja.FunctionCall) goja.Value {
		fn := callable(arg(c, 0), "setIntervalHandler")
		every := time.Second
		if present(arg(c, 1)) {
			every = time.Duration(arg(c, 1).ToFloat() * float64(time.Second))
		}
		if every < 10*time.Millisecond {
			throw(vm, "setIntervalHandler: an interval of %v is too short", every)
		}
		s.setInterval(fn, every)
		return goja.Undefined()
	})
	set("clearIntervalHandler", func(goja.FunctionCall) goja.Value {
		s.setInterval(nil, 0)
		return goja.Undefined()
	})

	// Output.
	set("syslog", func(c goja.FunctionCall) goja.Value {
		port, facility, severity := 514, 16, 5
		if present(arg(c, 1)) {
			port = int(arg(c, 1).ToInteger())
		}
		if present(arg(c, 2)) {
			facility = int(arg(c, 2).ToInteger())
		}
		if present(arg(c, 3)) {
			severity = int(arg(c, 3).ToInteger())
		}
		if err := sendSyslog(arg(c, 0).String(), port, facility, severity, arg(c, 4).Export()); err != nil {
			throw(vm, "syslog: %v", err)
		}
		return vm.ToValue(true)
	})
	set("graphite", func(c goja.FunctionCall) goja.Value {
		port := 2003
		if present(arg(c, 1)) {
			port = int(arg(c, 1).ToInteger())
		}
		if err := sendGraphite(arg(c, 0).String(), port, arg(c, 2).Export()); err != nil {
			throw(vm, "graphite: %v", err)
		}
		return vm.ToValue(true)
	})
	bindHTTP(s)
	set("runCmd", func(c goja.FunctionCall) goja.Value {
		if !d.RunCmd {
			throw(vm, "runCmd is disabled (script.runcmd=no)")
		}
		return toJS(vm, runCmd(stringList(arg(c, 0)), stringList(arg(c, 1)), optString(arg(c, 2)), d.CallTimeout))
	})

	// Stores.
	set("storeGet", func(c goja.FunctionCall) goja.Value {
		b, ok := s.store.get(arg(c, 0).String())
		if !ok {
			return goja.Null()
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return goja.Null()
		}
		return vm.ToValue(v)
	})
	set("storeSet", func(c goja.FunctionCall) goja.Value {
		if err := s.store.set(arg(c, 0).String(), jsonOf(arg(c, 1))); err != nil {
			throw(vm, "storeSet: %v", err)
		}
		return goja.Undefined()
	})
	set("storeDelete", func(c goja.FunctionCall) goja.Value {
		s.store.delete(arg(c, 0).String())
		return goja.Undefined()
	})
	set("storeKeys", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.store.keys()) })
	set("sharedGet", func(c goja.FunctionCall) goja.Value {
		if b, ok := s.m.shared.Load(arg(c, 0).String()); ok {
			var v any
			json.Unmarshal(b.([]byte), &v)
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	set("sharedSet", func(c goja.FunctionCall) goja.Value {
		s.m.shared.Store(arg(c, 0).String(), jsonOf(arg(c, 1)))
		return goja.Undefined()
	})

	// Utilities.
	set("md5", func(c goja.FunctionCall) goja.Value {
		sum := md5.Sum([]byte(arg(c, 0).String()))
		return vm.ToValue(hex.EncodeToString(sum[:]))
	})
	set("formatNumber", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(formatNumber(arg(c, 0).ToFloat(), arg(c, 1).String()))
	})
	// formatDate(date, pattern[, language[, country]]): date is a Date or
	// milliseconds.
	set("formatDate", func(c goja.FunctionCall) goja.Value {
		var ms int64
		if d, ok := arg(c, 0).Export().(time.Time); ok {
			ms = d.UnixMilli()
		} else {
			ms = arg(c, 0).ToInteger()
		}
		return vm.ToValue(formatDate(time.UnixMilli(ms), arg(c, 1).String()))
	})
	set("datasourceInfo", func(c goja.FunctionCall) goja.Value {
		a, err := netip.ParseAddr(arg(c, 0).String())
		if err != nil {
			throw(vm, "%q is not an agent address", arg(c, 0).String())
		}
		if info, ok := e.DataSourceInfo(a, arg(c, 1).String(), time.Now()); ok {
			return toJS(vm, info)
		}
		return goja.Null()
	})
	if f := s.m.deps.Forwarder; f != nil {
		// setForward(name, address[, port]), clearForward(name): REST's
		// /forwarding/{name}/json.
		set("setForward", func(c goja.FunctionCall) goja.Value {
			spec := forward.Spec{Address: arg(c, 1).String(), Port: forward.DefaultPort}
			if present(arg(c, 2)) {
				spec.Port = int(arg(c, 2).ToInteger())
			}
			if err := f.Set(arg(c, 0).String(), spec); err != nil {
				throw(vm, "setForward: %v", err)
			}
			changed("forwarding")
			return vm.ToValue(true)
		})
		set("clearForward", func(c goja.FunctionCall) goja.Value {
			ok := f.Delete(arg(c, 0).String())
			changed("forwarding")
			return vm.ToValue(ok)
		})
	}
	set("dnsGetAllByName", func(c goja.FunctionCall) goja.Value {
		addrs, err := net.LookupHost(arg(c, 0).String())
		if err != nil {
			throw(vm, "dnsGetAllByName: %v", err)
		}
		return vm.ToValue(addrs)
	})
	bindBaselines(s)
	bindTopology(s)
}

func optString(v goja.Value) string {
	if present(v) {
		return v.String()
	}
	return ""
}

// setInterval replaces the script's interval handler. The ticker
// goroutine queues a call only when the previous one has run, so a slow
// handler is skipped, not piled up.
func (s *Script) setInterval(fn goja.Callable, every time.Duration) {
	s.handlersMu.Lock()
	old := s.handlers.interval
	s.handlers.interval = nil
	if fn != nil {
		h := &intervalHandler{fn: fn, every: every, stop: make(chan struct{})}
		s.handlers.interval = h
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-h.stop:
					return
				case <-s.quit:
					return
				case now := <-t.C:
					if !h.pending.CompareAndSwap(false, true) {
						continue
					}
					ms := now.UnixMilli()
					s.enqueue(jobInterval, func(vm *goja.Runtime) error {
						h.pending.Store(false)
						_, err := h.fn(goja.Undefined(), vm.ToValue(ms))
						return err
					})
				}
			}
		}()
	}
	s.handlersMu.Unlock()
	if old != nil {
		close(old.stop)
	}
}

func bindTopology(s *Script) {
	vm, t := s.vm, s.m.deps.Topology
	if t == nil {
		return
	}
	set := func(name string, fn func(c goja.FunctionCall) goja.Value) { vm.Set(name, fn) }
	set("setTopology", func(c goja.FunctionCall) goja.Value {
		topo, err := topology.Parse(jsonOf(arg(c, 0)))
		if err == nil {
			err = t.Set(topo)
		}
		if err != nil {
			s.log.Warn("setTopology refused", "err", err)
			return vm.ToValue(false)
		}
		if s.m.deps.Changed != nil {
			s.m.deps.Changed("topology")
		}
		return vm.ToValue(true)
	})
	set("getTopology", func(goja.FunctionCall) goja.Value { return toJS(vm, t.Get()) })
	set("topologyVersion", func(goja.FunctionCall) goja.Value { return vm.ToValue(t.Version()) })
	addr := func(v goja.Value) netip.Addr {
		a, err := netip.ParseAddr(v.String())
		if err != nil {
			throw(vm, "%q is not an agent address", v.String())
		}
		return a
	}
	set("topologyInterfaceToLink", func(c goja.FunctionCall) goja.Value {
		if l, ok := t.InterfaceToLink(addr(arg(c, 0)), arg(c, 1).String()); ok {
			return toJS(vm, l)
		}
		return goja.Null()
	})
	set("topologyInterfaceToPort", func(c goja.FunctionCall) goja.Value {
		if p, ok := t.InterfaceToPort(addr(arg(c, 0)), arg(c, 1).String()); ok {
			return toJS(vm, p)
		}
		return goja.Null()
	})
	set("topologyNodesForAgent", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(append([]string{}, t.NodesForAgent(addr(arg(c, 0)))...))
	})
	set("topologyAgentForNode", func(c goja.FunctionCall) goja.Value {
		if a, ok := t.AgentForNode(arg(c, 0).String()); ok {
			return vm.ToValue(a)
		}
		return goja.Null()
	})
	set("topologyNodeNames", func(goja.FunctionCall) goja.Value {
		var out []string
		for n := range t.Get().Nodes {
			out = append(out, n)
		}
		slices.Sort(out)
		return vm.ToValue(append([]string{}, out...))
	})
	set("topologyLinkNames", func(goja.FunctionCall) goja.Value {
		var out []string
		for n := range t.Get().Links {
			out = append(out, n)
		}
		slices.Sort(out)
		return vm.ToValue(append([]string{}, out...))
	})
	set("topologyNode", func(c goja.FunctionCall) goja.Value {
		if n, ok := t.Get().Nodes[arg(c, 0).String()]; ok {
			return toJS(vm, n)
		}
		return goja.Null()
	})
	set("topologyLink", func(c goja.FunctionCall) goja.Value {
		if l, ok := t.Get().Links[arg(c, 0).String()]; ok {
			return toJS(vm, l)
		}
		return goja.Null()
	})
	set("topologyNodeLinks", func(c goja.FunctionCall) goja.Value {
		return toJS(vm, t.Get().NodeLinks(arg(c, 0).String()))
	})
	set("topologyLinkToInterfaces", func(c goja.FunctionCall) goja.Value {
		if ifs, ok := t.Get().LinkToInterfaces(arg(c, 0).String()); ok {
			return toJS(vm, ifs)
		}
		return goja.Null()
	})
	set("topologyShortestPath", func(c goja.FunctionCall) goja.Value {
		if p := t.Get().ShortestPath(arg(c, 0).String(), arg(c, 1).String()); p != nil {
			return toJS(vm, p)
		}
		return goja.Null()
	})
	set("topologyShortestPaths", func(c goja.FunctionCall) goja.Value {
		k, maxLen := 1, 0
		if present(arg(c, 2)) {
			k = int(arg(c, 2).ToInteger())
		}
		if present(arg(c, 3)) {
			maxLen = int(arg(c, 3).ToInteger())
		}
		return toJS(vm, t.Get().ShortestPaths(arg(c, 0).String(), arg(c, 1).String(), k, maxLen))
	})
	set("topologyMinimumSpanningTree", func(goja.FunctionCall) goja.Value { return toJS(vm, t.Get().MinimumSpanningTree()) })
	set("topologyDiameter", func(goja.FunctionCall) goja.Value { return vm.ToValue(t.Get().Diameter()) })
	// topologyLinkMetric(link, metrics[, startNode]): each metric at each
	// end, the start node's end first.
	set("topologyLinkMetric", func(c goja.FunctionCall) goja.Value {
		ifs, ok := t.Get().LinkToInterfaces(arg(c, 0).String())
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
