package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// benchGuard measures the guard's own cost per request, in process (no
// socket): what it adds to every REST call.
func benchGuard(b *testing.B, cfg GuardConfig, method string, header ...string) {
	g := Guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), cfg)
	req := httptest.NewRequest(method, "http://127.0.0.1:8008/flow/x/json", nil)
	if method != "GET" {
		req = httptest.NewRequest(method, "http://127.0.0.1:8008/flow/x/json", strings.NewReader("{}"))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("%d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
	}
}

func BenchmarkGuardOpenGET(b *testing.B) { benchGuard(b, GuardConfig{}, "GET") }

func BenchmarkGuardOpenPUTFromCurl(b *testing.B) {
	benchGuard(b, GuardConfig{}, "PUT", "Content-Type", "application/x-www-form-urlencoded")
}

func BenchmarkGuardBearer(b *testing.B) {
	tok := strings.Repeat("t", 32)
	a, err := NewAuth("", tok+":read-write", nil)
	if err != nil {
		b.Fatal(err)
	}
	benchGuard(b, GuardConfig{Auth: a}, "GET", "Authorization", "Bearer "+tok)
}

// BenchmarkGuardBasicRemembered is a user's request after the first: the
// verified password is remembered, bcrypt is not run again.
func BenchmarkGuardBasicRemembered(b *testing.B) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.DefaultCost)
	a, err := NewAuth("", "alice:"+string(h)+":read-write", nil)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("alice", "pw")
	benchGuard(b, GuardConfig{Auth: a}, "GET", "Authorization", req.Header.Get("Authorization"))
}

// BenchmarkBcryptDefaultCost is one first check of a password (flowrt
// passwd's cost 10): what a wrong password costs, one at a time.
func BenchmarkBcryptDefaultCost(b *testing.B) {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.DefaultCost)
	for b.Loop() {
		bcrypt.CompareHashAndPassword(h, []byte("pw"))
	}
}
