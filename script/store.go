package script

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/dop251/goja"
)

// store is a script's persistent key/value store: one file per key under
// <script.store>/<app>~<script.js>/ (sFlow-RT's layout), values as JSON.
type store struct {
	dir string
	mu  sync.Mutex
	mem map[string][]byte // when no directory is configured
}

func newStore(root, app, file string) *store {
	if root == "" {
		return &store{mem: map[string][]byte{}}
	}
	return &store{dir: filepath.Join(root, app+"~"+file)}
}

func (s *store) path(key string) string { return filepath.Join(s.dir, url.PathEscape(key)) }

func (s *store) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		b, ok := s.mem[key]
		return b, ok
	}
	b, err := os.ReadFile(s.path(key))
	return b, err == nil
}

func (s *store) set(key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		s.mem[key] = v
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	tmp := s.path(key) + ".tmp"
	if err := os.WriteFile(tmp, v, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path(key))
}

func (s *store) delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		delete(s.mem, key)
		return
	}
	os.Remove(s.path(key))
}

func (s *store) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if s.mem != nil {
		for k := range s.mem {
			out = append(out, k)
		}
	} else {
		entries, _ := os.ReadDir(s.dir)
		for _, e := range entries {
			if k, err := url.PathUnescape(e.Name()); err == nil && filepath.Ext(k) != ".tmp" {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// bindStore installs the per-script store on disk (storeGet, storeSet,
// storeDelete, storeKeys) and the memory every script shares (sharedGet,
// sharedSet).
func bindStore(s *Script) {
	vm := s.vm
	s.set("storeGet", func(c goja.FunctionCall) goja.Value {
		b, ok := s.store.get(arg(c, 0).String())
		if !ok {
			return goja.Null()
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return goja.Null()
		}
		return vm.ToValue(v)
	})
	s.set("storeSet", func(c goja.FunctionCall) goja.Value {
		if err := s.store.set(arg(c, 0).String(), jsonOf(arg(c, 1))); err != nil {
			throw(vm, "storeSet: %v", err)
		}
		return goja.Undefined()
	})
	s.set("storeDelete", func(c goja.FunctionCall) goja.Value {
		s.store.delete(arg(c, 0).String())
		return goja.Undefined()
	})
	s.set("storeKeys", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.store.keys()) })
	s.set("sharedGet", func(c goja.FunctionCall) goja.Value {
		if b, ok := s.m.shared.Load(arg(c, 0).String()); ok {
			var v any
			json.Unmarshal(b.([]byte), &v)
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	s.set("sharedSet", func(c goja.FunctionCall) goja.Value {
		s.m.shared.Store(arg(c, 0).String(), jsonOf(arg(c, 1)))
		return goja.Undefined()
	})
}
