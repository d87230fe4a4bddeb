package script

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// TestBlockingCallsEndWithTheCallback: what a script waits on in Go — a
// backtracking regular expression, a deep JSON.stringify, a default sort
// of a million numbers, a deep join, http() and http2() to a server on
// 127.0.0.1 that accepts and never answers, graphite() to one that never
// reads, syslog(), graphite() and dnsGetAllByName() of a name whose DNS
// server never answers — ends with the callback's script.timeout (1 s
// here), and the script serves the next request. Before, each ran on past
// script.timeout (the regular expression 9 s for 26 a's, stringify 8.5 s,
// http() for as long as the server held the connection).
func TestBlockingCallsEndWithTheCallback(t *testing.T) {
	r := newRig(t, time.Second)
	r.m.deps.Resolver = silentResolver(t)
	quiet, deaf := newSilentTCP(t, true), newSilentTCP(t, false)
	host, port, _ := strings.Cut(deaf.addr, ":")
	s := r.load(t, "block.js", `
var big = {};
var long = 'flowrt.test.' + 'x'.repeat(200) + '.';
for (var i = 0; i < 60000; i++) big[long + i] = i;  // 13 MB of Graphite lines
var cases = {
  regex: function() { return /^(a+)+$(?!x)/.test('a'.repeat(32) + '!'); },
  stringify: function() { var o = {}; for (var i = 0; i < 60000; i++) o = {a: o}; return JSON.stringify(o).length; },
  sort: function() { var a = []; for (var i = 0; i < 1000000; i++) a.push(i * 7919 % 1000003); a.sort(); return a.length; },
  join: function() { var a = []; for (var i = 0; i < 250000; i++) a = [a]; return String(a).length; },
  http: function() { return http('http://`+quiet.addr+`/'); },
  http2: function() { return http2({url: 'http://`+quiet.addr+`/', operation: 'post', body: {a: 1}}).status; },
  graphiteWrite: function() { return graphite('`+host+`', `+port+`, big); },
  graphiteName: function() { return graphite('carbon.flowrt.test', 2003, {a: 1}); },
  syslog: function() { return syslog('syslog.flowrt.test', 514, null, null, {a: 1}); },
  dns: function() { return dnsGetAllByName('host.flowrt.test'); },
};
setHttpHandler(function(req) {
  if (req.path[0] == 'ok') return 'still here';
  return {result: cases[req.path[0]]()};
});`)
	for _, name := range []string{"regex", "stringify", "sort", "join", "http", "http2", "graphiteWrite", "graphiteName", "syslog", "dns"} {
		start := time.Now()
		resp := call(t, s, name, nil)
		took := time.Since(start)
		body := string(resp.Body)
		// A call that returns at the deadline either throws its own error
		// naming the limit, or the watchdog's interrupt wins the race.
		ok := resp.Status == 500 && (strings.Contains(body, "interrupted: ran longer than 1s (script.timeout)") ||
			strings.Contains(body, "no answer within the callback's time (script.timeout 1s)"))
		if !ok || took > 1500*time.Millisecond {
			t.Errorf("%s: %d %s after %v; want a 500 at the 1 s script.timeout", name, resp.Status, body, took)
		}
		if got := string(call(t, s, "ok", nil).Body); got != "still here" {
			t.Errorf("after %s: %s", name, got)
		}
		t.Logf("%-13s ended after %v: %s", name, took.Round(time.Millisecond), strings.TrimSpace(body))
	}
	if n := quiet.total.Load(); n != 2 {
		t.Errorf("the silent HTTP server saw %d connections, want 2 (http, http2)", n)
	}
}

// TestBoundedBuiltinsKeepTheirResults: the bounded JSON.stringify, sort and
// join answer exactly what goja's own do.
func TestBoundedBuiltinsKeepTheirResults(t *testing.T) {
	const v = `var v = {b: [1, 'two', {c: null, d: undefined, e: function() {}}], a: new Date(0), n: NaN, s: 'é"\n',
  nested: {toJSON: function(k) { return 'key ' + k; }}, arr: [undefined, function() {}, Symbol('x')], big: 1e21,
  list: [10, 9, 1, undefined, 'b', 'a', 100, null, 2, , -1, 'B', 'é', '\u{1F600}', 'z']};`
	exprs := []string{
		"JSON.stringify(v)", "JSON.stringify(v, null, 2)", "JSON.stringify(v, ['b', 'a'])", "JSON.stringify(v, null, '--')",
		"JSON.stringify(v, function(k, x) { return typeof x == 'number' ? x * 2 : x; })", "JSON.stringify(v, 'not a replacer')",
		"String(JSON.stringify(undefined))", "String(JSON.stringify(function() {}))", "JSON.stringify('s')",
		"v.list.slice().sort().join(',')", "String(v.list.slice().sort().length)", "v.list.toSorted ? v.list.toSorted().join('|') : ''",
		"[3, 1, 2].sort(function(x, y) { return y - x; }).join(',')", "[[1, [2, [3]]], 4].join(';')", "String([1, [2, 3]])",
		"[1, 2].join()", "[].join('x')", "Array.prototype.join.call({length: 2, 0: 'a', 1: 'b'}, '+')",
	}
	r := newRig(t, 2*time.Second)
	s := r.load(t, "same.js", v+`
var exprs = `+mustJSON(exprs)+`;
setHttpHandler(function() { return exprs.map(function(e) { return eval(e); }); });`)
	var got []string
	if err := json.Unmarshal(call(t, s, "x", nil).Body, &got); err != nil {
		t.Fatal(err)
	}
	ref := goja.New()
	if _, err := ref.RunString(v); err != nil {
		t.Fatal(err)
	}
	for i, e := range exprs {
		w, err := ref.RunString(e)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(got) || got[i] != w.String() {
			t.Errorf("%s:\n got %q\nwant %q (goja's own)", e, got[min(i, len(got)-1)], w.String())
		}
	}
}
