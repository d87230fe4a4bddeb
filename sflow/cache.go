package sflow

import "unsafe"

// RecordCache holds one reusable value per record structure, so that a
// decoder can decode every record of every datagram into values it already
// has: no allocation after the first record of each kind, and no type lookup
// per record.
type RecordCache struct {
	flow, counter [1 << 12]*cached // enterprise 0, by format number
	other         map[recordKey]*cached
}

type recordKey struct {
	counter bool
	format  DataFormat
}

type cached struct {
	v   any // nil: no structure for this format
	p   *plan
	ptr unsafe.Pointer
}

// Decode decodes rec, a record of a sample of the given format, into the
// cached value for its structure and returns it (a pointer to one of this
// package's record structures). v is nil, with no error, for formats that
// have no structure. The value is overwritten by the next Decode of the same
// format.
func (c *RecordCache) Decode(sample DataFormat, rec Record) (v any, err error) {
	e := c.entry(sample.IsCounter(), rec.Format)
	if e.v == nil {
		return nil, nil
	}
	r := reader{b: rec.Data}
	e.p.decode(&r, e.ptr)
	if r.err != nil {
		return e.v, r.err.(*Error).at(rec.Offset, 0, 0, rec.Format)
	}
	return e.v, nil
}

// Flow returns the cached value for flow record format f, or nil when f is
// not a known flow record.
func (c *RecordCache) Flow(f DataFormat) any { return c.entry(false, f).v }

// Counter is Flow for counter records.
func (c *RecordCache) Counter(f DataFormat) any { return c.entry(true, f).v }

func (c *RecordCache) entry(counter bool, f DataFormat) *cached {
	var slot **cached
	if f.Enterprise() == 0 {
		if counter {
			slot = &c.counter[f.Format()]
		} else {
			slot = &c.flow[f.Format()]
		}
	} else {
		if c.other == nil {
			c.other = map[recordKey]*cached{}
		}
		e, ok := c.other[recordKey{counter, f}]
		if !ok {
			e = newCached(counter, f)
			c.other[recordKey{counter, f}] = e
		}
		return e
	}
	if *slot == nil {
		*slot = newCached(counter, f)
	}
	return *slot
}

func newCached(counter bool, f DataFormat) *cached {
	var v any
	if counter {
		v = NewCounterRecord(f)
	} else {
		v = NewFlowRecord(f)
	}
	if v == nil {
		return &cached{}
	}
	p, ptr, _ := planOf(v)
	return &cached{v: v, p: p, ptr: ptr}
}
