// Package metric turns sFlow counter records into sFlow-RT's metrics — rates
// from counters (ifinoctets, ifinerrors …), gauges (load_one, mem_free …)
// and strings (host_name, os_name) — per data source, and summarises them
// across data sources (max:, sum:, med: …) for queries.
//
// Rates never spike: a counter that goes back (an agent restart, a cleared
// counter, a 64-bit counter reset) restarts the rate instead of producing one,
// and 32-bit counters that wrap once between samples are unwrapped.
package metric

// Value is a metric's latest value: a number or a string.
type Value struct {
	Num     float64
	Str     string
	IsStr   bool
	Updated int64 // ms
}

// Any returns the value as a JSON-ready number or string.
func (v Value) Any() any {
	if v.IsStr {
		return v.Str
	}
	return v.Num
}

// Set is the metrics of one data source. It is not safe for concurrent use;
// the engine guards each agent's sets with the agent's lock.
type Set struct {
	vals     map[string]Value
	counters map[string]uint64 // previous raw counter values
	now      int64             // ms of the sample being applied
	dt       float64           // seconds since the previous sample; 0: no rates
	logical  bool              // the sample is a virtual machine's or container's (virtual.go)
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{vals: map[string]Value{}, counters: map[string]uint64{}}
}

// Begin starts applying one counter sample taken at now (ms), dt seconds
// after the previous one. dt <= 0 (the first sample, or the agent restarted)
// means rates restart: counters are remembered, no rate is produced.
func (s *Set) Begin(now int64, dt float64) {
	s.now, s.dt = now, dt
	if dt <= 0 {
		clear(s.counters)
	}
}

// Get returns a metric's value.
func (s *Set) Get(name string) (Value, bool) {
	v, ok := s.vals[name]
	return v, ok
}

// Each calls fn for every metric.
func (s *Set) Each(fn func(name string, v Value)) {
	for k, v := range s.vals {
		fn(k, v)
	}
}

// Len returns the number of metrics.
func (s *Set) Len() int { return len(s.vals) }

// Gauge sets a numeric metric.
func (s *Set) Gauge(name string, v float64) {
	s.vals[name] = Value{Num: v, Updated: s.now}
}

// String sets a string metric from bytes, allocating only when it changed.
func (s *Set) String(name string, b []byte) {
	if old, ok := s.vals[name]; ok && old.IsStr && old.Str == string(b) {
		old.Updated = s.now
		s.vals[name] = old
		return
	}
	s.vals[name] = Value{Str: string(b), IsStr: true, Updated: s.now}
}

// Text sets a string metric.
func (s *Set) Text(name, v string) {
	s.vals[name] = Value{Str: v, IsStr: true, Updated: s.now}
}

// Counter32 records a 32-bit counter and sets the metric to its per-second
// rate; it returns the rate and whether there was one.
func (s *Set) Counter32(name string, v uint32) (float64, bool) {
	prev, seen := s.counters[name]
	s.counters[name] = uint64(v)
	if !seen || s.dt <= 0 {
		return 0, false
	}
	delta := uint32(v - uint32(prev)) // one wrap unwraps itself
	if delta > 1<<31 {
		return 0, false // went back: a reset, not 4 billion events
	}
	r := float64(delta) / s.dt
	s.Gauge(name, r)
	return r, true
}

// Counter64 is Counter32 for 64-bit counters, which never wrap in
// practice: going back is a reset.
func (s *Set) Counter64(name string, v uint64) (float64, bool) {
	prev, seen := s.counters[name]
	s.counters[name] = v
	if !seen || s.dt <= 0 || v < prev {
		return 0, false
	}
	r := float64(v-prev) / s.dt
	s.Gauge(name, r)
	return r, true
}

// Delta32 returns how much a 32-bit counter moved since the previous
// sample without setting a metric (for ratios such as CPU percentages).
func (s *Set) Delta32(name string, v uint32) (float64, bool) {
	prev, seen := s.counters[name]
	s.counters[name] = uint64(v)
	if !seen || s.dt <= 0 {
		return 0, false
	}
	d := uint32(v - uint32(prev))
	if d > 1<<31 {
		return 0, false
	}
	return float64(d), true
}

// Expire removes metrics not updated since before (ms) and reports whether
// any remain.
func (s *Set) Expire(before int64) bool {
	for k, v := range s.vals {
		if v.Updated < before {
			delete(s.vals, k)
		}
	}
	return len(s.vals) > 0
}
