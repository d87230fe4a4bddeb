package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// A journal, <kind>.journal, holds the changes made since the snapshot
// <kind>.json, one JSON line each, after a header naming the snapshot it
// continues (by a hash of its bytes):
//
//	{"journal":1,"snapshot":"sha256:…"}
//	{"set":"name","value":{…}}
//	{"delete":"name"}
//
// Appending a batch of records costs one write and one fsync, whatever the
// size of the state; rewriting the snapshot costs the whole state, so it
// is done only when the journal has grown as large as the snapshot (and
// at least compactAt), or when the journal cannot be trusted to be
// appended to (after a failed write, after start). A crash between the
// new snapshot and the new journal leaves a journal whose header names the
// old snapshot: it is set aside, not replayed over a newer state.

const journalVersion = 1

// compactAt is the least journal size that is folded into the snapshot.
const compactAt = 64 << 10

type journalHeader struct {
	Journal  int    `json:"journal"`
	Snapshot string `json:"snapshot"`
}

type record struct {
	Set    *string         `json:"set,omitempty"`
	Delete *string         `json:"delete,omitempty"`
	Value  json.RawMessage `json:"value,omitempty"`
}

func (s *Store) journalPath(kind string) string { return filepath.Join(s.dir, kind+".journal") }

func snapshotID(snapshot []byte) string {
	h := sha256.Sum256(snapshot)
	return "sha256:" + hex.EncodeToString(h[:])
}

// Load reads a journaled kind's entries: its snapshot with its journal
// replayed. found is false when there is neither. A snapshot that does not
// parse is set aside (with its journal: the journal alone is not the
// state) and err says so. A journal that cannot be replayed to its end is
// replayed as far as it can be and then set aside, entries holding what it
// gave and err saying what was wrong; only its last record cut short is
// expected (a batch a crash interrupted: it was never acknowledged), and
// that is logged, not an error.
func (k *Kind) Load() (entries map[string]json.RawMessage, found bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closeJournal() // the first save after a load writes a new snapshot
	s := k.store
	snap, found, err := s.load(k.name, &entries)
	if err != nil {
		if jp := s.journalPath(k.name); fileExists(jp) {
			err = errors.Join(err, s.setAside(jp, "bad", errors.New("its snapshot was set aside")))
		}
		return nil, true, err
	}
	if entries == nil {
		entries = map[string]json.RawMessage{}
	}
	jfound, err := k.replay(snap, entries)
	return entries, found || jfound, err
}

// replay applies the journal to entries.
func (k *Kind) replay(snapshot []byte, entries map[string]json.RawMessage) (found bool, err error) {
	s, p := k.store, k.store.journalPath(k.name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("%s cannot be read: %w", p, err)
	}
	head, rest, complete := bytes.Cut(data, []byte("\n"))
	var h journalHeader
	if !complete || json.Unmarshal(head, &h) != nil || h.Journal != journalVersion {
		return true, fmt.Errorf("%w; nothing of it was replayed", s.setAside(p, "bad", errors.New("its first line is not a journal header")))
	}
	if h.Snapshot != snapshotID(snapshot) {
		// Left by a crash between a new snapshot and its journal (or
		// the snapshot was edited): its changes are older than the
		// snapshot's. Not replayed, kept aside.
		err := s.setAside(p, "stale", fmt.Errorf("it continues another %s.json", k.name))
		s.log.Warn("state: a journal that does not continue the snapshot was not replayed", "kind", k.name, "err", err)
		return true, nil
	}
	n := 0
	for len(rest) > 0 {
		var line []byte
		line, rest, complete = bytes.Cut(rest, []byte("\n"))
		var r record
		bad := !complete || json.Unmarshal(line, &r) != nil || (r.Set == nil) == (r.Delete == nil) || (r.Set != nil && r.Value == nil)
		if bad && len(rest) == 0 {
			s.log.Warn("state: the journal's last record was cut short by a crash and is ignored; it was never acknowledged",
				"kind", k.name, "records", n, "file", p)
			return true, nil
		}
		if bad {
			return true, fmt.Errorf("%w; the %d records before it were replayed", s.setAside(p, "bad", fmt.Errorf("record %d is not a journal record", n+1)), n)
		}
		if r.Set != nil {
			entries[*r.Set] = r.Value
		} else {
			delete(entries, *r.Delete)
		}
		n++
	}
	return true, nil
}

// appendRecords writes the current value of each name to the journal and
// syncs it. k.journal is open. On an error the journal is closed, so that
// the next save writes a snapshot rather than append after a partial
// record.
func (k *Kind) appendRecords(names map[string]struct{}) error {
	var buf []byte
	for _, name := range slices.Sorted(maps.Keys(names)) {
		r := record{}
		if v, ok := k.entry(name); ok {
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("saving %s %q: %w", k.name, name, err)
			}
			r.Set, r.Value = &name, b
		} else {
			r.Delete = &name
		}
		b, _ := json.Marshal(r)
		buf = append(append(buf, b...), '\n')
	}
	_, err := k.journal.Write(buf)
	if err == nil {
		err = k.journal.Sync()
	}
	if err != nil {
		k.closeJournal()
		return fmt.Errorf("saving %s: %w", k.name, err)
	}
	k.journalBytes += int64(len(buf))
	return nil
}

// compact writes a new snapshot and starts an empty journal after it. The
// snapshot is made durable before the journal is replaced: otherwise a
// crash could keep the new (empty) journal and the old snapshot, losing
// the old journal's records.
func (k *Kind) compact() error {
	k.closeJournal()
	s := k.store
	snap, err := marshalSnapshot(k.snapshot())
	if err != nil {
		return fmt.Errorf("saving %s: %w", k.name, err)
	}
	if err := s.replace(s.path(k.name), snap); err != nil {
		return fmt.Errorf("saving %s: %w", k.name, err)
	}
	if k.entry == nil {
		return nil // not journaled: every save is a snapshot
	}
	head, _ := json.Marshal(journalHeader{Journal: journalVersion, Snapshot: snapshotID(snap)})
	head = append(head, '\n')
	p := s.journalPath(k.name)
	if err := s.replace(p, head); err != nil {
		return fmt.Errorf("saving %s: starting its journal: %w", k.name, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("saving %s: opening its journal: %w", k.name, err)
	}
	k.journal, k.journalBytes, k.snapshotBytes = f, int64(len(head)), int64(len(snap))
	return nil
}

// needsSnapshot tells whether the next save writes a snapshot rather than
// append to the journal.
func (k *Kind) needsSnapshot(b *batch) bool {
	return k.entry == nil || b.all || k.journal == nil ||
		(k.journalBytes >= compactAt && k.journalBytes >= k.snapshotBytes)
}

func (k *Kind) closeJournal() {
	if k.journal != nil {
		k.journal.Close()
		k.journal = nil
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
