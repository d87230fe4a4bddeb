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
