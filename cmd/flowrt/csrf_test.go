package main_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// attackPage is what a page of another site can do to flowrt without its
// leave: fetch() POSTs with the types no preflight guards (text/plain,
// none), a JSON PUT and a DELETE (preflighted), a beacon, form POSTs (text/plain and
// urlencoded) into frames, and an image whose GET asks a script to act.
// It sets its title to "done" once every attempt has settled.
const attackPage = `<!doctype html><title>attack</title>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="f1" method="POST" target="sink1" enctype="text/plain" action="{{E}}/flow/evilform{{T}}/json"><input name='{"keys":"ipsource","value":"bytes","x":"' value='"}'></form>
<form id="f2" method="POST" target="sink2" action="{{E}}/threshold/evilthr{{T}}/json"><input name="{metric:'evil', value:1}" value=""></form>
<script>
(async () => {
  const E = '{{E}}', T = '{{T}}';
  const flow = "{keys:'ipsource', value:'bytes'}";
  const tries = [
    fetch(E + '/flow/evilfetch' + T + '/json', {method: 'POST', mode: 'no-cors', body: flow}),
    fetch(E + '/flow/evilblob' + T + '/json', {method: 'POST', mode: 'no-cors', body: new Blob([flow])}),
    fetch(E + '/forwarding/evilfwd' + T + '/json', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: "{address:'127.0.0.1', port:9}"}),
    fetch(E + '/topology/json', {method: 'POST', mode: 'no-cors', body: "{links:{}}"}),
    fetch(E + '/script/hits.js/json?action=count&post=1', {method: 'POST', mode: 'no-cors', body: "{}"}),
    fetch(E + '/script/hits.js/json?action=count', {mode: 'no-cors'}),
    new Promise(done => { const i = new Image(); i.onload = i.onerror = done; i.src = E + '/script/hits.js/json?action=count&img=1'; }),
    // PUT and DELETE are never simple: the browser asks first (OPTIONS).
    fetch(E + '/flow/evilcors' + T + '/json', {method: 'PUT', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({keys: 'ipsource', value: 'bytes'})}),
    fetch(E + '/flow/keep/json', {method: 'DELETE'}),
  ].map(p => p.catch(() => 'refused'));
  navigator.sendBeacon(E + '/flow/evilbeacon' + T + '/json', flow);
  const frames = [...document.querySelectorAll('iframe')].map(f => new Promise(done => f.addEventListener('load', done, {once: true})));
  document.getElementById('f1').submit();
  document.getElementById('f2').submit();
  await Promise.all(tries);
  await Promise.all(frames);
  await new Promise(done => setTimeout(done, 500)); // the beacon
  document.title = 'done';
})();
</script>`

// TestCrossOriginPagesCannotChangeAnything opens, in Chromium, pages of
// another site (127.0.0.2) and of another origin on the same site
// (127.0.0.1, another port) that try every kind of change flowrt serves,
// and checks that the engine received each attempt and refused it (403 or
// 415), that nothing was created, deleted or counted, and that flowrt's
// own pages and curl still change things.
func TestCrossOriginPagesCannotChangeAnything(t *testing.T) {
	need(t, "chromium")
	dir := t.TempDir()
	hits := filepath.Join(dir, "hits.js")
	os.WriteFile(hits, []byte(`var hits = 0;
setHttpHandler(function(request) {
  if (request.query.action) hits++;
  return JSON.stringify({hits: hits});
});`), 0o644)
	e := startEngine(t, "-Dhttp.log=yes", "-Dscript.file="+hits)
	// The articles' curl lines: no Content-Type, curl's urlencoded, JSON.
	for _, c := range [][3]string{
		{"PUT", "/flow/keep/json", ""},
		{"PUT", "/threshold/uports/json", "application/x-www-form-urlencoded"},
		{"PUT", "/group/json", "application/json"},
	} {
		body := map[string]string{"/flow/keep/json": "{keys:'ipsource', value:'bytes'}",
			"/threshold/uports/json": "{metric:'uports', value:100, byFlow:true, timeout:5}",
			"/group/json":            "{external:['0.0.0.0/0'], private:['10.0.0.0/8']}"}[c[1]]
		req, _ := http.NewRequest(c[0], e.http+c[1], strings.NewReader(body))
		if c[2] != "" {
			req.Header.Set("Content-Type", c[2])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("curl-like %s %s (%q): %v %v", c[0], c[1], c[2], err, resp)
		}
		resp.Body.Close()
	}
	b := startBrowser(t, e)
	for i, host := range []string{"127.0.0.2", "127.0.0.1"} {
		tag := fmt.Sprint(i)
		page := strings.NewReplacer("{{E}}", e.http, "{{T}}", tag).Replace(attackPage)
		ln, err := net.Listen("tcp", host+":0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		at := "http://" + ln.Addr().String() + "/"
		b.run("attack from "+at, chromedp.Navigate(at))
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.title === 'done'`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			b.shot("failed-cross-origin-attack-" + tag)
			t.Fatalf("the page at %s did not finish its attempts: %v", at, err)
		}
		b.shot("cross-origin-attack-" + tag)
	}

	var flows map[string]any
	e.get(t, "/flow/json", &flows)
	for name := range flows {
		if strings.HasPrefix(name, "evil") {
			t.Errorf("a page of another origin created flow %s", name)
		}
	}
	if flows["keep"] == nil {
		t.Errorf("a page of another origin deleted flow keep: %v", flows)
	}
	var fwd map[string]any
	e.get(t, "/forwarding/json", &fwd)
	var thr, groups map[string]any
	e.get(t, "/threshold/json", &thr)
	e.get(t, "/group/json", &groups)
	if len(fwd) != 0 || len(thr) != 1 || thr["uports"] == nil || groups["evil"] != nil || groups["private"] == nil {
		t.Errorf("after the attacks: forwarding %v, thresholds %v, groups %v; want none, uports, the curl line's", fwd, thr, groups)
	}
	var counted struct{ Hits int }
	e.get(t, "/script/hits.js/json", &counted)
	if counted.Hits != 0 {
		t.Errorf("a page of another origin made the script act %d times", counted.Hits)
	}

	// Every attempt reached the engine and was refused: the attacks were
	// real, and the answer was a refusal, not a failure elsewhere.
	logged := regexp.MustCompile(`method=(\w+) path="?([^" ]+)"? status=(\d+)`)
	answered := map[string]string{}
	for _, m := range logged.FindAllStringSubmatch(e.log.String(), -1) {
		answered[m[1]+" "+m[2]] += m[3] + " "
	}
	for _, want := range []string{"POST /flow/evilfetch%d/json", "POST /flow/evilblob%d/json", "POST /forwarding/evilfwd%d/json",
		"POST /flow/evilform%d/json", "POST /threshold/evilthr%d/json", "POST /flow/evilbeacon%d/json",
		"OPTIONS /flow/evilcors%d/json"} {
		for i := range 2 {
			key := fmt.Sprintf(want, i)
			if s, ok := answered[key]; s != "403 " && !(ok && strings.HasPrefix(key, "OPTIONS") && s == "405 ") {
				t.Errorf("%s: engine answered %q, want it refused once (403; a preflight 405)", key, s)
			}
		}
	}
	for _, key := range []string{"POST /topology/json", "POST /script/hits.js/json?action=count&post=1",
		"GET /script/hits.js/json?action=count", "GET /script/hits.js/json?action=count&img=1", "OPTIONS /flow/keep/json"} {
		want := "403 403 "
		if strings.HasPrefix(key, "OPTIONS") {
			want = "405 405 "
		}
		if s := answered[key]; s != want {
			t.Errorf("%s: engine answered %q, want %q (once from each page)", key, s, want)
		}
	}
	// Past a refused preflight the browser sends nothing.
	for _, key := range []string{"PUT /flow/evilcors0/json", "PUT /flow/evilcors1/json"} {
		if s := answered[key]; s != "" {
			t.Errorf("%s reached the engine: %q", key, s)
		}
	}
	if s := answered["DELETE /flow/keep/json"]; s != "" {
		t.Errorf("DELETE /flow/keep/json reached the engine: %q", s)
	}
	t.Logf("answered: %v", answered)

	// flowrt's own page still changes things, as lib.js does.
	b.run("own page", chromedp.Navigate(e.http+"/"))
	got, err := ownPageChange(b)
	if err != nil || got != "204 frames 204" {
		t.Errorf("flowrt's own page: PUT, GET, DELETE answered %q (%v), want 204 frames 204", got, err)
	}
}

// TestWebPagesBehindAuthentication: with users configured, Chromium given
// a user and password (as the login box would) shows the pages, and a
// page's own change (the PUT and DELETE lib.js makes) carries them.
func TestWebPagesBehindAuthentication(t *testing.T) {
	need(t, "chromium")
	hash, _ := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.MinCost)
	e := startEngine(t, "-Dhttp.auth=alice:"+string(hash)+":read-write,bob:"+string(hash)+":read-only", "-Dhttp.log=yes")
	b := startBrowser(t, e)
	asked := answerLogins(t, b, "alice", "alice-pw")
	b.run("status page behind authentication", chromedp.Navigate(e.http+"/"))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`(document.getElementById('version')||{}).textContent === '`+strings.TrimSpace(run(t, "version"))+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		b.shot("failed-auth-status")
		t.Fatalf("the navigation bar's version did not load behind authentication: %v", err)
	}
	if asked.Load() == 0 {
		t.Errorf("the browser was never asked for a user")
	}
	got, err := ownPageChange(b)
	if err != nil || got != "204 frames 204" {
		t.Errorf("a page's PUT, GET, DELETE behind authentication: %q (%v), want 204 frames 204", got, err)
	}
	b.shot("status-behind-authentication")
	// A read-only user sees the pages; one that defines its own flow
	// shows the refusal.
	ro := startBrowser(t, e)
	answerLogins(t, ro, "bob", "alice-pw")
	ro.run("Flow Trend as a read-only user", chromedp.Navigate(e.http+"/#/flows?keys=ipsource&value=frames"))
	msg, err := chromedp.Run(ro.ctx, chromedp.Poll[string](`(() => { const t = (document.getElementById('error')||{}).textContent || ''; return t.includes('403') ? t : false; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || !strings.Contains(msg, "bob is read-only") {
		ro.shot("failed-read-only-trend")
		t.Errorf("Flow Trend as read-only bob: error line %q (%v), want the engine's 403", msg, err)
	}
	ro.shot("flow-trend-read-only")
	// Without the user, the same page is refused.
	b2 := startBrowser(t, e)
	resp, err := chromedp.Run(b2.ctx, chromedp.NavigateResponse(e.http+"/"))
	// Headless Chromium has no login box: it gives up on the 401.
	if !(err == nil && resp.Status == 401 || err != nil && strings.Contains(err.Error(), "ERR_INVALID_AUTH_CREDENTIALS")) {
		t.Errorf("the page without a user: %v %v, want 401 or Chromium's ERR_INVALID_AUTH_CREDENTIALS", resp, err)
	}
}

// answerLogins answers the browser's requests for a user and password as
// a person at the login box would, and counts them.
func answerLogins(t *testing.T, b *browser, user, password string) *atomic.Int64 {
	t.Helper()
	asked := &atomic.Int64{}
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	auth := chromedp.Events(b.ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range auth {
			if err != nil {
				return
			}
			asked.Add(1)
			chromedp.Call(b.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: user, Password: password}})
		}
	}()
	yes := true
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
	return asked
}

// TestDNSRebindingRefusedWithHosts: Chromium resolves rebind.test to
// 127.0.0.1, as a rebinding attacker's DNS would once its page is loaded;
// to the browser that page is then of the engine's own origin. Without
// http.hosts its script's JSON PUT goes through (why the property
// exists); with it, the engine refuses every request naming rebind.test,
// and still answers its own names.
func TestDNSRebindingRefusedWithHosts(t *testing.T) {
	need(t, "chromium")
	put := `(async () => (await fetch('/flow/rebound/json', {method: 'PUT', headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({keys: 'ipsource', value: 'frames'})})).status)()`
	for _, hosts := range []string{"", "flowrt.example.net"} {
		e := startEngine(t, "-Dhttp.hosts="+hosts)
		b := startBrowser(t, e, chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"))
		at := strings.Replace(e.http, "127.0.0.1", "rebind.test", 1) + "/"
		resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(at))
		if err != nil {
			t.Fatalf("http.hosts=%q: navigating to %s: %v", hosts, at, err)
		}
		status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](put, chromedp.EvalAwaitPromise))
		var flows map[string]any
		e.get(t, "/flow/json", &flows)
		t.Logf("http.hosts=%q: the page at %s answered %d, its PUT %d (%v); defined: %v", hosts, at, resp.Status, status, err, flows["rebound"] != nil)
		if hosts == "" {
			if resp.Status != 200 || status != 204 || flows["rebound"] == nil {
				t.Errorf("without http.hosts: page %d, PUT %d, flow %v: the rebinding this test shows did not happen", resp.Status, status, flows["rebound"])
			}
			continue
		}
		if resp.Status != 421 || status != 421 || flows["rebound"] != nil {
			t.Errorf("with http.hosts: page %d, PUT %d, flow %v; want 421, 421 and nothing defined", resp.Status, status, flows["rebound"])
		}
		if code, _ := e.do(t, "PUT", "/flow/own/json", "{value:'bytes'}"); code != 204 {
			t.Errorf("with http.hosts, curl to 127.0.0.1: %d", code)
		}
	}
}

// ownPageChange makes, from the page the browser shows, the PUT, GET and
// DELETE of a flow that flowrt's pages make, and returns their statuses
// and the value read ("204 frames 204" when all went through).
func ownPageChange(b *browser) (string, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => {
  const put = await fetch('/flow/own/json', {method: 'PUT', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({keys: 'ipsource', value: 'frames'})});
  const got = await fetch('/flow/own/json').then(r => r.json());
  const del = await fetch('/flow/own/json', {method: 'DELETE'});
  return put.status + ' ' + got.value + ' ' + del.status;
})()`, chromedp.EvalAwaitPromise))
}
