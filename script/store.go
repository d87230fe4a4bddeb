package script

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
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
