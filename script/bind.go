package script

import (
	"strings"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
)

// bind installs the API in a script's runtime, one area at a time; each
// area's functions are in the area's file.
func bind(s *Script) {
	bindNatives(s)    // natives.go: built-ins made to end with their callback (JSON.stringify, sort, join)
	bindLogging(s)    // logging.go: logInfo, logWarning, logSevere, logFine
	bindSystem(s)     // system.go: version, analyzer, agents, properties, scriptdir, DNS
	bindInclude(s)    // include.go
	bindMetrics(s)    // metrics.go: metric, dump, table, metrics, datasourceInfo
	bindFlows(s)      // flows.go: setFlow, clearFlow, flowKeys, activeFlows, flowValue
	bindGroups(s)     // groups.go: setGroups, setMap
	bindThresholds(s) // thresholds.go: setThreshold, clearThreshold, thresholdTriggered
	bindHandlers(s)   // handlers.go: set/clear Flow, Event, Http and Interval handlers
	bindSyslog(s)     // syslog.go
	bindGraphite(s)   // graphite.go
	bindHTTP(s)       // http.go: http, http2, httpAsync
	bindRunCmd(s)     // runcmd.go
	bindStore(s)      // store.go: storeGet/Set/Delete/Keys
	bindShared(s)     // shared.go: sharedGet/Set
	bindFormat(s)     // format.go: md5, formatNumber, formatDate
	bindForwarding(s) // forwarding.go: setForward, clearForward
	bindBaselines(s)  // baseline.go
	bindTopology(s)   // topology.go
	bindBGP(s)        // bgp.go: bgpAddNeighbor, bgpAddRoute, bgpAddFlow … (bgp.start=yes)
	wrapGlobals(s)    // nashorn_wrapglobals.go: "// wrapglobals: ns" puts the API under ns too
}

// set installs one function in the script's runtime.
func (s *Script) set(name string, fn func(c goja.FunctionCall) goja.Value) { s.vm.Set(name, fn) }

// changed tells the engine that a script changed what REST would save.
func (s *Script) changed(kind string) {
	if d := s.m.deps.Changed; d != nil {
		d(kind)
	}
}

// agentsOf is an agents argument ('ALL' when absent); a bad one throws.
func (s *Script) agentsOf(v goja.Value) engine.Agents {
	spec := "ALL"
	if present(v) {
		spec = strings.Join(stringList(v), ";")
	}
	sel, err := s.m.deps.Engine.ParseAgents(spec)
	if err != nil {
		throw(s.vm, "%v", err)
	}
	return sel
}
