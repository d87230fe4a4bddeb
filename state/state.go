// Package state keeps what was defined over REST — flows, thresholds,
// groups, maps, forwarding sessions, topology — in a directory, so that a
// restart finds it again (sFlow-RT forgets it). Each kind is one JSON file,
// replaced atomically: written to a temporary file, synced, renamed over the
// old one, and the directory synced, so a crash leaves either the old file
// or the new one, never half of one. A file that cannot be read back is
// moved aside (name.bad-<time>) and reported, never silently dropped.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Store is a state directory.
type Store struct {
	dir string
	mu  sync.Mutex
}

// Open creates the directory if needed and removes temporary files left by
// a crash during a save.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(kind string) string { return filepath.Join(s.dir, kind+".json") }

// Save replaces the file of kind with v as JSON, atomically.
func (s *Store) Save(kind string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp, err := os.CreateTemp(s.dir, "."+kind+"-*.tmp")
	if err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	if err := os.Rename(tmp.Name(), s.path(kind)); err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	if d, err := os.Open(s.dir); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}

// ErrSetAside wraps the error for a file that could not be read back; the
// file has been moved aside.
var ErrSetAside = errors.New("state file set aside")

// Load reads the file of kind into v. found is false when there is none.
// A file that does not parse is renamed to <kind>.json.bad-<time> and the
// error says where it went.
func (s *Store) Load(kind string, v any) (found bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.path(kind)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err == nil {
		if err = json.Unmarshal(b, v); err == nil {
			return true, nil
		}
	}
	aside := p + ".bad-" + strings.ReplaceAll(time.Now().UTC().Format("20060102T150405.000"), ".", "")
	if rerr := os.Rename(p, aside); rerr != nil {
		return true, fmt.Errorf("%w: %s cannot be read (%v) nor moved aside (%v)", ErrSetAside, p, err, rerr)
	}
	return true, fmt.Errorf("%w: %s cannot be read (%v); moved to %s, starting without it", ErrSetAside, p, err, aside)
}
