package script

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/dop251/goja"
)

// httpAsync({url, operation, headers, body, user, password, success(res),
// error(res)}): the request runs on its own goroutine, the callback on the
// script's. A script has at most script.httpasync.max requests in flight;
// one more is refused (an exception, counted in /scripts/json and
// /metrics), so that a script calling it faster than the server answers
// holds a bounded number of connections and goroutines, not thousands.
// Each request ends after script.http.timeout, or when the script stops.
func bindHTTPAsync(s *Script) {
	vm, m := s.vm, s.m
	s.set("httpAsync", func(c goja.FunctionCall) goja.Value {
		req := s.requestOf("httpAsync", arg(c, 0))
		obj := arg(c, 0).(*goja.Object)
		callback := func(name string) goja.Callable {
			v := obj.Get(name)
			if !present(v) {
				return nil
			}
			fn, ok := goja.AssertFunction(v)
			if !ok {
				throw(vm, "httpAsync: %s must be a function(res)", name)
			}
			return fn
		}
		success, failure := callback("success"), callback("error")
		max := m.deps.AsyncMax
		if n := s.async.inFlight.Add(1); n > int64(max) {
			s.async.inFlight.Add(-1)
			s.async.refused.Add(1)
			throw(vm, "httpAsync %s: refused: %d requests of this script are in flight already (script.httpasync.max)", req.URL, max)
		}
		go func() {
			ctx, cancel := context.WithTimeout(s.ctx, m.deps.HTTPTimeout)
			r, err := m.doHTTP(ctx, req.URL, req.Operation, req.Type, req.Body, req.User, req.Password, req.Headers)
			err = timedOut(ctx, err, fmt.Sprintf("%v (script.http.timeout)", m.deps.HTTPTimeout))
			cancel()
			s.async.inFlight.Add(-1)
			cb := success
			if err != nil || r.Status >= 400 {
				cb = failure
			}
			if cb == nil {
				return
			}
			r.URL = req.URL
			if !s.enqueue(jobCall, func(vm *goja.Runtime) error {
				_, cerr := cb(goja.Undefined(), resultJS(vm, r, err))
				return cerr
			}) {
				s.async.lost.Add(1)
			}
		}()
		return goja.Undefined()
	})
}

// resultJS is the callbacks' res: {status, url, body, headers}, in that
// order (the headers by name), or {status: 0, url, body: ”, error} when
// no answer came.
func resultJS(vm *goja.Runtime, r httpResult, err error) *goja.Object {
	o := vm.NewObject()
	if err != nil {
		o.Set("status", 0)
		o.Set("url", r.URL)
		o.Set("body", "")
		o.Set("error", err.Error())
		return o
	}
	o.Set("status", r.Status)
	o.Set("url", r.URL)
	o.Set("body", r.Body)
	h := vm.NewObject()
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		h.Set(k, r.Headers[k])
	}
	o.Set("headers", h)
	return o
}
