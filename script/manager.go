package script

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/flowrt/flowrt/bgp"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
)

//go:embed extras
var extras embed.FS

// Deps are what scripts reach through the API.
type Deps struct {
	Engine     *engine.Engine
	Thresholds *threshold.Monitor
	Groups     *group.Groups
	Maps       *group.Maps
	Topology   *topology.Store
	BGP        *bgp.Speaker // the embedded BGP speaker (bgp.start=yes), nil when off
	Forwarder  *forward.Forwarder
	Properties map[string]string // getSystemProperty
	StoreDir   string            // storeSet() files (script.store)
	Logger     *slog.Logger
	Version    string

	CallTimeout  time.Duration // longest run of one callback (script.timeout)
	HTTPTimeout  time.Duration // longest wait for an HTTP answer (script.http.timeout; http() and http2() also end with the callback)
	AsyncMax     int           // httpAsync requests one script may have in flight (script.httpasync.max)
	FlowQueue    int           // flow records that may wait for one script's flow handler (script.flowqueue)
	Memory       int64         // bytes one script may hold (script.memory; 0: no limit; memory.go)
	Resolver     *net.Resolver // name lookups of http, syslog, graphite and dnsGetAllByName (nil: the system's)
	MaxCallStack int           // deepest JavaScript call stack
	RunCmd       bool          // runCmd() allowed (script.runcmd=yes; off by default)
	// Changed is told when a script changes what REST would save.
	Changed func(kind string)
	// Self is the engine's own REST address (http://127.0.0.1:8008): an
	// http() URL that is a path ('/script/ddos-protect~ddos.js/trend/json',
	// ddos-sonify's default) is asked of it. Empty: such URLs are refused.
	Self string
}

// Manager runs the scripts.
type Manager struct {
	deps    Deps
	mu      sync.Mutex
	scripts map[string]*Script
	apps    map[string][]string // app → its scripts' file names
	prints  map[string]string   // app → its scripts' names, sizes and times when started (appwatch.go)
	// rescanMu serialises LoadApps and RescanApps.
	rescanMu sync.Mutex
	shared   shared
	client   *http.Client
	stopMem  chan struct{} // ends the memory watcher
}

// NewManager returns a manager; scripts start with Load and LoadApps.
func NewManager(d Deps) *Manager {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.CallTimeout <= 0 {
		d.CallTimeout = 5 * time.Second
	}
	if d.MaxCallStack <= 0 {
		d.MaxCallStack = 1000
	}
	if d.HTTPTimeout <= 0 {
		d.HTTPTimeout = 30 * time.Second
	}
	if d.AsyncMax <= 0 {
		d.AsyncMax = 16
	}
	if d.FlowQueue <= 0 {
		d.FlowQueue = 100000
	}
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	setRegexpTimeout(d.CallTimeout)
	m := &Manager{deps: d, scripts: map[string]*Script{}, apps: map[string][]string{}, client: httpClient(d.Resolver)}
	if d.Memory > 0 {
		m.stopMem = make(chan struct{})
		go m.watchMemory(m.stopMem)
	}
	d.Engine.SubscribeFlows(m.flowRecord)
	if d.Thresholds != nil {
		d.Thresholds.Subscribe(m.event)
	}
	return m
}

// Load starts the script in file (as -Dscript.file does). It returns the
// script even when it fails to load (the error says why, and was logged).
func (m *Manager) Load(path string) (*Script, error) {
	return m.start(path, "", filepath.Base(path))
}

// LoadApps starts every app/<name>/scripts/*.js under dir.
func (m *Manager) LoadApps(dir string) error {
	apps, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("applications in %s: %w", dir, err)
	}
	m.rescanMu.Lock()
	defer m.rescanMu.Unlock()
	for _, a := range apps {
		if !a.IsDir() || strings.HasPrefix(a.Name(), ".") { // .<name>.tmp: an install in progress
			continue
		}
		m.startApp(dir, a.Name())
	}
	return nil
}

// start loads and runs one script. A script that cannot be read or
// compiled is listed all the same (not alive, with its error), so that
// /scripts/json and /status show it; the error is logged once, here, and
// returned.
func (m *Manager) start(path, app, id string) (*Script, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s := &Script{ID: id, App: app, Path: abs, m: m, vm: goja.New(),
		jobs: make(chan job, QueueLength), flowReady: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), loaded: make(chan struct{}),
		log: m.deps.Logger.With("script", id)}
	s.flows.max = m.deps.FlowQueue
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.root = filepath.Dir(abs)
	if app != "" {
		s.root = filepath.Dir(s.root) // app/<name>/scripts/x.js: the application's directory
	}
	src, err := readFile(abs)
	var prg *goja.Program
	if err == nil {
		s.Meta = readMeta(src)
		prg, err = compileScript(abs, src)
		if err == nil {
			err = checkWrapGlobals(s.Meta)
		}
	} else {
		err = fmt.Errorf("cannot read the script: %w", err)
	}
	if err != nil {
		s.notLoaded(err.Error(), false)
		close(s.loaded)
		close(s.done)
	} else {
		s.alive = true
	}
	s.vm.SetMaxCallStackSize(m.deps.MaxCallStack)
	s.vm.SetFieldNameMapper(goja.TagFieldNameMapper("json", true))
	s.store = newStore(m.deps.StoreDir, app, filepath.Base(path))
	m.mu.Lock()
	if old, ok := m.scripts[id]; ok {
		m.mu.Unlock()
		old.stop()
		m.mu.Lock()
	}
	m.scripts[id] = s
	if app != "" && !slices.Contains(m.apps[app], filepath.Base(path)) {
		m.apps[app] = append(m.apps[app], filepath.Base(path))
	}
	m.mu.Unlock()
	if err != nil {
		m.deps.Logger.Error("script not started", "script", id, "err", err)
		return s, err
	}
	bind(s)
	go s.run(prg)
	<-s.loaded // its top-level code has run (or was stopped after script.timeout)
	if st := s.Status(); st.Stopped != "" {
		return s, errors.New(st.Stopped) // halt logged it
	}
	if msg := s.LoadError(); msg != "" {
		m.deps.Logger.Error("script failed while loading: what it set up before the error runs", "script", id, "err", msg)
		return s, errors.New(msg)
	}
	m.deps.Logger.Info("script started", "script", id, "path", abs)
	return s, nil
}

// Stop stops every script.
func (m *Manager) Stop() {
	for _, s := range m.list() {
		s.stop()
	}
	m.client.CloseIdleConnections()
	if m.stopMem != nil {
		select {
		case <-m.stopMem:
		default:
			close(m.stopMem)
		}
	}
}

// Script returns a script by ID.
func (m *Manager) Script(id string) (*Script, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.scripts[id]
	return s, ok
}

// Statuses returns /scripts/json.
func (m *Manager) Statuses() map[string]Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Status{}
	for id, s := range m.scripts {
		out[id] = s.Status()
	}
	return out
}

// AppInfo is an entry of /apps/json, as sFlow-RT shapes it: entry is the
// page relative to the application ("/html/"; clients build
// /app/<name>/html/ from it), and scripts are the same strings as the keys
// of /scripts/json (<app>/<file>.js), so that a client can tell which
// application a script's status belongs to.
type AppInfo struct {
	Entry   string   `json:"entry,omitempty"`
	Scripts []string `json:"scripts"`
}

// Apps returns /apps/json.
func (m *Manager) Apps(dir string) map[string]AppInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]AppInfo{}
	for app, scripts := range m.apps {
		info := AppInfo{Scripts: []string{}}
		for _, f := range scripts {
			info.Scripts = append(info.Scripts, app+"/"+f)
		}
		if _, err := os.Stat(filepath.Join(dir, app, "html", "index.html")); err == nil {
			info.Entry = "/html/"
		}
		out[app] = info
	}
	return out
}

// AppOK answers /app/{name}/status: known, and every script alive or ended
// cleanly.
func (m *Manager) AppOK(app string) (ok, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, known = m.apps[app]; !known {
		return false, false
	}
	for _, s := range m.scripts {
		if s.App == app && !s.OK() {
			return false, true
		}
	}
	return true, true
}

// AllOK answers /status.
func (m *Manager) AllOK() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.scripts {
		if !s.OK() {
			return false
		}
	}
	return true
}

// flowRecord hands a logged flow to every script that asked for it.
func (m *Manager) flowRecord(r engine.FlowRecord) {
	m.each(func(s *Script) {
		if s.handlers.flow == nil || s.handlers.flowNames != nil && !s.handlers.flowNames[r.Name] {
			return
		}
		s.queueFlow(r)
	})
}

// event hands a threshold event to every script that asked for it.
func (m *Manager) event(ev threshold.Event) {
	m.each(func(s *Script) {
		if s.handlers.event == nil || s.handlers.eventIDs != nil && !s.handlers.eventIDs[ev.ThresholdID] {
			return
		}
		s.stats.eventsReceived.Add(1)
		s.enqueue(jobEvent, func(vm *goja.Runtime) error {
			// Handlers are set on this goroutine: read the current one, which
			// may have been cleared since.
			if fn := s.handlers.event; fn != nil {
				_, err := fn(goja.Undefined(), recordJS(vm, ev))
				return err
			}
			return nil
		})
	})
}

// list returns the scripts now running, taken under the lock so that the
// caller may call into them without it.
func (m *Manager) list() []*Script {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.scripts))
}

// each calls fn for every script, with the script's handlers read-locked.
func (m *Manager) each(fn func(s *Script)) {
	for _, s := range m.list() {
		s.handlersMu.RLock()
		fn(s)
		s.handlersMu.RUnlock()
	}
}

// extraFile finds include('extras/…') files that flowrt ships.
func extraFile(name string) (string, bool) {
	b, err := fs.ReadFile(extras, strings.TrimPrefix(filepath.ToSlash(name), "/"))
	if err != nil {
		return "", false
	}
	return string(b), true
}

// recordJS builds the handler's argument directly for the two kinds that
// arrive at flow rate (a JSON round trip cost 5 µs a record); other values
// go through toJS.
func recordJS(vm *goja.Runtime, v any) goja.Value {
	o := vm.NewObject()
	switch r := v.(type) {
	case engine.FlowRecord:
		o.Set("flowID", r.FlowID)
		o.Set("name", r.Name)
		o.Set("flowKeys", r.FlowKeys)
		o.Set("value", r.Value)
		if len(r.Values) > 0 {
			o.Set("values", vm.ToValue(floats(r.Values)))
		}
		o.Set("start", r.Start)
		o.Set("end", r.End)
		o.Set("agent", r.Agent)
		o.Set("dataSource", r.DataSource)
	case threshold.Event:
		o.Set("eventID", r.EventID)
		o.Set("timestamp", r.Timestamp)
		o.Set("thresholdID", r.ThresholdID)
		o.Set("metric", r.Metric)
		o.Set("threshold", r.Threshold)
		o.Set("value", r.Value)
		o.Set("agent", r.Agent)
		o.Set("dataSource", r.DataSource)
		if r.FlowKey != "" {
			o.Set("flowKey", r.FlowKey)
		}
		if len(r.Values) > 0 {
			o.Set("values", vm.ToValue(floats(r.Values)))
		}
	default:
		return toJS(vm, v)
	}
	return o
}

// floats makes a JavaScript array (not a wrapped Go slice) of values.
func floats(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// Problems lists, by script ID, why scripts are not OK ("ddos.js:
// SyntaxError: … at …"): every script's for /status (app ""), an
// application's for /app/<name>/status.
func (m *Manager) Problems(app string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, id := range slices.Sorted(maps.Keys(m.scripts)) {
		s := m.scripts[id]
		if s.OK() || app != "" && s.App != app {
			continue
		}
		st := s.Status()
		msg := st.LoadError
		if msg == "" {
			msg = st.Stopped
		}
		if msg == "" {
			msg = "stopped"
		}
		out = append(out, id+": "+msg)
	}
	return out
}
