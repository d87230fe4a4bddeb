package script

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHTTPAsyncCallbacks: the documented form httpAsync({url, success})
// (it threw, always: the object's functions have no JSON form) calls
// success with {status, body, headers, url}; error gets an error status,
// and a server that never answers ends at script.http.timeout with
// {status: 0, error}; the request's operation, headers and a JSON body
// reach the server.
func TestHTTPAsyncCallbacks(t *testing.T) {
	r := newRig(t, 2*time.Second)
	r.m.deps.HTTPTimeout = 500 * time.Millisecond
	quiet := newSilentTCP(t, true)
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		got <- fmt.Sprintf("%s %s %s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"), req.Header.Get("X-Test"), b)
		if req.URL.Path == "/missing" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("X-Answer", "42")
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	s := r.load(t, "async.js", `
var results = [];
function note(kind) { return function(res) { results.push(kind + ' ' + JSON.stringify(res)); }; }
httpAsync({url: '`+srv.URL+`/hello', success: note('success')});
httpAsync({url: '`+srv.URL+`/missing', success: note('success'), error: note('error')});
httpAsync({url: '`+srv.URL+`/post', operation: 'post', headers: {'X-Test': 'yes'}, body: {a: [1, 2]}, success: note('posted')});
var started = Date.now();
httpAsync({url: 'http://`+quiet.addr+`/', error: function(res) { results.push('silent after ' + (Date.now() - started) + ' ms ' + JSON.stringify(res)); }});
setHttpHandler(function() { return results; });`)
	var results []string
	eventually(t, "four callbacks", func() bool {
		results = nil
		json.Unmarshal(call(t, s, "x", nil).Body, &results)
		return len(results) == 4
	})
	joined := strings.Join(results, "\n")
	for _, want := range []string{
		`success {"status":200,"url":"` + srv.URL + `/hello","body":"hello","headers":{"Content-Length":"5","Content-Type":"text/plain; charset=utf-8","Date":`,
		`"X-Answer":"42"}}`,
		`error {"status":404,"url":"` + srv.URL + `/missing","body":"404 page not found\n","headers":{`,
		`posted {"status":200,"url":"` + srv.URL + `/post","body":"hello"`,
		` ms {"status":0,"url":"http://` + quiet.addr + `/","body":"","error":"no answer within 500ms (script.http.timeout)"}`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("callbacks lack %q:\n%s", want, joined)
		}
	}
	var waited int
	for _, l := range results {
		fmt.Sscanf(l, "silent after %d ms", &waited)
	}
	if waited < 450 || waited > 1500 {
		t.Errorf("the silent server's error came after %d ms, want ~500 (script.http.timeout)", waited)
	}
	close(got)
	var seen []string
	for g := range got {
		seen = append(seen, g)
	}
	if !strings.Contains(strings.Join(seen, "\n"), `POST /post application/json yes {"a":[1,2]}`) {
		t.Errorf("the server saw %q", seen)
	}
	if st := s.Status(); st.HTTPAsync != 0 || st.HTTPAsyncRefused != 0 || st.Errors != 0 {
		t.Errorf("status %+v", st)
	}
}

// TestHTTPAsyncCap: a script calling httpAsync faster than a server that
// never answers holds at most script.httpasync.max requests (4 here): the
// server sees 4 connections, the other calls are refused with an
// exception, counted in /scripts/json; when the requests time out the
// slots are free again. Before: every call a connection and a goroutine
// (8.4k fds, 25k goroutines in the attack).
func TestHTTPAsyncCap(t *testing.T) {
	r := newRig(t, 2*time.Second)
	r.m.deps.HTTPTimeout = time.Second
	r.m.deps.AsyncMax = 4
	quiet := newSilentTCP(t, true)
	s := r.load(t, "flood.js", `
var refused = 0, errors = 0, last = '';
setHttpHandler(function(req) {
  if (req.path[0] == 'flood') {
    for (var i = 0; i < 1000; i++) {
      try { httpAsync({url: 'http://`+quiet.addr+`/' + i, error: function() { errors++; }}); }
      catch (e) { refused++; last = '' + e; }
    }
  }
  return {refused: refused, errors: errors, last: last};
});`)
	var got struct {
		Refused, Errors int
		Last            string
	}
	json.Unmarshal(call(t, s, "flood", nil).Body, &got)
	if got.Refused != 996 || !strings.Contains(got.Last, "refused: 4 requests of this script are in flight already (script.httpasync.max)") {
		t.Errorf("1,000 calls: %+v", got)
	}
	eventually(t, "4 connections at the server", func() bool { return quiet.open.Load() == 4 })
	if st := s.Status(); st.HTTPAsync != 4 || st.HTTPAsyncRefused != 996 {
		t.Errorf("in flight %d, refused %d; want 4, 996", st.HTTPAsync, st.HTTPAsyncRefused)
	}
	eventually(t, "the 4 timed out, their error callbacks run", func() bool {
		json.Unmarshal(call(t, s, "x", nil).Body, &got)
		return got.Errors == 4 && s.Status().HTTPAsync == 0
	})
	eventually(t, "the connections closed", func() bool { return quiet.open.Load() == 0 })
	if n := quiet.total.Load(); n != 4 {
		t.Errorf("%d connections in all, want 4", n)
	}
	// Free again: the next flood gets 4 more through.
	json.Unmarshal(call(t, s, "flood", nil).Body, &got)
	if got.Refused != 2*996 {
		t.Errorf("second flood: %+v", got)
	}
}
