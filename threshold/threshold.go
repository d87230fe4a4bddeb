// Package threshold watches metrics and flows against levels and turns
// crossings into events: the thresholds and events of sFlow-RT
// (/threshold/{name}/json, /events/json, setThreshold, setEventHandler,
// thresholdTriggered).
//
// The rule, per threshold and location (agent, data source and, for byFlow
// thresholds, flow key):
//
//   - armed, and the value rises above the level: one event; the location is
//     now triggered;
//   - triggered: no further event, however long the value stays above;
//   - it re-arms once the value has stayed at or below the level (or the
//     flow or metric has gone) for timeout seconds without a break.
//
// Values are checked every Interval (100 ms by default), so an event comes
// at most one interval after the smoothed value crosses the level.
package threshold

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/history"
	"github.com/flowrt/flowrt/internal/jsobj"
	"github.com/flowrt/flowrt/metric"
)

// Spec is a threshold as PUT to /threshold/{name}/json or given to
// setThreshold.
type Spec struct {
	Metric  string        `json:"metric"`
	Value   float64       `json:"value"`
	ByFlow  bool          `json:"byFlow"`
	Timeout float64       `json:"timeout"` // seconds; a fraction is allowed (ai-metrics sets 0.2)
	Filter  metric.Filter `json:"filter,omitempty"`
}

// DefaultTimeout is the re-arm time, in seconds, when a threshold sets
// none; MaxTimeout the longest (a year).
const (
	DefaultTimeout = 60
	MaxTimeout     = 366 * 24 * 3600
)

// ParseSpec reads a threshold in strict JSON or the JavaScript object form
// ({metric:'ddos', value:1000, byFlow:true, timeout:5}).
func ParseSpec(body []byte) (Spec, error) {
	var s Spec
	present, err := jsobj.DecodeObject(body, &s, "threshold", "metric", "value", "byFlow", "timeout", "filter")
	if err != nil {
		return Spec{}, err
	}
	if !present["value"] {
		return Spec{}, fmt.Errorf("threshold needs a value (the level)")
	}
	if !present["timeout"] {
		s.Timeout = DefaultTimeout
	}
	return s, s.validate()
}

func (s Spec) validate() error {
	if s.Metric == "" {
		return fmt.Errorf("threshold needs a metric (a metric or flow name)")
	}
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return fmt.Errorf("threshold value must be a number")
	}
	if math.IsNaN(s.Timeout) || s.Timeout < 0 || s.Timeout > MaxTimeout {
		return fmt.Errorf("threshold timeout %s is out of range: 0 to %d seconds (the time below the level before re-arming)", strconv.FormatFloat(s.Timeout, 'f', -1, 64), MaxTimeout)
	}
	return nil
}

// Event is a threshold crossing, as /events/json and setEventHandler
// deliver it.
type Event struct {
	EventID     int64     `json:"eventID"`
	Timestamp   int64     `json:"timestamp"`
	ThresholdID string    `json:"thresholdID"`
	Metric      string    `json:"metric"`
	Threshold   float64   `json:"threshold"`
	Value       float64   `json:"value"`
	Agent       string    `json:"agent"`
	DataSource  string    `json:"dataSource"`
	FlowKey     string    `json:"flowKey,omitempty"`
	Values      []float64 `json:"values,omitempty"`
}

// DefaultInterval is how often thresholds are checked.
const DefaultInterval = 100 * time.Millisecond

// Monitor holds the thresholds, their state and the event history.
type Monitor struct {
	e      *engine.Engine
	mu     sync.Mutex
	specs  map[string]Spec
	state  map[stateKey]*armState
	events *history.History[Event]
	subs   []func(Event)
	max    int // thresholds at most (thresholds.max; 0: no bound)
}

// SetLimit bounds the thresholds: past n, a new one is refused with an
// *engine.LimitError (each is checked every interval against every data
// source: docs/performance.md).
func (m *Monitor) SetLimit(n int) {
	m.mu.Lock()
	m.max = n
	m.mu.Unlock()
}

type stateKey struct {
	threshold, agent, dataSource, flowKey string
}

type armState struct {
	seen       bool  // above the level in the current check
	belowSince int64 // ms; 0 while above
}

// New returns a monitor keeping at most maxEvents events.
func New(e *engine.Engine, maxEvents int) *Monitor {
	return &Monitor{e: e, specs: map[string]Spec{}, state: map[stateKey]*armState{},
		events: history.New[Event](max(maxEvents, 1))}
}

// ValidName checks a threshold's name. It is a flow name plus '.':
// fabric-metrics names its thresholds after link speeds
// ("fm-2.5G-4-elephant"). A threshold's name is only a path segment and an
// event's thresholdID, never split on '.' (a flow name is: "<ds>.<flow>").
func ValidName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("threshold name must be 1 to 128 characters")
	}
	if strings.Trim(name, ".") == "" {
		return fmt.Errorf("threshold name %q needs a letter or digit", name)
	}
	if err := flow.ValidName(strings.ReplaceAll(name, ".", "_")); err != nil {
		return fmt.Errorf("threshold name %q may only contain letters, digits, '-', '_' and '.'", name)
	}
	return nil
}

// Set creates or replaces a threshold (its locations re-arm).
func (m *Monitor) Set(name string, s Spec) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := s.validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.specs[name]; !ok && m.max > 0 && len(m.specs) >= m.max {
		return &engine.LimitError{What: "thresholds", Max: m.max, Property: "thresholds.max",
			Hint: "delete one (DELETE /threshold/{name}/json)"}
	}
	m.specs[name] = s
	m.forget(name)
	return nil
}

// Clear removes a threshold; false when there was none.
func (m *Monitor) Clear(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.specs[name]; !ok {
		return false
	}
	delete(m.specs, name)
	m.forget(name)
	return true
}

func (m *Monitor) forget(name string) {
	for k := range m.state {
		if k.threshold == name {
			delete(m.state, k)
		}
	}
}

// Get returns a threshold.
func (m *Monitor) Get(name string) (Spec, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.specs[name]
	return s, ok
}

// All returns every threshold by name.
func (m *Monitor) All() map[string]Spec {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.specs)
}

// Events is the event history.
func (m *Monitor) Events() *history.History[Event] { return m.events }

// Subscribe calls fn with every new event (on the checking goroutine: fn
// must not block).
func (m *Monitor) Subscribe(fn func(Event)) {
	m.mu.Lock()
	m.subs = append(m.subs, fn)
	m.mu.Unlock()
}

// Triggered reports whether a threshold is triggered (not yet re-armed) at
// a location: agent, "<dataSource>.<metric>" and, for byFlow thresholds,
// the flow key — thresholdTriggered() of sFlow-RT scripts.
func (m *Monitor) Triggered(name, agent, dsMetric, flowKey string) bool {
	ds := dsMetric
	if i := lastDot(dsMetric); i >= 0 {
		ds = dsMetric[:i]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.specs[name].ByFlow {
		flowKey = ""
	}
	_, ok := m.state[stateKey{name, agent, ds, flowKey}]
	return ok
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// Run checks the thresholds every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			m.Check(now)
		}
	}
}

// Check evaluates every threshold at now (wall time; the engine maps it to
// its own clock, the capture's after a fast replay), records the events and
// returns how many there were.
func (m *Monitor) Check(now time.Time) int {
	now = m.e.Time(now)
	ms := now.UnixMilli()
	m.mu.Lock()
	specs := maps.Clone(m.specs)
	for _, st := range m.state {
		st.seen = false
	}
	m.mu.Unlock()
	var fired []Event
	for name, s := range specs {
		m.e.Above(s.Metric, s.Filter, s.ByFlow, s.Value, now, func(o engine.Observation) {
			k := stateKey{name, o.Agent, o.DataSource, ""}
			if s.ByFlow {
				k.flowKey = o.FlowKey // one state per flow; otherwise per data source, whichever flow is largest
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			if st, ok := m.state[k]; ok {
				st.seen, st.belowSince = true, 0
				return
			}
			m.state[k] = &armState{seen: true}
			fired = append(fired, Event{Timestamp: ms, ThresholdID: name, Metric: s.Metric, Threshold: s.Value,
				Value: o.Value, Agent: o.Agent, DataSource: o.DataSource, FlowKey: o.FlowKey, Values: o.Values})
		})
	}
	m.mu.Lock()
	for k, st := range m.state {
		if st.seen {
			continue
		}
		if st.belowSince == 0 {
			st.belowSince = ms
		}
		if ms-st.belowSince >= int64(specs[k.threshold].Timeout*1000) {
			delete(m.state, k) // re-armed
		}
	}
	subs := m.subs
	m.mu.Unlock()
	for _, ev := range fired {
		ev.EventID = m.events.Add(ev, func(e *Event, id int64) { e.EventID = id })
		for _, fn := range subs {
			fn(ev)
		}
	}
	return len(fired)
}
