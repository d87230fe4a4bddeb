package script

import (
	"runtime"
	"testing"

	"github.com/dop251/goja"
)

// TestSizeOfTracksTheHeap: the measurement of what a runtime holds is
// within -40%…+50% of what the heap grew by when a script built it, for the
// shapes scripts build — arrays of strings, of objects, of numbers, a
// dictionary, a Map, a long string, a deep object, data only a closure
// reaches — and a walk limited to 10 MB stops there.
func TestSizeOfTracksTheHeap(t *testing.T) {
	for _, src := range []string{
		`var a = []; for (var i = 0; i < 400000; i++) a.push('item ' + i);`,
		`var a = []; for (var i = 0; i < 60000; i++) a.push({src: '10.0.0.' + (i % 250), n: i, tags: ['a', 'b']});`,
		`var m = {}; for (var i = 0; i < 200000; i++) m['k' + i] = i * 1.5;`,
		`var mp = new Map(); for (var i = 0; i < 100000; i++) mp.set('k' + i, [i]);`,
		`let big = 'x'.repeat(30000000);`,
		`var o = {}; for (var i = 0; i < 100000; i++) o = {a: o};`,
		`(function() { var hidden = []; for (var i = 0; i < 1000000; i++) hidden.push(i + 0.5); globalThis.f = function() { return hidden.length; }; })();`,
	} {
		before := liveHeap()
		vm := goja.New()
		if _, err := vm.RunString(src); err != nil {
			t.Fatal(err)
		}
		grew := float64(liveHeap() - before)
		n := float64(sizeOf(0, vm))
		capped := sizeOf(10<<20, vm)
		runtime.KeepAlive(vm)
		t.Logf("%-50.50s heap +%5.1f MB, measured %5.1f MB (%+.0f%%)", src, grew/(1<<20), n/(1<<20), 100*(n/grew-1))
		if n < 0.6*grew || n > 1.5*grew {
			t.Errorf("%s: measured %.1f MB for a heap that grew %.1f MB", src, n/(1<<20), grew/(1<<20))
		}
		if capped < 10<<20 || capped > 10<<20+1<<20 && capped > int64(n) {
			t.Errorf("%s: the walk limited to 10 MB counted %.1f MB", src, float64(capped)/(1<<20))
		}
	}
}

// BenchmarkSizeObjects: the walk's cost per JavaScript object (100,000
// small objects: each a goja Object, its properties' map and an array).
func BenchmarkSizeObjects(b *testing.B) {
	vm := goja.New()
	vm.RunString(`var a = []; for (var i = 0; i < 100000; i++) a.push({src: '10.0.0.' + (i % 250), n: i, tags: ['a', 'b']});`)
	b.ResetTimer()
	for range b.N {
		sizeOf(0, vm)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/object")
}
