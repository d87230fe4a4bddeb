package script

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// store is a script's persistent key/value store: one file per key under
// <script.store>/<app>~<script.js>/ (sFlow-RT's layout), values as JSON.
//
// A key is always one plain file in that directory: it is escaped
// (url.PathEscape, and a leading '.' as %2E, so that "..", "." and
// ".hidden" are file names like any other), and every access goes through
// an os.Root on the directory, which cannot reach outside it. Temporary
// files start with '.', which no escaped key does.
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

// fileName is the key's file in the store's directory.
func fileName(key string) (string, error) {
	if key == "" {
		return "", errors.New("the key is empty")
	}
	n := url.PathEscape(key)
	if n[0] == '.' {
		n = "%2E" + n[1:]
	}
	return n, nil
}

// open opens the store's directory as a root, creating it when create is
// set; a directory that is a symbolic link is refused (a store is where
// the engine writes: it stays where script.store says).
func (s *store) open(create bool) (*os.Root, error) {
	if create {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
	}
	fi, err := os.Lstat(s.dir)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("the store directory %s is a symbolic link: refused (make it a directory)", s.dir)
	}
	return os.OpenRoot(s.dir)
}

func (s *store) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		b, ok := s.mem[key]
		return b, ok
	}
	name, err := fileName(key)
	if err != nil {
		return nil, false
	}
	r, err := s.open(false)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	b, err := r.ReadFile(name)
	return b, err == nil
}

func (s *store) set(key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		s.mem[key] = v
		return nil
	}
	name, err := fileName(key)
	if err != nil {
		return err
	}
	r, err := s.open(true)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp := ".tmp-" + name
	if err := r.WriteFile(tmp, v, 0o644); err != nil {
		return err
	}
	return r.Rename(tmp, name)
}

func (s *store) delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		delete(s.mem, key)
		return nil
	}
	name, err := fileName(key)
	if err != nil {
		return err
	}
	r, err := s.open(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *store) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	if s.mem != nil {
		for k := range s.mem {
			out = append(out, k)
		}
	} else {
		entries, _ := os.ReadDir(s.dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue // a temporary file
			}
			if k, err := url.PathUnescape(e.Name()); err == nil {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// bindStore installs the per-script store on disk (storeGet, storeSet,
// storeDelete, storeKeys); the memory every script shares is shared.go's.
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
		if err := s.store.set(arg(c, 0).String(), s.jsonOf(arg(c, 1))); err != nil {
			throw(vm, "storeSet %q: %v", arg(c, 0).String(), err)
		}
		return goja.Undefined()
	})
	s.set("storeDelete", func(c goja.FunctionCall) goja.Value {
		if err := s.store.delete(arg(c, 0).String()); err != nil {
			throw(vm, "storeDelete %q: %v", arg(c, 0).String(), err)
		}
		return goja.Undefined()
	})
	s.set("storeKeys", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.store.keys()) })
}
