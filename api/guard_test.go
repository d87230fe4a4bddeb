package api

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// guarded serves, behind Guard, a handler that answers 200 "reached"; it
// returns the server and how many requests reached the handler.
func guarded(t *testing.T, cfg GuardConfig) (*httptest.Server, *int) {
	t.Helper()
	n := new(int)
	srv := httptest.NewServer(Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		io.WriteString(w, "reached")
	}), cfg))
	t.Cleanup(srv.Close)
	return srv, n
}

func guardCall(t *testing.T, srv *httptest.Server, method, path, body string, header ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestGuardBodyTypes: programs may send the articles' bodies with no
// type, curl's urlencoded, text/plain or JSON; browsers only JSON or
// JavaScript; nobody a type flowrt does not read, except to a script.
func TestGuardBodyTypes(t *testing.T) {
	srv, reached := guarded(t, GuardConfig{})
	same := []string{"Origin", "", "Sec-Fetch-Site", "same-origin"} // filled below
	for _, c := range []struct {
		method, path, ctype string
		browser             bool
		want                int
	}{
		{"PUT", "/flow/x/json", "", false, 200},
		{"PUT", "/flow/x/json", "application/x-www-form-urlencoded", false, 200},
		{"PUT", "/flow/x/json", "text/plain", false, 200},
		{"PUT", "/flow/x/json", "application/json", false, 200},
		{"PUT", "/flow/x/json", "application/json; charset=utf-8", false, 200},
		{"POST", "/flow/x/json", "application/merge-patch+json", false, 200},
		{"PUT", "/flow/x/json", "multipart/form-data; boundary=x", false, 415},
		{"PUT", "/flow/x/json", "application/xml", false, 415},
		{"PUT", "/flow/x/json", "text/", false, 415},
		{"POST", "/script/a.js/json", "application/xml", false, 200},
		{"POST", "/app/ddos/scripts/ddos.js/json", "multipart/form-data; boundary=x", false, 200},
		{"PUT", "/flow/x/json", "application/json", true, 200},
		{"PUT", "/flow/x/json", "text/javascript", true, 200},
		{"PUT", "/flow/x/json", "", true, 415},
		{"PUT", "/flow/x/json", "text/plain;charset=UTF-8", true, 415},
		{"POST", "/flow/x/json", "application/x-www-form-urlencoded", true, 415},
		{"POST", "/script/a.js/json", "multipart/form-data; boundary=x", true, 415},
		{"DELETE", "/flow/x/json", "", true, 200}, // no body
		{"GET", "/flow/x/json", "text/plain", true, 200},
	} {
		before := *reached
		h := []string{}
		if c.ctype != "" {
			h = append(h, "Content-Type", c.ctype)
		}
		if c.browser {
			same[1] = srv.URL
			h = append(h, same...)
		}
		code, msg := guardCall(t, srv, c.method, c.path, "{value:'frames'}", h...)
		if c.method == "DELETE" {
			code, msg = guardCall(t, srv, c.method, c.path, "", h...)
		}
		if code != c.want || (code == 200) != (*reached == before+1) {
			t.Errorf("%s %s %q browser=%v: %d %q, want %d", c.method, c.path, c.ctype, c.browser, code, msg, c.want)
		}
		if code == 415 && !strings.Contains(msg, "application/json") {
			t.Errorf("%s %q: the refusal %q does not say what to send", c.method, c.ctype, msg)
		}
	}
}

// TestGuardOrigins: changes from other origins are refused, reads are
// not, except on the scripts' routes, where a GET can act.
func TestGuardOrigins(t *testing.T) {
	srv, _ := guarded(t, GuardConfig{})
	json := []string{"Content-Type", "application/json"}
	for _, c := range []struct {
		method, path string
		header       []string
		want         int
	}{
		{"PUT", "/flow/x/json", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"PUT", "/flow/x/json", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"PUT", "/flow/x/json", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"PUT", "/flow/x/json", []string{"Sec-Fetch-Site", "none"}, 200},
		{"POST", "/flow/x/json", []string{"Origin", "http://evil.example"}, 403},
		{"POST", "/flow/x/json", []string{"Origin", "null"}, 403},
		{"POST", "/flow/x/json", []string{"Origin", srv.URL}, 200},
		{"DELETE", "/flow/x/json", []string{"Origin", "http://evil.example"}, 403},
		{"GET", "/flow/x/json", []string{"Sec-Fetch-Site", "cross-site"}, 200},
		{"GET", "/script/ddos.js/json?action=block", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"GET", "/app/ddos/scripts/ddos.js/json", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"GET", "/app/ddos/scripts/ddos.js/json", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"GET", "/app/ddos/html/index.html", []string{"Sec-Fetch-Site", "cross-site"}, 200},
		{"GET", "/script/ddos.js/json", []string{"Sec-Fetch-Site", "none"}, 200},
		{"GET", "/script/ddos.js/json", nil, 200},
	} {
		body := ""
		if c.method != "GET" && c.method != "DELETE" {
			body = "{}"
		}
		code, msg := guardCall(t, srv, c.method, c.path, body, append(c.header, json...)...)
		if code != c.want {
			t.Errorf("%s %s %v: %d %q, want %d", c.method, c.path, c.header, code, msg, c.want)
		}
		if code == 403 && !strings.Contains(msg, "another origin") {
			t.Errorf("%s %s: refusal %q does not say why", c.method, c.path, msg)
		}
	}
}

// TestGuardHosts: with http.hosts, a Host that is not an address,
// localhost or a listed name (a rebinding page's own name) is refused.
func TestGuardHosts(t *testing.T) {
	srv, _ := guarded(t, GuardConfig{Hosts: []string{"flowrt.example.net"}})
	for host, want := range map[string]int{
		"127.0.0.1:8008": 200, "[::1]:8008": 200, "localhost:8008": 200, "LOCALHOST": 200, "flowrt.example.net:8008": 200,
		"flowrt.example.net.": 200, "10.0.0.1": 200, "evil.example:8008": 421, "flowrt.example.net.evil.example": 421,
	} {
		if code, msg := guardCall(t, srv, "GET", "/version", "", "Host", host); code != want {
			t.Errorf("Host %s: %d %q, want %d", host, code, msg, want)
		}
	}
	any, _ := guarded(t, GuardConfig{})
	if code, _ := guardCall(t, any, "GET", "/version", "", "Host", "evil.example"); code != 200 {
		t.Errorf("without http.hosts any name is sFlow-RT's: %d", code)
	}
}

func writeAuth(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAuthRoles: users and tokens of both roles, from the file and the
// property, what each may do, and the challenges a refusal carries.
func TestAuthRoles(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	tok := strings.Repeat("t", MinTokenLength)
	f := writeAuth(t, "# users\nrw:"+string(h)+":read-write\n\nro:"+string(h)+":ro\n"+tok+":read-only\n")
	a, err := NewAuth(f, strings.Repeat("p", 20)+":rw", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, reached := guarded(t, GuardConfig{Auth: a})
	basic := func(u, p string) []string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return []string{"Authorization", req.Header.Get("Authorization")}
	}
	for _, c := range []struct {
		method string
		header []string
		want   int
		msg    string
	}{
		{"GET", nil, 401, "authentication required"},
		{"GET", basic("rw", "pw"), 200, ""},
		{"PUT", basic("rw", "pw"), 200, ""},
		{"GET", basic("ro", "pw"), 200, ""},
		{"HEAD", basic("ro", "pw"), 200, ""},
		{"PUT", basic("ro", "pw"), 403, "ro is read-only"},
		{"DELETE", basic("ro", "pw"), 403, "read-only"},
		{"GET", basic("rw", "PW"), 401, "wrong"},
		{"GET", basic("nobody", "pw"), 401, "wrong"},
		{"GET", []string{"Authorization", "Bearer " + tok}, 200, ""},
		{"POST", []string{"Authorization", "bearer " + tok}, 403, "read-only"},
		{"POST", []string{"Authorization", "Bearer " + strings.Repeat("p", 20)}, 200, ""},
		{"GET", []string{"Authorization", "Bearer " + tok + "x"}, 401, "not known"},
		{"GET", []string{"Authorization", "Digest x"}, 401, "not Bearer or Basic"},
		{"GET", []string{"Authorization", "Basic !!!"}, 401, "base64"},
	} {
		before := *reached
		body := ""
		if c.method == "PUT" || c.method == "POST" {
			body = "{}"
		}
		code, msg := guardCall(t, srv, c.method, "/flow/x/json", body, c.header...)
		if code != c.want || !strings.Contains(msg, c.msg) || (code == 200) != (*reached == before+1) {
			t.Errorf("%s %v: %d %q, want %d %q", c.method, c.header, code, msg, c.want, c.msg)
		}
	}
	// Five wrong credentials; a request without any is asked, not counted.
	if a.Failures() != 5 {
		t.Errorf("%d refusals counted, want 5", a.Failures())
	}
	// The challenge: Basic (so that a browser asks) and Bearer.
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[0], `Basic realm="flowrt"`) || !strings.HasPrefix(got[1], "Bearer") {
		t.Errorf("WWW-Authenticate %q", got)
	}
	// Cross-origin changes are refused before credentials are asked for:
	// a page of another site never makes the browser show a login.
	if code, _ := guardCall(t, srv, "POST", "/flow/x/json", "{}", "Origin", "http://evil.example"); code != 403 {
		t.Errorf("cross-origin without credentials: %d, want 403", code)
	}
}

// TestAuthFile: what a file may not say (each line named), and a changed
// file taking effect while a broken one leaves the users in force.
func TestAuthFile(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	bad := writeAuth(t, strings.Join([]string{
		"alice:" + string(h) + ":read-write",
		"alice:" + string(h) + ":read-only",
		"bob:plain:read-write",
		":" + string(h) + ":read-write",
		"tok:read-write",
		strings.Repeat("x", 16) + ":read-write",
		strings.Repeat("x", 16) + ":read-only",
		"carol:" + string(h) + ":admin",
		"dave",
		"a:b:c:read-write",
	}, "\n"))
	_, err := NewAuth(bad, "", nil)
	if err == nil {
		t.Fatal("a bad file was taken")
	}
	for _, want := range []string{":2: user alice is given twice", ":3: the password of bob is not a bcrypt hash", ":4: the user name is empty",
		":5: a token of 3 characters is too short", ":7: the token is given twice", `:8: role "admin"`, ":9: is not user:bcrypt-hash:role",
		":10: is not user:bcrypt-hash:role"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), ":1:") || strings.Contains(err.Error(), ":6:") {
		t.Errorf("good lines reported: %v", err)
	}

	f := writeAuth(t, "alice:"+string(h)+":read-write\n")
	a, err := NewAuth(f, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := guarded(t, GuardConfig{Auth: a})
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("alice", "pw")
	alice := req.Header.Get("Authorization")
	req.SetBasicAuth("bob", "pw")
	bob := req.Header.Get("Authorization")
	if code, _ := guardCall(t, srv, "GET", "/", "", "Authorization", alice); code != 200 {
		t.Fatalf("alice: %d", code)
	}
	os.WriteFile(f+".new", []byte("bob:"+string(h)+":read-write\n"), 0o600)
	os.Rename(f+".new", f)
	deadline := time.Now().Add(3 * time.Second)
	for code, _ := guardCall(t, srv, "GET", "/", "", "Authorization", bob); code != 200; code, _ = guardCall(t, srv, "GET", "/", "", "Authorization", bob) {
		if time.Now().After(deadline) {
			t.Fatalf("bob not in 3 s after the file changed: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Alice was remembered as verified: a reload forgets her.
	if code, _ := guardCall(t, srv, "GET", "/", "", "Authorization", alice); code != 401 {
		t.Errorf("alice after her removal: %d, want 401", code)
	}
	os.WriteFile(f+".new", []byte("bob:nohash:read-write\n"), 0o600)
	os.Rename(f+".new", f)
	time.Sleep(1100 * time.Millisecond)
	if code, _ := guardCall(t, srv, "GET", "/", "", "Authorization", bob); code != 200 {
		t.Errorf("bob after a broken file: %d, want 200 (the users in force stay)", code)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "not a bcrypt hash") {
		t.Errorf("Reload of a broken file: %v", err)
	}
}

// testConn is a limitedConn over one end of a pipe.
func testConn(l *ConnLimit, state http.ConnState, since, body time.Time) *limitedConn {
	a, _ := net.Pipe()
	c := &limitedConn{Conn: a, l: l, state: state, since: since, bodySince: body}
	l.conns[c] = struct{}{}
	return c
}

// TestConnLimitVictims: at the cap the idle connection longest idle goes
// first, then the oldest still sending its header, then the one longest
// waited on for its body; the last two only after the grace; a
// connection being answered never.
func TestConnLimitVictims(t *testing.T) {
	l := LimitConns(nil, 8, nil)
	now := time.Now()
	old, recent := now.Add(-5*time.Second), now.Add(-100*time.Millisecond)
	answering := testConn(l, http.StateActive, old, time.Time{})
	bodyOld := testConn(l, http.StateActive, old, old)
	testConn(l, http.StateActive, old, recent) // body, within grace
	headerOld := testConn(l, http.StateNew, old.Add(time.Second), time.Time{})
	testConn(l, http.StateNew, recent, time.Time{})
	idleNew := testConn(l, http.StateIdle, recent, time.Time{})
	idleOld := testConn(l, http.StateIdle, old, time.Time{})
	for i, want := range []*limitedConn{idleOld, idleNew, headerOld, bodyOld, nil} {
		v := l.victim(now)
		if v != want {
			t.Fatalf("victim %d: %+v, want %+v", i, v, want)
		}
		if v != nil {
			delete(l.conns, v)
		}
	}
	if _, ok := l.conns[answering]; !ok {
		t.Error("a connection being answered was chosen")
	}
}
