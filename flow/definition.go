package flow

import (
	"fmt"
	"math"
)

// Definition is a compiled flow definition.
type Definition struct {
	Name  string
	Spec  Spec     // as stored (see Spec.Stored)
	Notes []string // what storing changed, or what has no effect

	keys   []Expr
	value  valueExpr
	values []valueExpr
	filter *Filter
	idle   int64 // ms without a sample after which a flow has ended
}

// Smoothing epochs: a table's values are kept relative to a landmark time
// that moves on every epochSpan time constants (see Table).
const epochSpan = 100

// ValidName reports whether name can name a flow, threshold, group set,
// map or forwarding session: it becomes a path segment, a metric name or a
// key function argument.
func ValidName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("name must be 1 to 128 characters")
	}
	for _, c := range name {
		if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return fmt.Errorf("name %q may only contain letters, digits, '-' and '_'", name)
		}
	}
	return nil
}

// Define compiles spec (already parsed, see ParseSpec). Errors name the
// token that is wrong.
func (c *Compiler) Define(name string, spec Spec) (*Definition, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	spec, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	spec, notes := spec.Stored()
	d := &Definition{Name: name, Spec: spec, Notes: notes}
	for _, k := range spec.Keys {
		e, err := c.Key(k)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		d.keys = append(d.keys, e)
	}
	if d.value, err = c.valueOf(spec.Value); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	for _, v := range spec.Values {
		ve, err := c.valueOf(v)
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		d.values = append(d.values, ve)
	}
	if d.filter, err = c.Filter(spec.Filter); err != nil {
		return nil, err
	}
	d.idle = IdleTimeout(spec.T).Milliseconds()
	return d, nil
}

// valueExpr is what a sample adds to its flow: one frame, its bytes (or
// bits), or a numeric key, as a rate or through a value function (see
// values.go).
type valueExpr struct {
	fn            valueFn
	frames, bytes bool
	bits          bool // bps: bytes × 8
	k             Expr
}

// valueOf compiles a value. The named values of InMon's pages mean what
// they say: fps is frames per second (frames), bps bits per second (the
// frame's bytes × 8), not bytes. A function prefix (avg:, min:, max:,
// count:, last:, rate:) applies to any of them (dtn's avg:bytes is the
// mean frame length).
func (c *Compiler) valueOf(src string) (valueExpr, error) {
	fn, src := splitValueFn(src)
	switch src {
	case "frames", "fps":
		return valueExpr{fn: fn, frames: true}, nil
	case "bytes":
		return valueExpr{fn: fn, bytes: true}, nil
	case "bps":
		return valueExpr{fn: fn, bytes: true, bits: true}, nil
	}
	k, err := c.Key(src)
	if err != nil {
		return valueExpr{}, err
	}
	return valueExpr{fn: fn, k: k}, nil
}

// eval returns what the sample gives the value: x, or for count: the hash
// of the key's text.
func (v valueExpr) eval(s *Sample, buf *[]byte) (x float64, h uint64, ok bool) {
	switch {
	case v.frames:
		return 1, 1, true
	case v.bits:
		return 8 * float64(s.FrameLength), uint64(s.FrameLength), true
	case v.bytes:
		return float64(s.FrameLength), uint64(s.FrameLength), true
	}
	b, ok := v.k.AppendValue(s, (*buf)[:0])
	*buf = b[:0] // keep the grown buffer: the next sample appends without allocating
	if !ok {
		return 0, 0, false
	}
	if v.fn == fnCount {
		return 1, hashValue(b), true
	}
	x, ok = parseValue(b)
	return x, 0, ok
}

// Values returns the number of extra values (the spec's values).
func (d *Definition) Values() int { return len(d.values) }

// Keyless reports whether the definition has no keys: one flow, the total.
func (d *Definition) Keyless() bool { return len(d.keys) == 0 }

// Scratch is the per-goroutine working memory of Eval, and what it found
// for Table.Add.
type Scratch struct {
	Key []byte
	tmp []byte
	// Values are the extra values the sample adds: for rates, the value
	// times the sampling rate; for value functions, the sample's own x.
	Values []float64
	hashes []uint64 // count: values' hashes, by value
	has    []bool   // whether the sample had each extra value
	h      uint64   // the hash of the value, when it is count:
	weight float64  // the sampling rate
}

// Eval filters the sample, builds its flow key into sc.Key and returns the
// value it adds (for a rate, already multiplied by the sampling rate; for
// a value function, the sample's x) and the extra values in sc. ok is
// false when the sample does not match or lacks a key or the value.
func (d *Definition) Eval(s *Sample, sc *Scratch) (value float64, ok bool) {
	if !d.filter.Match(s, &sc.tmp) {
		return 0, false
	}
	key := sc.Key[:0]
	for i, k := range d.keys {
		if i > 0 {
			key = append(key, d.Spec.FS...)
		}
		if key, ok = k.AppendValue(s, key); !ok {
			sc.Key = key[:0]
			return 0, false
		}
	}
	sc.Key = key
	rate := float64(max(s.SamplingRate, 1))
	v, h, ok := d.value.eval(s, &sc.tmp)
	if !ok {
		return 0, false
	}
	sc.h, sc.weight = h, rate
	sc.Values, sc.hashes, sc.has = sc.Values[:0], sc.hashes[:0], sc.has[:0]
	for _, ve := range d.values {
		x, h, ok := ve.eval(s, &sc.tmp)
		if !ok {
			x = 0
		}
		if ve.fn == fnRate {
			x *= rate
		}
		sc.Values, sc.hashes, sc.has = append(sc.Values, x), append(sc.hashes, h), append(sc.has, ok)
	}
	if d.value.fn == fnRate {
		v *= rate
	}
	return v, true
}

// Factor returns the weight of a sample taken at now (ms) in a table of
// this definition, and the epoch it belongs to (see Table).
func (d *Definition) Factor(now int64) (g float64, epoch int64) {
	x := float64(now) / 1000 / d.Spec.T
	epoch = int64(x / epochSpan)
	return math.Exp(x - float64(epoch*epochSpan)), epoch
}

// Idle is how long a flow of this definition lasts without samples.
func (d *Definition) Idle() int64 { return d.idle }
