package exp

import (
	"testing"
	"time"

	"github.com/dop251/goja"
)

func run(t *testing.T, name, src string) {
	vm := goja.New()
	tm := time.AfterFunc(2*time.Second, func() { vm.Interrupt("timeout") })
	defer tm.Stop()
	start := time.Now()
	v, err := vm.RunString(src)
	t.Logf("%s: %v err=%v in %v", name, v, err, time.Since(start))
}

func TestExp(t *testing.T) {
	run(t, "join60k", `var a=[]; for(var i=0;i<60000;i++) a=[a]; String(a).length`)
	run(t, "flat", `var a=[]; for(var i=0;i<60000;i++) a=[a]; a.flat(Infinity).length`)
	run(t, "regex", `/^(a+)+$(?!x)/.test('a'.repeat(26)+'!')`)
	run(t, "sort", `var a=[]; for(var i=0;i<1e6;i++) a.push(Math.random()); a.sort(); a.length`)
}
