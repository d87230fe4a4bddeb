// Package state keeps what was defined over REST — flows, thresholds,
// groups, maps, forwarding sessions, topology — in a directory, so that a
// restart finds it again (sFlow-RT forgets it).
//
// Each kind is a JSON snapshot, <kind>.json (name → definition), and a
// journal, <kind>.journal, of the changes since: a change is acknowledged
// once its record is appended and synced (journal.go), and the journal is
// folded into a new snapshot when it has grown as large as the snapshot.
// Files are replaced atomically — written to a temporary file, synced,
// renamed over the old one, the directory synced — so a crash leaves the
// old file or the new one, never half of one. Kind (commit.go) orders the
// saves of a kind and tells each change when it is on disk. A file that
// cannot be read back is moved aside (name.bad-<time>) and reported, never
// silently dropped.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store is a state directory.
type Store struct {
	dir string
	log *slog.Logger
	// Retry is how long after a failed save a kind is saved again on its
	// own (a disk that was full may have room again). Set before use.
	Retry time.Duration
}

// DefaultRetry is a new Store's Retry.
const DefaultRetry = 10 * time.Second

// Open creates the directory if needed and removes temporary files left by
// a crash during a save. log (nil: slog's default) hears of failed saves,
// of the save that succeeds after them, and of journals that were cut short.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return &Store{dir: dir, log: log, Retry: DefaultRetry}, nil
}

// Dir returns the directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(kind string) string { return filepath.Join(s.dir, kind+".json") }

// Save replaces the file of kind with v as JSON, atomically and durably:
// when it returns nil the new file is on disk. Saves of one kind must not
// run concurrently, or an older snapshot may land last: Kind orders them.
// Errors wrap the system's (errors.Is(err, syscall.ENOSPC) holds for a
// full disk).
func (s *Store) Save(kind string, v any) error {
	b, err := marshalSnapshot(v)
	if err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	if err := s.replace(s.path(kind), b); err != nil {
		return fmt.Errorf("saving %s: %w", kind, err)
	}
	return nil
}

func marshalSnapshot(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", " ")
	return append(b, '\n'), err
}

// replace writes data to path atomically and durably.
func (s *Store) replace(path string, data []byte) error {
	tmp, err := os.CreateTemp(s.dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return s.syncDir()
}

// syncDir makes the renames and creations in the directory durable.
func (s *Store) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", s.dir, err)
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
	_, found, err = s.load(kind, v)
	return found, err
}

// load is Load returning the file's bytes too (a journal names them).
func (s *Store) load(kind string, v any) (data []byte, found bool, err error) {
	p := s.path(kind)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err == nil {
		if err = json.Unmarshal(b, v); err == nil {
			return b, true, nil
		}
	}
	return nil, true, fmt.Errorf("%w, starting without it", s.setAside(p, "bad", err))
}

// setAside moves a file that cannot be used to <path>.<why>-<time> and
// returns an error saying so.
func (s *Store) setAside(p, why string, err error) error {
	aside := p + "." + why + "-" + strings.ReplaceAll(time.Now().UTC().Format("20060102T150405.000"), ".", "")
	if rerr := os.Rename(p, aside); rerr != nil {
		return fmt.Errorf("%w: %s cannot be read (%v) nor moved aside (%v)", ErrSetAside, p, err, rerr)
	}
	return fmt.Errorf("%w: %s cannot be read (%v); moved to %s", ErrSetAside, p, err, aside)
}
