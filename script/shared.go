package script

import (
	"encoding/json"
	"sync"

	"github.com/dop251/goja"
)

// shared is the memory all scripts share (sharedGet, sharedSet): values as
// JSON, each counted in the memory of the script that set it last, so
// that sharedSet cannot hold what script.memory would not let the script
// hold itself.
type shared struct {
	mu     sync.Mutex
	values map[string]sharedValue
}

type sharedValue struct {
	b     []byte
	owner *Script
}

func (sh *shared) get(key string) ([]byte, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	v, ok := sh.values[key]
	return v.b, ok
}

// set stores b under key for s (nil b: removes it).
func (sh *shared) set(key string, b []byte, s *Script) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.values == nil {
		sh.values = map[string]sharedValue{}
	}
	if old, ok := sh.values[key]; ok {
		old.owner.sharedBytes.Add(-sharedSize(key, old.b))
	}
	if b == nil {
		delete(sh.values, key)
		return
	}
	sh.values[key] = sharedValue{b: b, owner: s}
	s.sharedBytes.Add(sharedSize(key, b))
}

func sharedSize(key string, b []byte) int64 {
	return alloc(int64(len(key))) + alloc(int64(cap(b))) + 48
}

// bindShared installs sharedGet and sharedSet.
func bindShared(s *Script) {
	vm := s.vm
	s.set("sharedGet", func(c goja.FunctionCall) goja.Value {
		if b, ok := s.m.shared.get(arg(c, 0).String()); ok {
			var v any
			json.Unmarshal(b, &v)
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	s.set("sharedSet", func(c goja.FunctionCall) goja.Value {
		var b []byte
		if v := arg(c, 1); present(v) {
			b = s.jsonOf(v)
		}
		s.m.shared.set(arg(c, 0).String(), b, s)
		return goja.Undefined()
	})
}
