package bgp

import (
	"math"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// Traffic per learned prefix, for bgpTopPrefixes (docs/bgp.md). Each
// sample of an attributed agent adds its value (bytes or frames, scaled by
// the sampling rate) to the counters of the longest prefixes that cover its
// destination and its source; a once-a-second tick turns what was added
// into a rate smoothed over bgpAddSource's t seconds.

// Direction selects the address a prefix's traffic is counted by.
const (
	Destination = 0 // egress: the sample's destination address
	Source      = 1 // ingress: its source address
)

// counter is one prefix's (or a family's total) traffic.
type counter struct {
	acc  atomic.Uint64 // value added since the last tick
	rate atomic.Uint64 // float64 bits: smoothed value per second
}

func (c *counter) value() float64 { return math.Float64frombits(c.rate.Load()) }

// DefaultSmoothing is bgpAddSource's t when a script gives none (seconds).
const DefaultSmoothing = 10

// SetCounting sets how the RIB's traffic is counted: smoothing over t
// seconds, and frames rather than bytes.
func (r *RIB) SetCounting(t float64, frames bool) {
	if t <= 0 {
		t = DefaultSmoothing
	}
	r.smooth.Store(math.Float64bits(t))
	r.frames.Store(frames)
}

// Counting returns the smoothing (seconds) and whether frames are counted.
func (r *RIB) Counting() (t float64, frames bool) {
	t = math.Float64frombits(r.smooth.Load())
	if t <= 0 {
		t = DefaultSmoothing
	}
	return t, r.frames.Load()
}

// count adds v to the prefixes covering dst and src (either may be
// invalid). A prefix seen for the first time takes the write lock and
// allocates its counter; after that a sample allocates nothing.
func (r *RIB) count(src, dst netip.Addr, v uint64) {
	fam := 0
	if !dst.Is4() && (dst.IsValid() || !src.Is4()) {
		fam = 1
	}
	var cd, cs *counter
	var pd, ps netip.Prefix
	var okd, oks bool
	r.mu.RLock()
	t := &r.v4
	if fam == 1 {
		t = &r.v6
	}
	if dst.IsValid() {
		if pd, _, okd = t.LookupPrefixLPM(netip.PrefixFrom(dst, dst.BitLen())); okd {
			cd = r.traffic[Destination][pd]
		}
	}
	if src.IsValid() && src.Is4() == (fam == 0) {
		if ps, _, oks = t.LookupPrefixLPM(netip.PrefixFrom(src, src.BitLen())); oks {
			cs = r.traffic[Source][ps]
		}
	}
	r.mu.RUnlock()
	if (okd && cd == nil) || (oks && cs == nil) {
		r.mu.Lock()
		if okd && cd == nil {
			cd = r.counterLocked(Destination, pd)
		}
		if oks && cs == nil {
			cs = r.counterLocked(Source, ps)
		}
		r.mu.Unlock()
	}
	r.total[fam].acc.Add(v)
	if cd != nil {
		cd.acc.Add(v)
	}
	if cs != nil {
		cs.acc.Add(v)
	}
}

func (r *RIB) counterLocked(dir int, p netip.Prefix) *counter {
	if c := r.traffic[dir][p]; c != nil {
		return c
	}
	c := &counter{}
	r.traffic[dir][p] = c
	return c
}

// idleRate is the rate below which a counter that saw nothing in a tick is
// dropped (its prefix has had no traffic for many smoothing periods).
const idleRate = 1e-3

// tick folds what was counted in the last dt seconds into the smoothed
// rates, and forgets counters that have gone quiet.
func (r *RIB) tick(dt float64) {
	t, _ := r.Counting()
	a := 1 - math.Exp(-dt/t)
	fold := func(c *counter) bool {
		d := float64(c.acc.Swap(0))
		old := c.value()
		nw := old + (d/dt-old)*a
		c.rate.Store(math.Float64bits(nw))
		return d == 0 && nw < idleRate
	}
	var idle [2][]netip.Prefix
	r.mu.RLock()
	for i := range r.total {
		fold(&r.total[i])
	}
	for dir := range r.traffic {
		for p, c := range r.traffic[dir] {
			if fold(c) {
				idle[dir] = append(idle[dir], p)
			}
		}
	}
	r.mu.RUnlock()
	if len(idle[0])+len(idle[1]) == 0 {
		return
	}
	r.mu.Lock()
	for dir := range idle {
		for _, p := range idle[dir] {
			if c := r.traffic[dir][p]; c != nil && c.acc.Load() == 0 {
				delete(r.traffic[dir], p)
			}
		}
	}
	r.mu.Unlock()
}

// CountSample is the per-sample hook (flow.BGPRoutes): the sample's value
// goes to the prefixes of the router its agent is attributed to. It
// allocates nothing once the prefixes have counters.
func (s *Speaker) CountSample(smp *flow.Sample) {
	src, ok := s.sourceOf(smp.Agent)
	if !ok {
		return
	}
	dst, okd := smp.DestinationAddr()
	sa, oks := smp.SourceAddr()
	if !okd && !oks {
		return
	}
	n := src.v4
	if (okd && !dst.Unmap().Is4()) || (!okd && !sa.Unmap().Is4()) {
		n = src.v6
	}
	if n == nil {
		return
	}
	v := uint64(max(smp.SamplingRate, 1))
	if !n.RIB.frames.Load() {
		v *= uint64(smp.FrameLength)
	}
	n.RIB.count(sa.Unmap(), dst.Unmap(), v)
}

// tickLoop drives the RIBs' ticks until stop is closed.
func (s *Speaker) tickLoop(stop <-chan struct{}) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-tk.C:
			dt := now.Sub(last).Seconds()
			last = now
			for _, n := range s.Neighbors() {
				n.RIB.tick(dt)
			}
		}
	}
}
