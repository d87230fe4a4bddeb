package script

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunCmdIsOffByDefault: without script.runcmd=yes, runCmd throws saying
// how to allow it, and the command does not run.
func TestRunCmdIsOffByDefault(t *testing.T) {
	r := newRig(t, 2*time.Second)
	r.m.deps.RunCmd = false
	marker := filepath.Join(r.dir, "ran")
	s := r.load(t, "cmd.js", `setHttpHandler(function() {
  try { runCmd(['touch', '`+marker+`']); return 'ran'; } catch (e) { return 'refused: ' + e; }
});`)
	got := string(call(t, s, "x", nil).Body)
	if !strings.Contains(got, "refused: ") || !strings.Contains(got, "-Dscript.runcmd=yes") {
		t.Errorf("runCmd without script.runcmd=yes: %s", got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
}

// TestRunCmdBounded: a command that outlives the callback is killed with
// what it started at the callback's deadline; one that floods its output
// is stopped at 8 MB.
func TestRunCmdBounded(t *testing.T) {
	r := newRig(t, time.Second)
	pidFile := filepath.Join(r.dir, "pid")
	s := r.load(t, "cmd.js", `setHttpHandler(function(req) {
  if (req.path[0] == 'ok') return runCmd(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  try {
    if (req.path[0] == 'sleep') runCmd(['sh', '-c', 'sleep 30 & echo $! > `+pidFile+`; wait']);
    if (req.path[0] == 'flood') runCmd(['yes']);
    return 'returned';
  } catch (e) { return 'threw: ' + e; }
});`)
	if got := string(call(t, s, "ok", nil).Body); !strings.Contains(got, `"status": 3`) || !strings.Contains(got, `"out"`) || !strings.Contains(got, `"err"`) {
		t.Errorf("a command that ends: %s", got)
	}
	start := time.Now()
	resp := call(t, s, "sleep", nil)
	took := time.Since(start)
	// The callback ran out of time in runCmd: it is interrupted as soon as
	// runCmd returns, so the request is a 500 saying so.
	if took > 2500*time.Millisecond || resp.Status != 500 || !strings.Contains(string(resp.Body), "script.timeout") {
		t.Errorf("sleep 30 under a 1 s timeout: %d %s after %v", resp.Status, resp.Body, took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	eventually(t, "the background sleep killed with its group", func() bool { return syscall.Kill(pid, 0) == syscall.ESRCH })
	start = time.Now()
	got := string(call(t, s, "flood", nil).Body)
	if !strings.Contains(got, "threw: ") || !strings.Contains(got, "more than 8 MB") || time.Since(start) > 900*time.Millisecond {
		t.Errorf("yes: %s after %v", got, time.Since(start))
	}
	t.Logf("runCmd of sh -c 'sleep 30 & …' ended after %v (script.timeout 1 s)", took)
}

// TestIncludeConfined: include reads files under the script's directory
// (an application's script: the application's directory); a path that
// leads out, by '..', an absolute path or a symbolic link, is refused with
// an error that says where includes may be; extras/json2.js still comes
// from flowrt.
func TestIncludeConfined(t *testing.T) {
	r := newRig(t, 2*time.Second)
	dir := filepath.Join(r.dir, "scripts")
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(r.dir, "outside.js"), []byte("var outside = 'read';"), 0o644)
	os.WriteFile(filepath.Join(dir, "lib", "inside.js"), []byte("var inside = 'read';"), 0o644)
	os.Symlink(filepath.Join(r.dir, "outside.js"), filepath.Join(dir, "link-out.js"))
	os.Symlink(filepath.Join(dir, "lib", "inside.js"), filepath.Join(dir, "link-in.js"))
	os.WriteFile(filepath.Join(dir, "inc.js"), []byte(`
function tryInclude(f) { try { include(f); return 'ok'; } catch (e) { return '' + e; } }
setHttpHandler(function(req) { return tryInclude(req.query.f[0]) + (typeof outside == 'undefined' ? '' : ' LEAKED'); });
`), 0o644)
	s, err := r.m.Load(filepath.Join(dir, "inc.js"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(f string) string { return string(call(t, s, "x", map[string][]string{"f": {f}}).Body) }
	for _, f := range []string{"lib/inside.js", dir + "/lib/inside.js", "lib/../lib/inside.js", "extras/json2.js"} {
		if got := try(f); got != "ok" {
			t.Errorf("include(%q): %s", f, got)
		}
	}
	for f, want := range map[string]string{
		"../outside.js":            "is outside " + dir,
		r.dir + "/outside.js":      "is outside " + dir,
		"/etc/passwd":              "is outside " + dir,
		"lib/../../outside.js":     "is outside " + dir,
		"link-out.js":              "is a symbolic link: refused",
		"link-in.js":               "is a symbolic link: refused",
		"missing.js":               "no such file",
		"../extras/json2.js":       "is outside",
		"../scripts/lib/inside.js": "",
	} {
		got := try(f)
		if want == "" {
			if got != "ok" {
				t.Errorf("include(%q): %s", f, got)
			}
			continue
		}
		if !strings.Contains(got, want) || strings.Contains(got, "LEAKED") {
			t.Errorf("include(%q): %s, want %q", f, got, want)
		}
	}
	// An application's script reaches its application's other directories,
	// not another application's.
	apps := filepath.Join(r.dir, "app")
	for _, p := range []string{"a/scripts", "a/lib", "b/scripts"} {
		os.MkdirAll(filepath.Join(apps, p), 0o755)
	}
	os.WriteFile(filepath.Join(apps, "a", "lib", "common.js"), []byte("var common = 1;"), 0o644)
	os.WriteFile(filepath.Join(apps, "b", "scripts", "other.js"), []byte("var other = 1;"), 0o644)
	os.WriteFile(filepath.Join(apps, "a", "scripts", "main.js"), []byte(`
function tryInclude(f) { try { include(f); return 'ok'; } catch (e) { return '' + e; } }
setHttpHandler(function(req) { return tryInclude('../lib/common.js') + '|' + tryInclude('../../b/scripts/other.js'); });
`), 0o644)
	if err := r.m.LoadApps(apps); err != nil {
		t.Fatal(err)
	}
	a := r.mustScript(t, "a/main.js")
	got := strings.Split(string(call(t, a, "x", nil).Body), "|")
	if len(got) != 2 || got[0] != "ok" || !strings.Contains(got[1], "is outside "+filepath.Join(apps, "a")) {
		t.Errorf("application includes: %q", got)
	}
}

// TestStoreConfined: every key, "..", "." and "../../x" included, is one
// file in the script's store directory; nothing is written beside it, and
// each reads back.
func TestStoreConfined(t *testing.T) {
	r := newRig(t, 2*time.Second)
	keys := []string{"..", ".", "../../escaped", "a/b", ".hidden", "plain", "x.tmp", "%2E"}
	s := r.load(t, "st.js", `
var keys = `+mustJSON(keys)+`;
keys.forEach(function(k, i) { storeSet(k, {i: i}); });
setHttpHandler(function(req) {
  if (req.path[0] == 'empty') { try { storeSet('', 1); return 'stored'; } catch (e) { return '' + e; } }
  return {keys: storeKeys(), values: keys.map(function(k) { return storeGet(k).i; })};
});`)
	var got struct {
		Keys   []string
		Values []int
	}
	if err := json.Unmarshal(call(t, s, "x", nil).Body, &got); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got.Keys, sorted) || !slices.Equal(got.Values, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("storeKeys %q, values %v; want %q, 0…7", got.Keys, got.Values, sorted)
	}
	// The store's root holds the script's directory and nothing else; the
	// test's directory only what the test put there.
	root := filepath.Join(r.dir, "store")
	if got := names(t, root); !slices.Equal(got, []string{"~st.js"}) {
		t.Errorf("store root holds %v", got)
	}
	if got := names(t, r.dir); !slices.Equal(got, []string{"st.js", "store"}) {
		t.Errorf("the test directory holds %v: a key escaped", got)
	}
	if got := len(names(t, filepath.Join(root, "~st.js"))); got != len(keys) {
		t.Errorf("%d files for %d keys", got, len(keys))
	}
	if got := string(call(t, s, "empty", nil).Body); !strings.Contains(got, "the key is empty") {
		t.Errorf("storeSet(''): %s", got)
	}
	// A store directory that is a symbolic link is refused.
	other := t.TempDir()
	os.Symlink(other, filepath.Join(root, "~ln.js"))
	ln := r.load(t, "ln.js", `setHttpHandler(function() { try { storeSet('k', 1); return 'stored'; } catch (e) { return '' + e; } });`)
	if got := string(call(t, ln, "x", nil).Body); !strings.Contains(got, "is a symbolic link: refused") {
		t.Errorf("symlinked store: %s", got)
	}
	if got := names(t, other); len(got) != 0 {
		t.Errorf("written through the link: %v", got)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
