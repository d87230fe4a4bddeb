package exp

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/dop251/goja"
)

func BenchmarkMetricsRead(b *testing.B) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range b.N {
		metrics.Read(s)
	}
}

func BenchmarkMetricsRead3(b *testing.B) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	for range b.N {
		metrics.Read(s)
	}
}

func run(t *testing.T, name, src string) {
	vm := goja.New()
	tm := time.AfterFunc(2*time.Second, func() { vm.Interrupt("timeout") })
	defer tm.Stop()
	var ms runtime.MemStats
	start := time.Now()
	v, err := vm.RunString(src)
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %v err=%v in %v heap %d MB", name, v, err, time.Since(start), ms.HeapAlloc>>20)
	runtime.GC()
}

func TestExp(t *testing.T) {
	run(t, "newArray", `var a = new Array(1e9); a.length`)
	run(t, "fill", `var a = new Array(2e7).fill(0); a.length`)
	run(t, "join", `new Array(1e8).join('x').length`)
	run(t, "u8", `new Uint8Array(2**28).length`)
	run(t, "from", `Array.from({length: 2e7}).length`)
	run(t, "padEnd", `''.padEnd(2**27).length`)
	run(t, "concat", `var s='x'; for (var i=0;i<27;i++) s = s + s; s.length`)
}
