package script

import (
	"fmt"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// goja's interrupt (the watchdog behind script.timeout) stops JavaScript
// between two instructions; a built-in function written in Go runs to its
// end. Those whose run time a script can make unbounded are given a limit
// here:
//
//   - regular expressions that need backtracking (back-references,
//     look-arounds) run on regexp2, which stops a match after its
//     MatchTimeout. goja compiles them with regexp2's DefaultMatchTimeout,
//     set here to script.timeout: a match that long has outlived its
//     callback, which the watchdog has interrupted meanwhile, so the
//     callback ends when the match does (its no-match result is never
//     used). The other regular expressions run on Go's regexp, in linear
//     time.
//   - JSON.stringify checks for cycles against the whole path at every
//     level, quadratic in the depth (a 60,000-deep object took 8.5 s).
//     Called with a replacer function, it calls JavaScript at every value,
//     where the watchdog can stop it; without one it is given the identity
//     replacer, which changes nothing in the text. (An array of property
//     names as the replacer is passed on as is.)
//   - Array.prototype.sort without a compare function converts both sides
//     to strings in Go at every comparison (1,000,000 numbers: 16 s); it
//     is given the specification's comparison as a JavaScript function.
//   - Array.prototype.join (and toString, which calls it) recurses into
//     nested arrays in Go, quadratic in the depth: each level checks the
//     callback's deadline.

// regexpTimeout is regexp2's DefaultMatchTimeout, a process-wide setting
// read when goja compiles an expression: every manager sets it before its
// scripts run (there is one manager in flowrt; tests run them in turn).
var regexpTimeout sync.Mutex

func setRegexpTimeout(d time.Duration) {
	regexpTimeout.Lock()
	regexp2.DefaultMatchTimeout = d
	regexpTimeout.Unlock()
}

// bindNatives replaces the built-ins above with their bounded versions,
// and keeps the script's JSON.stringify for the API (s.jsonOf).
func bindNatives(s *Script) {
	vm := s.vm
	fn := func(src string) goja.Value {
		v, err := vm.RunString(src)
		if err != nil {
			panic(err) // fixed source
		}
		return v
	}
	identity := fn("(function (key, value) { return value; })")
	json := vm.Get("JSON").ToObject(vm)
	stringify, _ := goja.AssertFunction(json.Get("stringify"))
	s.stringify = func(v goja.Value, space goja.Value) (goja.Value, error) {
		return stringify(json, v, identity, space)
	}
	json.Set("stringify", func(c goja.FunctionCall) goja.Value {
		replacer := c.Argument(1)
		if _, ok := goja.AssertFunction(replacer); !ok && !isArray(replacer) {
			replacer = identity // not a function nor a list: ignored, as the specification says
		}
		v, err := stringify(json, c.Argument(0), replacer, c.Argument(2))
		if err != nil {
			panic(err) // the exception as thrown; an interrupt stays uncatchable
		}
		return v
	})

	array := vm.Get("Array").ToObject(vm).Get("prototype").ToObject(vm)
	// SortCompare for two defined values: their strings by UTF-16 code
	// units (a template literal converts as ToString does, Symbols throw).
	compare := fn("(function (x, y) { x = `${x}`; y = `${y}`; return x < y ? -1 : x > y ? 1 : 0; })")
	for _, name := range []string{"sort", "toSorted"} {
		orig, ok := goja.AssertFunction(array.Get(name))
		if !ok {
			continue
		}
		array.Set(name, func(c goja.FunctionCall) goja.Value {
			cmp := c.Argument(0)
			if goja.IsUndefined(cmp) {
				cmp = compare
			}
			v, err := orig(c.This, cmp)
			if err != nil {
				panic(err)
			}
			return v
		})
	}
	join, _ := goja.AssertFunction(array.Get("join"))
	array.Set("join", func(c goja.FunctionCall) goja.Value {
		s.checkDeadline()
		v, err := join(c.This, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return v
	})
	if s.m.deps.Memory > 0 {
		bindSizeLimits(s, array)
	}
}

// The built-ins whose work and memory a number sets, not data the script
// already has — 'x'.repeat(1e9), new Array(2e7).fill(0) (11 s and 960 MB
// in Go), new Array(1e8).join(), new Uint8Array(2 ** 31) — would allocate
// it in one call the watcher cannot interrupt. With script.memory set,
// each refuses (a RangeError) what could not fit in it: a string of more
// than script.memory/2 characters, an array operation over more than
// script.memory/16 elements (a JavaScript value takes 16 bytes), a buffer
// of more than script.memory bytes.
func bindSizeLimits(s *Script, array *goja.Object) {
	vm, budget := s.vm, s.m.deps.Memory
	maxChars, maxElems := budget/2, budget/16
	refuse := func(what string, n, max int64, unit string) {
		e, _ := vm.New(vm.Get("RangeError"), vm.ToValue(fmt.Sprintf("%s of %d %s: more than script.memory (%s) allows (%d)", what, n, unit, mb(budget), max)))
		panic(e)
	}
	wrap := func(o *goja.Object, name string, check func(c goja.FunctionCall)) {
		orig, ok := goja.AssertFunction(o.Get(name))
		if !ok {
			return
		}
		o.Set(name, func(c goja.FunctionCall) goja.Value {
			check(c)
			v, err := orig(c.This, c.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		})
	}
	str := vm.Get("String").ToObject(vm).Get("prototype").ToObject(vm)
	wrap(str, "repeat", func(c goja.FunctionCall) {
		if n := int64(len(c.This.String())) * c.Argument(0).ToInteger(); n > maxChars {
			refuse("a string", n, maxChars, "characters")
		}
	})
	for _, name := range []string{"padStart", "padEnd"} {
		wrap(str, name, func(c goja.FunctionCall) {
			if n := c.Argument(0).ToInteger(); n > maxChars {
				refuse("a string", n, maxChars, "characters")
			}
		})
	}
	length := func(v goja.Value) int64 {
		if o, ok := v.(*goja.Object); ok {
			return o.Get("length").ToInteger()
		}
		return 0
	}
	// Every method that walks the array in Go; not push, pop, shift,
	// unshift, at and the iterators, which take a step at a time.
	for _, name := range []string{"concat", "copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast",
		"findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce",
		"reduceRight", "reverse", "slice", "some", "sort", "splice", "toLocaleString", "toReversed", "toSorted",
		"toSpliced", "toString", "with"} {
		wrap(array, name, func(c goja.FunctionCall) {
			if n := length(c.This); n > maxElems {
				refuse("an array", n, maxElems, "elements")
			}
		})
	}
	wrap(vm.Get("Array").ToObject(vm), "from", func(c goja.FunctionCall) {
		if n := length(c.Argument(0)); n > maxElems {
			refuse("an array", n, maxElems, "elements")
		}
	})
	// Buffers: each constructor replaced by one that checks the size asked
	// and constructs the original; it shares the original's prototype (so
	// instanceof and subclasses work) and static members. (A Proxy would be
	// simpler, but goja's instanceof refuses a Proxy.)
	check, _ := vm.RunString(`(function (limit, refuse) {
  for (const name of ['ArrayBuffer', 'SharedArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
      'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
    const C = globalThis[name];
    if (typeof C != 'function') continue;
    const per = C.BYTES_PER_ELEMENT || 1, buffer = globalThis.ArrayBuffer;
    const W = function (...args) {
      if (new.target === undefined) throw new TypeError('Constructor ' + name + ' requires \'new\'');
      const a = args[0];
      const n = typeof a == 'number' ? a :
        a !== null && typeof a == 'object' && !(a instanceof buffer) && typeof a.length == 'number' ? a.length : 0;
      if (n * per > limit) refuse(n * per);
      return Reflect.construct(C, args, new.target === W ? C : new.target);
    };
    for (const k of Reflect.ownKeys(C)) {
      if (k !== 'length' && k !== 'name' && k !== 'prototype') Object.defineProperty(W, k, Object.getOwnPropertyDescriptor(C, k));
    }
    Object.defineProperty(W, 'name', {value: name});
    Object.defineProperty(W, 'prototype', {value: C.prototype});
    Object.defineProperty(C.prototype, 'constructor', {value: W, writable: true, configurable: true});
    Object.setPrototypeOf(W, Object.getPrototypeOf(C));
    globalThis[name] = W;
  }
})`)
	fn, _ := goja.AssertFunction(check)
	if _, err := fn(goja.Undefined(), vm.ToValue(budget), vm.ToValue(func(c goja.FunctionCall) goja.Value {
		refuse("a buffer", c.Argument(0).ToInteger(), budget, "bytes")
		return nil
	})); err != nil {
		panic(err) // fixed source
	}
}

func isArray(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ClassName() == "Array"
}

// checkDeadline interrupts the script when its callback has run out of
// time, from inside a built-in the watchdog cannot stop: the exception
// thrown here unwinds the Go code, and the interrupt stops the script at
// the next instruction, a catch block's included.
func (s *Script) checkDeadline() {
	s.watchMu.Lock()
	start := s.execStart
	s.watchMu.Unlock()
	limit := s.m.deps.CallTimeout
	if start == 0 || time.Since(time.Unix(0, start)) < limit {
		return
	}
	msg := fmt.Sprintf("ran longer than %v (script.timeout)", limit)
	s.vm.Interrupt(msg)
	panic(s.vm.ToValue("interrupted: " + msg)) // worded as the watchdog's interrupt
}

// jsonOf is a value's JSON text as the script's JSON.stringify writes it
// (functions and undefined left out, Dates as ISO strings), for the
// parsers REST uses; "null" for undefined. A cycle throws, as it does in
// JavaScript.
func (s *Script) jsonOf(v goja.Value) []byte {
	if !present(v) {
		return []byte("null")
	}
	r, err := s.stringify(v, goja.Undefined())
	if err != nil {
		panic(err)
	}
	if !present(r) {
		return []byte("null") // a function, a Symbol
	}
	return []byte(r.String())
}
