package main_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes (the kernel rounds to pages) on a
// new directory and unmounts it when the test ends. It needs root.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root; run the tests as root (CI does)")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): run where mount(2) is allowed", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

type savingStatus struct {
	State struct {
		Kinds map[string]struct {
			Unsaved   bool
			Failed    int
			LastError string
		}
		NotRestored []struct{ Kind, Name, Error string }
	}
}

func (e *engine) saving(t *testing.T) savingStatus {
	t.Helper()
	var s savingStatus
	e.get(t, "/analyzer/json", &s)
	return s
}

func (e *engine) kill() {
	e.cmd.Process.Signal(syscall.SIGKILL)
	e.cmd.Wait()
}

// TestFullDiskAnswers507: on a full state disk a change is answered 507
// saying it is applied but not saved (it was 204 and gone after a
// restart); a kill then loses exactly what was answered so, and once there
// is room again the retry saves it without any new request.
func TestFullDiskAnswers507(t *testing.T) {
	disk := smallDisk(t, "256k")
	dir := filepath.Join(disk, "state")
	// b's 2,000 prefixes need new blocks on disk; a journal append that
	// fits in the last block already allocated is saved, full disk or not.
	var cidrs []string
	for j := range 2000 {
		cidrs = append(cidrs, `"`+v24(10, j)+`/32"`)
	}
	b := `{"b":[` + strings.Join(cidrs, ",") + `]}`
	e := startEngine(t, "-Dstate.dir="+dir, "-Dstate.retry=0.2")
	if code, msg := e.do(t, "PUT", "/group/a/json", `{"a":["10.0.0.0/8"]}`); code != 204 {
		t.Fatalf("PUT a with room: %d %s", code, msg)
	}
	filler := fill(t, disk)
	code, msg := e.do(t, "PUT", "/group/b/json", b)
	if code != 507 || !strings.Contains(msg, "not saved") || !strings.Contains(msg, "no space left on device") || strings.Contains(strings.TrimSpace(msg), "\n") {
		t.Errorf("PUT b on a full disk: %d %q, want 507 saying it is not saved and why, in one line", code, msg)
	}
	if code, msg := e.do(t, "DELETE", "/group/a/json", ""); code != 507 {
		t.Errorf("DELETE a on a full disk: %d %q, want 507", code, msg)
	}
	// As answered: applied, not saved, and shown so.
	if code, _ := e.do(t, "GET", "/group/b/json", ""); code != 200 {
		t.Errorf("b is not applied after its 507: %d", code)
	}
	if s := e.saving(t); !s.State.Kinds["groups"].Unsaved || !strings.Contains(s.State.Kinds["groups"].LastError, "no space") {
		t.Errorf("/analyzer/json state: %+v, want groups unsaved with the error", s.State)
	}
	e.kill()
	if !strings.Contains(e.log.String(), "state not saved") || !strings.Contains(e.log.String(), "no space left on device") {
		t.Errorf("the failed save is not logged:\n%s", e.log)
	}

	// What was acknowledged survived; what was answered 507 did not.
	e = startEngine(t, "-Dstate.dir="+dir, "-Dstate.retry=0.2")
	if code, _ := e.do(t, "GET", "/group/a/json", ""); code != 200 {
		t.Errorf("a (acknowledged 204, its deletion answered 507) is gone: %d", code)
	}
	if code, _ := e.do(t, "GET", "/group/b/json", ""); code != 404 {
		t.Errorf("b (answered 507) came back: %d", code)
	}
	if code, _ := e.do(t, "PUT", "/group/b/json", b); code != 507 {
		t.Errorf("PUT b, disk still full: %d", code)
	}
	os.Remove(filler)
	deadline := time.Now().Add(5 * time.Second)
	for e.saving(t).State.Kinds["groups"].Unsaved {
		if time.Now().After(deadline) {
			t.Fatal("groups still unsaved 5 s after the disk had room (retry every 0.2 s)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.kill()
	if !strings.Contains(e.log.String(), "state saved again") {
		t.Errorf("the saving retry is not logged:\n%s", e.log)
	}
	e = startEngine(t, "-Dstate.dir="+dir)
	var got map[string][]string
	e.get(t, "/group/b/json", &got)
	if len(got["b"]) != 2000 {
		t.Errorf("b, saved by the retry, came back after a kill with %d prefixes, want 2000", len(got["b"]))
	}
}

// TestReadOnlyStateDirAnswers500: a state directory that cannot be
// written answers 500 saying why.
func TestReadOnlyStateDirAnswers500(t *testing.T) {
	var dir string
	if os.Geteuid() == 0 {
		// root writes through permissions: make the file system read-only.
		disk := smallDisk(t, "1m")
		dir = filepath.Join(disk, "state")
		os.Mkdir(dir, 0o755)
		if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("remounting read-only: %v", err)
		}
	} else {
		dir = t.TempDir()
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	e := startEngine(t, "-Dstate.dir="+dir)
	code, msg := e.do(t, "PUT", "/threshold/t/json", "{metric:'bytes', value:100}")
	if code != 500 || !strings.Contains(msg, "not saved") ||
		!(strings.Contains(msg, "read-only file system") || strings.Contains(msg, "permission denied")) {
		t.Errorf("PUT on a read-only state directory: %d %q", code, msg)
	}
	var s map[string]json.RawMessage
	e.get(t, "/analyzer/json", &s)
	if !strings.Contains(string(s["state"]), `"unsaved": true`) {
		t.Errorf("/analyzer/json state: %s", s["state"])
	}
}
