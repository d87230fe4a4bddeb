package script

import (
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/dop251/goja"
)

// sizeOf estimates the bytes a script holds: everything reachable from its
// goja runtime and its handlers' functions, each object once, walked with
// reflection (goja keeps no account of its own). It stops once the total
// passes limit (limit ≤ 0: no limit), so that a runaway script costs at
// most a budget's worth of walking. It counts what values point to —
// structs, slices to their capacity, strings, maps (their buckets
// estimated), a boxed value for each interface that holds one — and not
// what Go functions capture, which reflection cannot see: the script's
// JavaScript functions are goja objects and are walked, the API's Go
// functions are not.
//
// It runs on the script's goroutine, between callbacks, when nothing else
// changes the runtime. The only fields of goja's that another goroutine
// touches (Interrupt) are in the runtime's vm, which is skipped: between
// callbacks it holds none of the script's values.
func sizeOf(limit int64, roots ...any) int64 {
	w := walker{limit: limit, seen: map[uintptr]*region{}, plans: map[reflect.Type]*plan{}}
	for _, r := range roots {
		w.visit(reflect.ValueOf(r))
	}
	w.run()
	return w.total
}

// A region is 64 MB of address space, one bit per 8-byte word: an object
// is counted once, and the walk of a 300 MB heap keeps 5 MB of bits.
const regionShift = 26

type region [1 << (regionShift - 3 - 6)]uint64

type walker struct {
	seen  map[uintptr]*region
	plans map[reflect.Type]*plan
	// The plan of the last interface's dynamic type: goja's values are
	// interfaces, most of one type in a row.
	lastType reflect.Type
	lastPlan *plan
	total    int64
	limit    int64
	work     []item             // depth first; a slice or a map yields its elements one at a time
	iters    []*reflect.MapIter // done with, to reuse
}

// plan is what the walk needs to know of a type, worked out once a walk.
type plan struct {
	kind   reflect.Kind
	size   int64
	walk   bool    // it can lead to more memory
	skip   bool    // not the script's data (skipType)
	fields []field // a struct's fields to walk
	elem   *plan   // pointer, slice, array: the element's; map: the value's
	key    *plan   // map
	// A map's entries are copied into these (see mapItem); one pair per
	// type serves every map of it, each entry being read before the next.
	k, e reflect.Value
}

type field struct {
	i int
	p *plan
}

func (w *walker) plan(t reflect.Type) *plan {
	if p := w.plans[t]; p != nil {
		return p
	}
	p := &plan{kind: t.Kind(), size: int64(t.Size()), walk: hasPointers(t), skip: skipType(t)}
	w.plans[t] = p // before the parts: a type may refer to itself
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		p.elem = w.plan(t.Elem())
	case reflect.Map:
		p.key, p.elem = w.plan(t.Key()), w.plan(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if hasPointers(f.Type) && !skipType(f.Type) && !(t == runtimeType && f.Name == "vm") {
				p.fields = append(p.fields, field{i, w.plan(f.Type)})
			}
		}
	}
	return p
}

type item struct {
	one    bool // v itself (a pointer's target), not its elements
	v      reflect.Value
	i      int              // the next element of a slice or an array
	iter   *reflect.MapIter // a map's entries
	p, key *plan            // the elements' (a map's values'), a map's keys'
	// A map's entries are copied into these, when the map can be
	// (reflect's Key and Value allocate a copy of each).
	k, e reflect.Value
}

// first marks the word at p and says whether it was not marked yet.
func (w *walker) first(p uintptr) bool {
	if p == 0 {
		return false
	}
	r := w.seen[p>>regionShift]
	if r == nil {
		r = new(region)
		w.seen[p>>regionShift] = r
	}
	word := (p & (1<<regionShift - 1)) >> 3
	bit := uint64(1) << (word & 63)
	if r[word>>6]&bit != 0 {
		return false
	}
	r[word>>6] |= bit
	return true
}

func (w *walker) over() bool { return w.limit > 0 && w.total > w.limit }

func (w *walker) run() {
	for len(w.work) > 0 && !w.over() {
		it := &w.work[len(w.work)-1]
		switch {
		case it.one:
			v, p := it.v, it.p
			w.work = w.work[:len(w.work)-1]
			w.visitPlan(v, p)
		case it.iter != nil:
			if !it.iter.Next() {
				it.iter.Reset(reflect.Value{})
				w.iters = append(w.iters, it.iter)
				w.work = w.work[:len(w.work)-1]
				continue
			}
			k, e := it.k, it.e
			if k.IsValid() {
				k.SetIterKey(it.iter)
				e.SetIterValue(it.iter)
			} else {
				k, e = it.iter.Key(), it.iter.Value()
			}
			if it.key.walk {
				w.visitPlan(k, it.key)
			}
			if it.p.walk {
				w.visitPlan(e, it.p)
			}
		default:
			if it.i >= it.v.Len() {
				w.work = w.work[:len(w.work)-1]
				continue
			}
			e := it.v.Index(it.i)
			it.i++
			w.visitPlan(e, it.p)
		}
	}
}

// visit counts what v points to and queues what that holds. Structs are
// visited in place (their size is their holder's); elements of slices and
// maps through the work list, so that neither a deep nor a wide structure
// makes the walk itself deep.
func (w *walker) visit(v reflect.Value) {
	if !v.IsValid() {
		return
	}
	w.visitPlan(v, w.plan(v.Type()))
}

func (w *walker) visitPlan(v reflect.Value, p *plan) {
	if !p.walk {
		return
	}
	switch p.kind {
	case reflect.Pointer:
		if p.elem.skip || v.IsNil() || !w.first(v.Pointer()) {
			return
		}
		w.total += alloc(p.elem.size)
		// Queued, not visited here: a linked list (goja's Map) would make
		// the walk as deep as the list is long.
		w.work = append(w.work, item{one: true, v: v.Elem(), p: p.elem})
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		et := e.Type()
		ep := w.lastPlan
		if et != w.lastType {
			ep = w.plan(et)
			w.lastType, w.lastPlan = et, ep
		}
		if ep.skip {
			return
		}
		switch ep.kind {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		default:
			w.total += alloc(ep.size) // a boxed value (a box shared by many holders counts for each)
		}
		w.visitPlan(e, ep)
	case reflect.String:
		if n := v.Len(); n > 0 && w.first(uintptr(unsafe.Pointer(unsafe.StringData(v.String())))) {
			w.total += alloc(int64(n)) // the bytes once, however many strings share them
		}
	case reflect.Slice:
		if v.IsNil() || !w.first(v.Pointer()) {
			return
		}
		w.total += alloc(int64(v.Cap()) * p.elem.size)
		if p.elem.walk {
			w.work = append(w.work, item{v: v, p: p.elem})
		}
	case reflect.Array:
		if p.elem.walk {
			w.work = append(w.work, item{v: v, p: p.elem})
		}
	case reflect.Map:
		if v.IsNil() || !w.first(v.Pointer()) {
			return
		}
		w.total += mapBytes(v.Len(), p.key.size+p.elem.size)
		if p.key.walk || p.elem.walk {
			w.work = append(w.work, w.mapItem(v, p))
		}
	case reflect.Struct:
		for _, f := range p.fields {
			w.visitPlan(v.Field(f.i), f.p)
		}
	}
}

// mapItem iterates a map. Its entries are copied into two reused values
// when that is safe: the map can be read as exported (it is addressable:
// reflect refuses SetIter* on a map read from an unexported field) and its
// keys and values are pointers, strings or interfaces, which the walk reads
// at once, not slices, arrays, maps or structs, which it may queue.
func (w *walker) mapItem(v reflect.Value, p *plan) item {
	it := item{v: v, p: p.elem, key: p.key}
	direct := func(q *plan) bool {
		return q.kind == reflect.Pointer || q.kind == reflect.String || q.kind == reflect.Interface || !q.walk
	}
	if v.CanAddr() && direct(p.key) && direct(p.elem) {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
		if !p.k.IsValid() {
			t := v.Type()
			p.k, p.e = reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		}
		it.k, it.e = p.k, p.e
	}
	if n := len(w.iters); n > 0 {
		it.iter = w.iters[n-1]
		w.iters = w.iters[:n-1]
		it.iter.Reset(v)
	} else {
		it.iter = v.MapRange()
	}
	return it
}

// mapBytes estimates a Go map of n entries of kv bytes: swiss tables of
// groups of 8 slots (keys, values and a control byte each), one group up to
// 8 entries, beyond that a power of two of slots filled to 7/8 at most.
func mapBytes(n int, kv int64) int64 {
	slots := int64(8)
	for slots*7/8 < int64(n) {
		slots *= 2
	}
	return 48 + alloc(slots*(kv+1))
}

// alloc is what an allocation of n bytes takes: Go rounds small objects up
// to a size class (here approximately: 8, 16, then steps of 16 to 128, of
// 64 to 1 KB, of 512 to 8 KB) and large ones to pages.
func alloc(n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 8:
		return 8
	case n <= 128:
		return (n + 15) &^ 15
	case n <= 1024:
		return (n + 63) &^ 63
	case n <= 8192:
		return (n + 511) &^ 511
	}
	return (n + 8191) &^ 8191
}

var runtimeType = reflect.TypeOf(goja.Runtime{})

var (
	pointersMu sync.RWMutex
	pointers   = map[reflect.Type]bool{}
)

// hasPointers says whether a value of t can lead to more memory.
func hasPointers(t reflect.Type) bool {
	pointersMu.RLock()
	p, ok := pointers[t]
	pointersMu.RUnlock()
	if ok {
		return p
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.String, reflect.Slice, reflect.Map:
		p = true
	case reflect.Array:
		p = t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		pointersMu.Lock()
		pointers[t] = false // a struct that refers to itself through a pointer is true through that pointer
		pointersMu.Unlock()
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				p = true
				break
			}
		}
	}
	pointersMu.Lock()
	pointers[t] = p
	pointersMu.Unlock()
	return p
}

// skipType: what is not the script's data — locks and atomics (another
// goroutine may hold them), reflection's and the runtime's own tables, the
// collation tables goja may point to.
func skipType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	return p == "sync" || p == "sync/atomic" || p == "reflect" || p == "unsafe" || p == "runtime" ||
		strings.HasPrefix(p, "internal/") || strings.HasPrefix(p, "golang.org/x/text") || p == "hash/maphash"
}
