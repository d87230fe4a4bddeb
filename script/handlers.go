package script

import (
	"time"

	"github.com/dop251/goja"
)

// bindHandlers installs the set/clear pairs for the callbacks a script
// registers: flow records, threshold events, HTTP requests and intervals.
func bindHandlers(s *Script) {
	vm := s.vm
	callable := func(v goja.Value, what string) goja.Callable {
		fn, ok := goja.AssertFunction(v)
		if !ok {
			throw(vm, "%s needs a function", what)
		}
		return fn
	}
	// handler registers set/clear functions for one kind of handler.
	// handler registers set/clear functions for one kind of handler; v is
	// the function's value (what the memory measurement walks).
	handler := func(name string, assign func(h *handlers, fn goja.Callable, v goja.Value, names map[string]bool)) {
		s.set("set"+name, func(c goja.FunctionCall) goja.Value {
			fn := callable(arg(c, 0), "set"+name)
			s.handlersMu.Lock()
			assign(&s.handlers, fn, arg(c, 0), nameSet(arg(c, 1)))
			s.handlersMu.Unlock()
			return goja.Undefined()
		})
		s.set("clear"+name, func(goja.FunctionCall) goja.Value {
			s.handlersMu.Lock()
			assign(&s.handlers, nil, nil, nil)
			s.handlersMu.Unlock()
			return goja.Undefined()
		})
	}
	handler("FlowHandler", func(h *handlers, fn goja.Callable, v goja.Value, names map[string]bool) {
		h.flow, h.flowV, h.flowNames = fn, v, names
	})
	handler("EventHandler", func(h *handlers, fn goja.Callable, v goja.Value, names map[string]bool) {
		h.event, h.eventV, h.eventIDs = fn, v, names
	})
	handler("HttpHandler", func(h *handlers, fn goja.Callable, v goja.Value, _ map[string]bool) { h.http, h.httpV = fn, v })
	s.set("setIntervalHandler", func(c goja.FunctionCall) goja.Value {
		fn := callable(arg(c, 0), "setIntervalHandler")
		every := time.Second
		if present(arg(c, 1)) {
			every = time.Duration(arg(c, 1).ToFloat() * float64(time.Second))
		}
		if every < 10*time.Millisecond {
			throw(vm, "setIntervalHandler: an interval of %v is too short", every)
		}
		s.setInterval(fn, every)
		s.handlersMu.Lock()
		s.handlers.intervalV = arg(c, 0)
		s.handlersMu.Unlock()
		return goja.Undefined()
	})
	s.set("clearIntervalHandler", func(goja.FunctionCall) goja.Value {
		s.setInterval(nil, 0)
		s.handlersMu.Lock()
		s.handlers.intervalV = nil
		s.handlersMu.Unlock()
		return goja.Undefined()
	})
}

// setInterval replaces the script's interval handler. The ticker
// goroutine queues a call only when the previous one has run, so a slow
// handler is skipped, not piled up.
func (s *Script) setInterval(fn goja.Callable, every time.Duration) {
	s.handlersMu.Lock()
	old := s.handlers.interval
	s.handlers.interval = nil
	if fn != nil {
		h := &intervalHandler{fn: fn, every: every, stop: make(chan struct{})}
		s.handlers.interval = h
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-h.stop:
					return
				case <-s.quit:
					return
				case now := <-t.C:
					if !h.pending.CompareAndSwap(false, true) {
						continue
					}
					ms := now.UnixMilli()
					s.enqueue(jobInterval, func(vm *goja.Runtime) error {
						h.pending.Store(false)
						_, err := h.fn(goja.Undefined(), vm.ToValue(ms))
						return err
					})
				}
			}
		}()
	}
	s.handlersMu.Unlock()
	if old != nil {
		close(old.stop)
	}
}
