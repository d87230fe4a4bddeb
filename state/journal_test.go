package state

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// model is a kind's live entries, as the engine's stores hold them.
type model struct {
	mu sync.Mutex
	m  map[string]int
}

func (m *model) set(name string, v int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v < 0 {
		delete(m.m, name)
	} else {
		m.m[name] = v
	}
}

func (m *model) kind(s *Store) *Kind {
	return s.Kind("flows", func() any {
		m.mu.Lock()
		defer m.mu.Unlock()
		return maps.Clone(m.m)
	}, func(name string) (any, bool) {
		m.mu.Lock()
		defer m.mu.Unlock()
		v, ok := m.m[name]
		return v, ok
	})
}

func load(t *testing.T, dir string) (map[string]int, error) {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := s.Kind("flows", nil, func(string) (any, bool) { return nil, false }).Load()
	out := map[string]int{}
	for k, v := range raw {
		var n int
		if jerr := json.Unmarshal(v, &n); jerr != nil {
			t.Fatalf("entry %s: %s", k, v)
		}
		out[k] = n
	}
	return out, err
}

// TestConcurrentChangesKept: 8 goroutines change their own names (set and
// delete) 400 times each, every change saved before the next; the journal
// grows past compactAt, so snapshots are written between appends. A fresh
// load then holds exactly what memory holds.
func TestConcurrentChangesKept(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, nil)
	m := &model{m: map[string]int{}}
	k := m.kind(s)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 400 {
				name := fmt.Sprintf("w%dn%d", w, i%5)
				v := i
				if i%7 == 3 {
					v = -1
				}
				m.set(name, v)
				if err := k.Changed(name); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := load(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, m.m) {
		t.Errorf("loaded %v\nmemory %v", got, m.m)
	}
	st := k.Status()
	if st.Changes != 3200 || st.Snapshots < 2 || st.Failed != 0 || st.Saves > st.Changes {
		t.Errorf("status %+v: want 3,200 changes, two snapshots or more (the first save and a compaction)", st)
	}
}

func TestJournalReplayAndDamage(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, nil)
	m := &model{m: map[string]int{}}
	k := m.kind(s)
	for i, name := range []string{"a", "b", "c", "a"} {
		m.set(name, i)
		if err := k.Changed(name); err != nil {
			t.Fatal(err)
		}
	}
	m.set("b", -1)
	k.Changed("b")
	want := map[string]int{"a": 3, "c": 2}
	// The first save wrote a snapshot {a:0}; the rest are journal records.
	snap, _ := os.ReadFile(filepath.Join(dir, "flows.json"))
	journal := filepath.Join(dir, "flows.journal")
	j, _ := os.ReadFile(journal)
	if strings.TrimSpace(string(snap)) != "{\n \"a\": 0\n}" || strings.Count(string(j), "\n") != 5 || !strings.Contains(string(j), `{"delete":"b"}`) {
		t.Fatalf("snapshot %q journal %q", snap, j)
	}
	if got, err := load(t, dir); err != nil || !maps.Equal(got, want) {
		t.Fatalf("replayed %v %v, want %v", got, err, want)
	}

	// A batch cut short by a crash: its record is ignored, nothing set aside.
	os.WriteFile(journal, append(j, `{"set":"d","val`...), 0o644)
	if got, err := load(t, dir); err != nil || !maps.Equal(got, want) {
		t.Errorf("with a torn last record: %v %v, want %v", got, err, want)
	}
	// A bad record followed by good ones: replayed up to it, set aside.
	lines := strings.SplitAfter(string(j), "\n")
	bad := strings.Join(lines[:3], "") + "garbage\n" + strings.Join(lines[3:], "")
	os.WriteFile(journal, []byte(bad), 0o644)
	got, err := load(t, dir)
	if err == nil || !strings.Contains(err.Error(), "record 3") || !maps.Equal(got, map[string]int{"a": 0, "b": 1, "c": 2}) {
		t.Errorf("with a bad record: %v %v", got, err)
	}
	if aside, _ := filepath.Glob(journal + ".bad-*"); len(aside) != 1 {
		t.Errorf("bad journal set aside as %v", aside)
	}
	// A journal that continues another snapshot (a crash between a new
	// snapshot and its journal): not replayed, set aside.
	os.WriteFile(journal, j, 0o644)
	os.WriteFile(filepath.Join(dir, "flows.json"), []byte("{\"a\": 9}\n"), 0o644)
	if got, err := load(t, dir); err != nil || !maps.Equal(got, map[string]int{"a": 9}) {
		t.Errorf("with a stale journal: %v %v", got, err)
	}
	if aside, _ := filepath.Glob(journal + ".stale-*"); len(aside) != 1 {
		t.Errorf("stale journal set aside as %v", aside)
	}
}

// TestSaveLater: a change handed over without waiting is on disk once the
// saver has run, and a later waited-for change covers it too.
func TestSaveLater(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, nil)
	m := &model{m: map[string]int{}}
	k := m.kind(s)
	m.set("x", 0)
	if err := k.Changed("x"); err != nil { // the first save is a snapshot; later ones append
		t.Fatal(err)
	}
	m.set("a", 1)
	k.SaveLater()
	m.set("b", 2)
	if err := k.Changed("b"); err != nil {
		t.Fatal(err)
	}
	got, err := load(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, map[string]int{"x": 0, "a": 1, "b": 2}) {
		t.Errorf("loaded %v: want x:0, a:1 (saved later) and b:2", got)
	}
}
