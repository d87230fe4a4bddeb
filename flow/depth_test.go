package flow

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/internal/synth"
)

// nest wraps expr in n levels of f (f(x) returns one level around x).
func nest(n int, f func(string) string, expr string) string {
	for range n {
		expr = f(expr)
	}
	return expr
}

var (
	brackets = func(x string) string { return "[" + x + "]" }
	orLevel  = func(x string) string { return "or:[" + x + "]:ipsource" }
	parens   = func(x string) string { return "(" + x + ")" }
)

// TestNestingLimits: keys, key functions and filters nested MaxDepth deep
// compile and evaluate; one level more is refused with the limit named,
// and a 2,000,000-level filter (the 4 MB body that overflowed the stack)
// is refused in one line.
func TestNestingLimits(t *testing.T) {
	dns := sampleOf(t, synth.DNS)
	c := NewCompiler()
	for name, f := range map[string]func(string) string{"brackets": brackets, "or:": orLevel} {
		e, err := c.Key(nest(MaxDepth, f, "ipsource"))
		if err != nil {
			t.Fatalf("%s %d deep: %v", name, MaxDepth, err)
		}
		if v, ok := e.AppendValue(dns, nil); !ok || string(v) != "10.0.0.0" {
			t.Errorf("%s %d deep = %q %v", name, MaxDepth, v, ok)
		}
		_, err = c.Key(nest(MaxDepth+1, f, "ipsource"))
		if !errors.Is(err, ErrTooDeep) || !strings.Contains(err.Error(), "nested more than 64 deep") {
			t.Errorf("%s %d deep: %v, want the limit named", name, MaxDepth+1, err)
		}
	}
	// The if: branch that is not a key is a constant, but one nested too
	// deep is refused rather than kept as text.
	if _, err := c.Key("if:ipprotocol:6:" + nest(MaxDepth+1, brackets, "ipsource") + ":x"); !errors.Is(err, ErrTooDeep) {
		t.Errorf("if: with a too deep branch: %v", err)
	}
	flt, err := c.Filter(nest(MaxDepth, parens, "ipprotocol=17"))
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	if !flt.Match(dns, &buf) {
		t.Errorf("%d parentheses: no match", MaxDepth)
	}
	if _, err := c.Filter(nest(MaxDepth+1, parens, "ipprotocol=17")); err == nil || !strings.Contains(err.Error(), "parentheses nested more than 64 deep") {
		t.Errorf("%d parentheses: %v", MaxDepth+1, err)
	}
	n := 2000000
	_, err = c.Filter(strings.Repeat("(", n) + "ipprotocol=6" + strings.Repeat(")", n))
	if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), "(4000012 bytes)") {
		t.Errorf("2,000,000 parentheses: %.400v", err)
	}
	// A key in a filter is held to the same limit.
	if _, err := c.Filter(nest(MaxDepth+1, brackets, "ipsource") + "=10.0.0.0"); !errors.Is(err, ErrTooDeep) && !strings.Contains(fmt.Sprint(err), "nested more than") {
		t.Errorf("deep key in a filter: %v", err)
	}
}

// TestDepthTravelsWithFunctions: a function that compiles a key of its own
// making (not a slice of the expression, so the one-pass check never sees
// it) is still stopped at MaxDepth: the depth is the compiler's.
func TestDepthTravelsWithFunctions(t *testing.T) {
	c := NewCompiler()
	calls := 0
	c.Register("again", func(c *Compiler, args []string) (Expr, error) {
		calls++
		return c.Key("again:" + args[0])
	})
	_, err := c.Key("again:x")
	if !errors.Is(err, ErrTooDeep) || calls != MaxDepth {
		t.Errorf("self-compiling function: %v after %d calls, want ErrTooDeep after %d", err, calls, MaxDepth)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestKeyCompileLinear: compiling costs in proportion to the expression.
// Four times the text allocates about four times the bytes (quadratic
// parsing allocated sixteen: each of the 40,000 levels copied the rest),
// for refused deep nesting and for accepted expressions as wide as
// MaxDepth allows. A count, not a time: see BenchmarkKeyNesting for times.
func TestKeyCompileLinear(t *testing.T) {
	c := NewCompiler()
	wide := func(w int) string {
		args := strings.Repeat(":ipsource", w)
		return nest(MaxDepth, func(x string) string { return "or:[" + x + "]" + args }, "ipsource")
	}
	for name, src := range map[string]func(n int) string{
		"deep brackets":    func(n int) string { return nest(n, brackets, "ipsource") },
		"deep or:":         func(n int) string { return strings.Repeat("or:[", n) + "ipsource" + strings.Repeat("]", n) },
		"wide at depth 64": wide,
	} {
		small, large := src(10000), src(40000)
		if name == "wide at depth 64" {
			small, large = src(50), src(200)
		}
		a := allocated(func() { c.Key(small) })
		b := allocated(func() { c.Key(large) })
		ratio := float64(b) / float64(max(a, 1))
		t.Logf("%s: %d bytes → %d allocated, %d bytes → %d (×%.1f)", name, len(small), a, len(large), b, ratio)
		if b > 6*max(a, 1)+64<<10 {
			t.Errorf("%s: 4× the text allocated ×%.1f the bytes (%d → %d): not linear", name, ratio, a, b)
		}
	}
}

// BenchmarkKeyNesting times the inputs: keys nested 10,000, 20,000
// and 40,000 levels (refused in one pass; 0.4 s, 1.7 s and 7.6 s when the
// parser was quadratic), and accepted expressions MaxDepth deep of growing
// width. MB/s is the same at every size when the work is linear.
func BenchmarkKeyNesting(b *testing.B) {
	c := NewCompiler()
	for _, n := range []int{10000, 20000, 40000} {
		src := nest(n, brackets, "ipsource")
		b.Run(fmt.Sprintf("brackets-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				c.Key(src)
			}
		})
		src2 := strings.Repeat("or:[", n) + "ipsource" + strings.Repeat("]", n)
		b.Run(fmt.Sprintf("or-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(src2)))
			for b.Loop() {
				c.Key(src2)
			}
		})
	}
	for _, w := range []int{50, 100, 200} {
		args := strings.Repeat(":ipsource", w)
		src := nest(MaxDepth, func(x string) string { return "or:[" + x + "]" + args }, "ipsource")
		b.Run(fmt.Sprintf("depth64-width-%d", w), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := c.Key(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRegexpBounds: a filter's regular expressions are bounded in number
// and length, the refusal saying why and what to use instead.
func TestRegexpBounds(t *testing.T) {
	c := NewCompiler()
	alts := func(n int) string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("a%d", i))
		}
		return strings.Join(s, ",")
	}
	if _, err := c.Filter("dnsqname~" + alts(MaxRegexps)); err != nil {
		t.Errorf("%d regular expressions: %v", MaxRegexps, err)
	}
	for _, src := range []string{"dnsqname~" + alts(MaxRegexps+1), "dnsqname~" + alts(100) + "&ipsource~" + alts(157),
		"dnsqname~" + strings.Repeat("a", MaxRegexpsBytes+1)} {
		if _, err := c.Filter(src); err == nil || !strings.Contains(err.Error(), "list exact values after =") {
			t.Errorf("%.40s…: %v", src, err)
		}
	}
	// Exact values are not bounded: 100,000 of them are one set.
	if _, err := c.Filter("dnsqname=" + alts(100000)); err != nil {
		t.Error(err)
	}
}

// FuzzKeys compiles arbitrary key lists: each key is accepted or refused,
// never a panic; an accepted one evaluates on real samples, and wrapped
// in brackets (a level deeper) gives the same value, or is refused for
// depth alone.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"ipsource,ipdestination", "or:[mask:ipsource:24]:ip6source", "concat:\\::ipsource:[suffix:dnsqname:.:2]",
		"if:[first:stack:.:ip:ip6]:ip:ipsource:ip6source", "null:[range:ipttl:1:64]:x", "[[[[ipprotocol]]]]", "uri:httpurl:host",
		"eq:[bits:tcpflags:2]:[bits:tcpflags:18]", strings.Repeat("[", 70) + "ipsource" + strings.Repeat("]", 70)} {
		f.Add(s)
	}
	samples := []*Sample{sampleOf(f, synth.DNS), sampleOf(f, synth.TCP), sampleOf(f, synth.Unreachable), {}}
	c := NewCompiler()
	f.Fuzz(func(t *testing.T, src string) {
		for _, k := range SplitNames(src) {
			e, err := c.Key(k)
			if err != nil {
				continue
			}
			w, werr := c.Key("[" + strings.TrimSpace(k) + "]")
			if werr != nil && !errors.Is(werr, ErrTooDeep) {
				t.Fatalf("%q compiles but [%q] does not: %v", k, k, werr)
			}
			for _, s := range samples {
				v, ok := e.AppendValue(s, nil)
				if werr == nil {
					if v2, ok2 := w.AppendValue(s, nil); ok2 != ok || string(v2) != string(v) {
						t.Fatalf("%q = %q %v, [%q] = %q %v", k, v, ok, k, v2, ok2)
					}
				}
			}
		}
	})
}
