package script

import (
	"testing"

	"github.com/dop251/goja"
)

func BenchmarkSizeObjects(b *testing.B) {
	vm := goja.New()
	vm.RunString(`var a = []; for (var i = 0; i < 100000; i++) a.push({src: '10.0.0.' + (i % 250), n: i, tags: ['a', 'b']});`)
	b.ResetTimer()
	for range b.N {
		sizeOf(0, vm)
	}
}
