package engine

import (
	"reflect"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// Leases let a client own a definition only while it keeps saying so: the
// web pages define their flows (ui_…) with a lease and renew it while they
// are shown; a page that goes away without deleting its definition (a
// closed laptop, a crashed browser) leaves it behind only until the lease
// lapses, not until the engine restarts.

// MinLease and MaxLease bound a lease.
const (
	MinLease = time.Second
	MaxLease = time.Hour
)

// DefineLeased defines name as Define does, to be removed when lease
// passes after now without another DefineLeased. When the definition is
// already there with the same spec, only the lease is renewed and the
// flows gathered so far are kept (renewed is true).
func (e *Engine) DefineLeased(name string, spec flow.Spec, lease time.Duration, now time.Time) (renewed bool, err error) {
	if lease < MinLease || lease > MaxLease {
		return false, errLease(lease)
	}
	until := now.Add(lease).UnixMilli()
	d, err := e.compiler.Define(name, spec)
	if err != nil {
		return false, err
	}
	e.defMu.Lock()
	s, ok := e.defs.Load().byName[name]
	if ok && reflect.DeepEqual(s.def.Spec, d.Spec) {
		s.lease.Store(until)
		e.defMu.Unlock()
		return true, nil
	}
	e.defMu.Unlock()
	if err := e.Define(name, spec); err != nil {
		return false, err
	}
	e.defMu.Lock()
	defer e.defMu.Unlock()
	if s, ok := e.defs.Load().byName[name]; ok {
		s.lease.Store(until)
	}
	return false, nil
}

type leaseError time.Duration

func errLease(d time.Duration) error { return leaseError(d) }

func (l leaseError) Error() string {
	return "lease " + time.Duration(l).String() + " is out of range: give " + MinLease.String() + " to " + MaxLease.String() + " (lease=<seconds>)"
}

// Leases returns the definitions that have a lease, with when it ends.
func (e *Engine) Leases() map[string]time.Time {
	out := map[string]time.Time{}
	for name, s := range e.defs.Load().byName {
		if ms := s.lease.Load(); ms != 0 {
			out[name] = time.UnixMilli(ms)
		}
	}
	return out
}

// expireLeases removes the definitions whose lease ended before now (the
// wall clock: a lease is a promise between the engine and a client, not
// part of the traffic's time).
func (e *Engine) expireLeases(now time.Time) {
	ms := now.UnixMilli()
	for name, s := range e.defs.Load().byName {
		until := s.lease.Load()
		if until == 0 || until >= ms {
			continue
		}
		e.defMu.Lock()
		// Still the same definition with the same lease: not renewed or
		// replaced since it was read.
		cur, ok := e.defs.Load().byName[name]
		removed := ok && cur == s && s.lease.Load() == until && e.undefineLocked(name)
		e.defMu.Unlock()
		if removed {
			e.log.Info("flow definition removed: its lease lapsed without renewal", "flow", name,
				"lapsed", now.Sub(time.UnixMilli(until)).Round(time.Millisecond).String())
		}
	}
}
