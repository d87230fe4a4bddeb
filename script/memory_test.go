package script

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func liveHeap() uint64 {
	runtime.GC()
	return newHeapReaderLive()
}

func newHeapReaderLive() uint64 {
	_, live, _ := newHeapReader().read()
	return live
}

// TestMemoryBudget: with script.memory at 64 MB, a script that grows a
// global array in one callback is interrupted, measured, stopped and
// reported, and what it held goes back to the heap; one that grows it a
// little at each interval is stopped by the measurements between its
// callbacks; a callback that builds 100 MB of its own temporary data is
// interrupted and its script goes on; a script beside them all the while
// is unaffected. Before, nothing bounded a script: the array reached
// 2.16 GB in 60 s.
func TestMemoryBudget(t *testing.T) {
	const budget = 64 << 20
	r := newRigWith(t, 30*time.Second, func(d *Deps) { d.Memory = budget })
	base := liveHeap()
	bystander := r.load(t, "bystander.js", `
var ticks = 0, kept = [];
setIntervalHandler(function() { ticks++; kept.push({t: Date.now()}); if (kept.length > 100) kept.shift(); }, 0.02);
setHttpHandler(function() { return '' + ticks; });`)
	ticksOf := func() int {
		var n int
		for _, c := range string(call(t, bystander, "x", nil).Body) {
			n = n*10 + int(c-'0')
		}
		return n
	}
	eventually(t, "the bystander ticking", func() bool { return ticksOf() > 3 })

	// One callback, a global array.
	runaway := r.load(t, "runaway.js", `
var a = [];
setHttpHandler(function() { for (;;) a.push('grown ' + a.length + ' ' + 'x'.repeat(48)); });`)
	before := ticksOf()
	start := time.Now()
	// The interrupt comes when the heap has grown past the budget; whether
	// the script is stopped is what the measurement then finds it holds.
	// The heap's growth can count garbage of the last collection (objects
	// made while it marked count until the next), so the array may still be
	// just short of it: the next request, growing on, ends past it.
	calls := 0
	for calls < 3 && runaway.Status().Stopped == "" {
		resp := call(t, runaway, "grow", nil)
		if resp.Status == 503 && runaway.Status().Stopped != "" {
			// The measurement after the last request stopped it after the
			// wait below had already seen the one before it (> 32 MB).
			break
		}
		calls++
		if resp.Status != 500 || !strings.Contains(string(resp.Body), "interrupted: used more than script.memory (64 MB): the heap grew by") {
			t.Fatalf("the runaway's request: %d %s", resp.Status, resp.Body)
		}
		// Measured (what it holds, > 32 MB now, replaces the 0.2 MB of the
		// load), and stopped if that is more than the budget.
		for deadline := time.Now().Add(10 * time.Second); runaway.Status().Stopped == "" && runaway.Status().Memory < budget/2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	took := time.Since(start)
	st := runaway.Status()
	if st.Alive || !strings.Contains(st.Stopped, "stopped: it holds more than script.memory (64 MB)") || st.MemoryInterrupts != uint64(calls) ||
		st.Memory <= budget || st.Memory > 2*budget {
		t.Errorf("the runaway's status after %d requests: %+v", calls, st)
	}
	if r.m.AllOK() || !strings.Contains(strings.Join(r.m.Problems(""), "\n"), "runaway.js: stopped: it holds more than script.memory") {
		t.Errorf("/status problems: %q", r.m.Problems(""))
	}
	if resp, err := runaway.Serve(Request{Method: "GET", Path: []string{"x"}, Format: "json"}); !errors.Is(err, ErrNoHandler) {
		t.Errorf("a stopped script served %d %s", resp.Status, resp.Body)
	}
	var after uint64
	eventually(t, "its memory back to the heap", func() bool { after = liveHeap(); return after < base+budget/4 })
	t.Logf("runaway in one callback: stopped after %v (%d request), %s counted when the walk stopped; live heap %s before, %s after",
		took.Round(time.Millisecond), calls, mb(st.Memory), mb(int64(base)), mb(int64(after)))

	// A little at each interval.
	start = time.Now()
	slow := r.load(t, "slow.js", `
var kept = [];
setIntervalHandler(function() { for (var i = 0; i < 2000; i++) kept.push('slow ' + kept.length + ' ' + 'y'.repeat(100)); }, 0.01);`)
	eventually2(t, 30*time.Second, "the slow grower stopped", func() bool { return slow.Status().Stopped != "" })
	st = slow.Status()
	t.Logf("grower at each interval: stopped after %v, %s counted (%d memory interrupts)",
		time.Since(start).Round(time.Millisecond), mb(st.Memory), st.MemoryInterrupts)
	if !strings.Contains(st.Stopped, "holds more than script.memory (64 MB)") || st.Alive {
		t.Errorf("the slow grower's status: %+v", st)
	}

	// What it hands to sharedSet counts as its own.
	sharer := r.load(t, "sharer.js", `
var n = 0, chunk = 'w'.repeat(1 << 20);
setIntervalHandler(function() { sharedSet('chunk ' + n++, chunk); }, 0.01);`)
	eventually2(t, 30*time.Second, "the sharer stopped", func() bool { return sharer.Status().Stopped != "" })
	if st := sharer.Status(); st.Memory <= budget || st.Memory > 2*budget {
		t.Errorf("the sharer: %+v", st)
	}

	// Temporary data: interrupted, not stopped.
	temp := r.load(t, "temp.js", `
setHttpHandler(function(req) {
  if (req.path[0] == 'big') { var local = []; for (var i = 0; i < 2000000; i++) local.push('temporary ' + i + 'z'.repeat(40)); return local.length; }
  return 'fine';
});`)
	if resp := call(t, temp, "big", nil); resp.Status != 500 || !strings.Contains(string(resp.Body), "used more than script.memory") {
		t.Errorf("temporary 100 MB: %d %s", resp.Status, resp.Body)
	}
	if got := string(call(t, temp, "ok", nil).Body); got != "fine" || !temp.Status().Alive {
		t.Errorf("after its temporary data: %s, %+v", got, temp.Status())
	}

	// The bystander ticked all along (every 20 ms), without an error.
	if n, bs := ticksOf(), bystander.Status(); n-before < 20 || bs.Errors != 0 || !bs.Alive || bs.MemoryInterrupts != 0 {
		t.Errorf("the bystander: %d ticks meanwhile, %+v", n-before, bs)
	}
}

// TestSizeLimits: the built-ins a number sizes refuse, at once, what
// cannot fit in script.memory.
func TestSizeLimits(t *testing.T) {
	r := newRigWith(t, 5*time.Second, func(d *Deps) { d.Memory = 64 << 20 })
	s := r.load(t, "sizes.js", `
var cases = {
  repeat: function() { return 'xy'.repeat(1e9).length; },
  padEnd: function() { return ''.padEnd(2 ** 30).length; },
  fill: function() { return new Array(2e7).fill(0).length; },
  join: function() { return new Array(1e8).join('x').length; },
  from: function() { return Array.from({length: 2e7}).length; },
  u8: function() { return new Uint8Array(2 ** 31).length; },
  buffer: function() { return new ArrayBuffer(2 ** 31).byteLength; },
  small: function() { return 'ab'.repeat(3) + new Array(3).fill(1).join('') + new Uint8Array(4).length + [1, 2].map(x => x * 2) + (new Uint8Array(2) instanceof Uint8Array); },
};
setHttpHandler(function(req) { try { return '' + cases[req.path[0]](); } catch (e) { return '' + e; } });`)
	for name, want := range map[string]string{
		"repeat": "RangeError: a string of 2000000000 characters: more than script.memory (64 MB) allows (33554432)",
		"padEnd": "RangeError: a string of 1073741824 characters",
		"fill":   "RangeError: an array of 20000000 elements: more than script.memory (64 MB) allows (4194304)",
		"join":   "RangeError: an array of 100000000 elements",
		"from":   "RangeError: an array of 20000000 elements",
		"u8":     "RangeError: a buffer of 2147483648 bytes: more than script.memory (64 MB) allows (67108864)",
		"buffer": "RangeError: a buffer of 2147483648 bytes",
		"small":  "ababab11142,4true",
	} {
		start := time.Now()
		got := string(call(t, s, name, nil).Body)
		if !strings.HasPrefix(got, want) && got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("%s took %v", name, d)
		}
	}
}

func eventually2(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
