package script

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// runNashorn compiles src as a script is compiled and returns what its
// last expression evaluates to.
func runNashorn(t *testing.T, src string) string {
	t.Helper()
	prg, err := compileScript("n.js", src)
	if err != nil {
		t.Fatalf("%v\nsource:\n%s", err, src)
	}
	v, err := goja.New().RunProgram(prg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return v.String()
}

// TestNashornForms: the two Nashorn extensions compute what Nashorn
// computed — for each gives property values, an expression closure
// returns its expression — written the ways InMon's apps write them.
func TestNashornForms(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"for each over an array, no declaration", `var out = [], x;
for each (x in [3, 4, 5]) { out.push(x * 2); }
out.join()`, "6,8,10"},
		{"for each var over an object", `var o = {a: 'p', b: 'q'}, s = '';
for each (var v in o) s += v;
s`, "pq"},
		{"for each let over a call, nested", `function rows() { return [{ds: '1'}, {ds: '2'}]; }
var n = 0;
for each (let r in rows()) { for each (let c in r.ds.split('')) n += +c; }
n`, "3"},
		{"for each over null does nothing", `var n = 0;
for each (var v in null) n++;
n`, "0"},
		{"expression closure in map", `[1, -2, 3].map(function(x) Math.sign(x)).join()`, "1,-1,1"},
		{"expression closure with a ternary", `[1, 2, 3, 4].map(function(x) x % 2 === 0 ? 1 : -1).join()`, "-1,1,-1,1"},
		{"expression closure in sort", `[{i: 3}, {i: 1}, {i: 2}].sort(function(a, b) a.i - b.i ).map(function(e) e.i).join()`, "1,2,3"},
		{"expression closure in find with &&", `var ip = '10.0.0.1';
var keys = [{key: '10.0.0.2,x', value: 9}, {key: '10.0.0.1,y', value: 3}, {key: '10.0.0.1,z', value: 8}];
keys.find(function(el) el.key.split(',')[0] === ip && el.value > 5).key`, "10.0.0.1,z"},
		{"named expression closure", `function sq(x) x * x
sq(7)`, "49"},
		{"curried expression closures", `var add = function(a) function(b) a + b;
add(2)(3)`, "5"},
		{"a closure body that calls with a closure", `[[1, 2], [3]].map(function(a) a.map(function(x) x + 1).join('+')).join(' ')`, "2+3 4"},
		{"an expression closure assigned, then a statement on the next line", `var f = function(x) x + 1
var g = 10
f(g)`, "11"},
		{"a body on the next line", `var f = function(x)
  x * 3;
f(2)`, "6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := runNashorn(t, c.src); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestNashornLeavesTextAlone: the forms inside strings, template literals,
// comments and regular expressions are text, not code, and stay as they
// were; only the real one on the last line is rewritten.
func TestNashornLeavesTextAlone(t *testing.T) {
	src := "var a = 'for each (x in y)', b = \"function(x) x\";\n" +
		"var c = `for each (${'function(q) q'} in z) ${a}`;\n" +
		"// for each (x in y) function(x) x\n" +
		"/* function(x) x\n for each (v in w) */\n" +
		"var r = /function(x) x|for each \\(/g, d = 4 / 2 / 1;\n" +
		"[a, b, c, r.source, d, [1].map(function(x) x + 1)[0]].join('|')"
	want := "for each (x in y)|function(x) x|for each (function(q) q in z) for each (x in y)|function(x) x|for each \\(|2|2"
	if got := runNashorn(t, src); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	out, _ := rewriteNashorn(src)
	if ol, sl := strings.Split(out, "\n"), strings.Split(src, "\n"); len(ol) != len(sl) || strings.Join(ol[:5], "\n") != strings.Join(sl[:5], "\n") {
		t.Errorf("lines before the last changed:\n%s", out)
	}
}

// TestNashornErrorLines: a script with the forms and a mistake further
// down is refused naming the mistake's own line.
func TestNashornErrorLines(t *testing.T) {
	src := "var xs = [1, 2];\n" +
		"for each (var x in xs) logInfo(x);\n" +
		"var f = xs.map(function(x) x * 2);\n" +
		"\n" +
		"var broken = ;\n"
	_, err := compileScript("/apps/a/scripts/n.js", src)
	if err == nil || !strings.Contains(err.Error(), "/apps/a/scripts/n.js:5:") {
		t.Fatalf("error %v does not name line 5", err)
	}
	// Run-time errors keep their lines too.
	_, err = compileScript("n.js", "var xs = [1];\nfor each (var x in xs) x;\nvar g = function(v) v\nnull.boom;\n")
	if err != nil {
		t.Fatal(err)
	}
	prg, _ := compileScript("n.js", "var xs = [1];\nfor each (var x in xs) x;\nvar g = function(v) v\nnull.boom;\n")
	_, err = goja.New().RunProgram(prg)
	if err == nil || !strings.Contains(err.Error(), "n.js:4:") {
		t.Fatalf("run-time error %v does not name line 4", err)
	}
}

// TestNashornScriptLoads: an application script in the older syntax loads
// in the manager and serves its REST handler.
func TestNashornScriptLoads(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "old.js", `// author: test
var counts = {a: 1, b: 2};
setHttpHandler(function(req) {
  var total = 0;
  for each (var c in counts) total += c;
  return {total: total, names: Object.keys(counts).sort(function(x, y) y < x ? -1 : 1)};
});
`)
	resp := call(t, s, "", nil)
	if got := compact(t, resp.Body); got != `{"total":3,"names":["b","a"]}` {
		t.Errorf("handler answered %s", got)
	}
}

// TestWrapGlobals: "// wrapglobals: rt" puts the API under rt, so the
// script's own functions named like API functions are its own.
func TestWrapGlobals(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "wrapped.js", `// wrapglobals: rt
// description: its own logInfo and flowKeys
var logged = [];
function logInfo(msg) { logged.push(msg); }
var flowKeys = 'mine';
rt.setFlow('wrapped', {keys: 'ipsource', value: 'bytes'});
logInfo('kept');
rt.logInfo('to the log');
rt.setHttpHandler(function(req) {
  return {own: flowKeys, logged: logged, api: typeof rt.flowKeys, global: typeof setFlow};
});
`)
	if got := compact(t, call(t, s, "", nil).Body); got != `{"own":"mine","logged":["kept"],"api":"function","global":"undefined"}` {
		t.Errorf("handler answered %s", got)
	}
	if _, ok := r.e.Definition("wrapped"); !ok {
		t.Error("rt.setFlow defined no flow")
	}
	path := r.dir + "/badwrap.js"
	if err := os.WriteFile(path, []byte("// wrapglobals: Math\nlogInfo(1);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Load(path); err == nil || !strings.Contains(err.Error(), "wrapglobals: Math") {
		t.Errorf("a built-in as the namespace: %v", err)
	}
}

// FuzzRewriteNashorn: the rewrite never panics, never moves a line, and a
// program goja accepts as it is compiles unchanged (compileScript does
// not rewrite it; rewriteNashorn itself finds nothing in it either).
func FuzzRewriteNashorn(f *testing.F) {
	for _, s := range []string{
		"for each (var x in y) z(x);",
		"a.map(function(x) x + 1)",
		"var s = `a${b}c${`d${e}`}`; function f(x) { return x / 2 / 3; }",
		"x = /[/]function(q) q/g.test('function(a) a')",
		"for each (",
		"function(",
		"function f() {} /* unclosed",
		"'unclosed\nfor each (k in o) k",
		"a = b\n/function(x) x/.source",
		"`${`${`",
		"}}}))]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, changed := rewriteNashorn(src)
		if !changed && out != src {
			t.Fatalf("unchanged but different")
		}
		if strings.Count(out, "\n") != strings.Count(src, "\n") || strings.Count(out, "\r") != strings.Count(src, "\r") {
			t.Fatalf("line breaks moved:\n%q\n%q", src, out)
		}
		if _, err := goja.Compile("f.js", src, false); err == nil && changed {
			t.Fatalf("a program goja accepts was rewritten:\n%q\n%q", src, out)
		}
	})
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out.String()
}
