package script

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"github.com/flowrt/flowrt/forward"
)

// TestAPIMatchesDocs: the functions a script can call are exactly those in
// docs/scripting.md's API table (and the JavaScript built-ins), so the
// table neither promises a function that is not bound nor hides one that is.
func TestAPIMatchesDocs(t *testing.T) {
	r := newRig(t, 2*time.Second)
	r.m.deps.Forwarder = forward.New(nil)
	s := r.load(t, "names.js", "")
	builtin := goja.New().GlobalObject().Keys()
	var bound []string
	for _, k := range s.vm.GlobalObject().Keys() {
		if _, ok := goja.AssertFunction(s.vm.Get(k)); ok && !slices.Contains(builtin, k) {
			bound = append(bound, k)
		}
	}
	slices.Sort(bound)
	doc, err := os.ReadFile("../docs/scripting.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("[`/,] *`?([a-zA-Z0-9]+)\\(")
	var documented []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, " | ", 2)[0]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	// storeGet/storeSet/storeDelete(key): names joined by slashes.
	for _, line := range strings.Split(string(doc), "\n") {
		if m := regexp.MustCompile("^\\| `(\\w+(?:/\\w+)+)\\(").FindStringSubmatch(line); m != nil {
			documented = append(documented, strings.Split(m[1], "/")...)
		}
	}
	slices.Sort(documented)
	documented = slices.Compact(documented)
	if !slices.Equal(bound, documented) {
		for _, b := range bound {
			if !slices.Contains(documented, b) {
				t.Errorf("%s is bound but not in docs/scripting.md", b)
			}
		}
		for _, d := range documented {
			if !slices.Contains(bound, d) {
				t.Errorf("%s is in docs/scripting.md but not bound", d)
			}
		}
	}
	t.Logf("%d functions: %s", len(bound), strings.Join(bound, " "))
}
