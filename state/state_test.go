package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadAndCorruption(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 1, "b": 2}
	if err := s.Save("flows", want); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if found, err := s.Load("flows", &got); !found || err != nil || got["b"] != 2 {
		t.Fatalf("load: %v %v %v", found, err, got)
	}
	if found, err := s.Load("missing", &got); found || err != nil {
		t.Errorf("missing file: %v %v", found, err)
	}
	// A crash mid-save leaves a temporary file: Open removes it and the
	// old state is intact.
	os.WriteFile(filepath.Join(dir, ".flows-123.tmp"), []byte("{half"), 0o644)
	s, _ = Open(dir, nil)
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	// A corrupt file is set aside and reported.
	os.WriteFile(filepath.Join(dir, "flows.json"), []byte("{not json"), 0o644)
	found, err := s.Load("flows", &got)
	if !found || !errors.Is(err, ErrSetAside) || !strings.Contains(err.Error(), "moved to") {
		t.Fatalf("corrupt: %v %v", found, err)
	}
	bad, _ := filepath.Glob(filepath.Join(dir, "flows.json.bad-*"))
	if len(bad) != 1 {
		t.Errorf("set-aside files %v", bad)
	}
	if _, err := os.Stat(filepath.Join(dir, "flows.json")); !os.IsNotExist(err) {
		t.Error("the corrupt file is still in place")
	}
}
