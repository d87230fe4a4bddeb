package main_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string // file
}

func newCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, pem: filepath.Join(dir, name+".pem")}
	os.WriteFile(ca.pem, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return ca
}

// issue writes a server certificate for 127.0.0.1 and localhost, and its
// key, to certFile and keyFile (replaced whole, as a renewal does).
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "flowrt"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	for file, data := range map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
	} {
		writeReplacing(t, file, data)
	}
}

// writeReplacing writes a file by renaming a new one over it.
func writeReplacing(t *testing.T, file string, data []byte) {
	t.Helper()
	tmp := file + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// curlResult is what curl printed: the status (000: no HTTP answer), the
// HTTP version, the body, and its exit code.
type curlResult struct {
	status, version, body string
	exit                  int
}

func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "5", "-w", "\n%{http_code} %{http_version}"}, args...)...).CombinedOutput()
	r := curlResult{}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	i := strings.LastIndexByte(text, '\n')
	r.body = strings.TrimSpace(text[:max(i, 0)])
	r.status, r.version, _ = strings.Cut(strings.TrimSpace(text[i+1:]), " ")
	return r
}

// TestHTTPSAndAuthenticationWithCurl serves HTTPS with a certificate made
// here, users (bcrypt, one hashed by flowrt passwd) and bearer tokens of
// both roles from http.auth.file, and checks with curl: the articles'
// lines work with credentials and are refused without; read-only is GET
// only; a changed file and a renewed certificate take effect without a
// restart, and SIGHUP reloads too.
func TestHTTPSAndAuthenticationWithCurl(t *testing.T) {
	need(t, "curl")
	dir := t.TempDir()
	ca := newCA(t, dir, "ca1")
	certFile, keyFile, authFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "auth")
	ca.issue(t, 100, certFile, keyFile)
	alice, _ := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.MinCost)
	cmd := exec.Command(flowrt, "passwd", "bob")
	cmd.Stdin = strings.NewReader("bob pw\n")
	bobLine, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(bobLine), "bob:$2a$10$") || !strings.HasSuffix(string(bobLine), ":read-only\n") {
		t.Fatalf("flowrt passwd bob: %q %v", bobLine, err)
	}
	rwToken, roToken := strings.Repeat("a1", 16), strings.Repeat("b2", 16)
	writeReplacing(t, authFile, []byte("# users\nalice:"+string(alice)+":read-write\n"+string(bobLine)+
		"\n# tokens\n"+rwToken+":read-write\n"+roToken+":read-only\n"))

	e := startEngine(t, "-Dhttp.tls.cert="+certFile, "-Dhttp.tls.key="+keyFile, "-Dhttp.auth.file="+authFile)
	base := strings.Replace(e.http, "http://", "https://", 1)
	tls := []string{"--cacert", ca.pem}
	c := func(args ...string) curlResult {
		t.Helper()
		return curl(t, append(append([]string{}, tls...), args...)...)
	}
	expect := func(what string, r curlResult, status, body string) {
		t.Helper()
		if r.status != status || !strings.Contains(r.body, body) {
			t.Errorf("%s: %s %q (curl exit %d), want %s with %q", what, r.status, r.body, r.exit, status, body)
		}
	}

	expect("no credentials", c(base+"/version"), "401", "authentication required")
	if r := c("-o", "/dev/null", "-D", "-", base+"/version"); !strings.Contains(strings.ToLower(r.body), `www-authenticate: basic realm="flowrt"`) {
		t.Errorf("401 without a Basic challenge (the browser would not ask):\n%s", r.body)
	}
	expect("alice reads", c("-u", "alice:alice-pw", base+"/version"), "200", "0.")
	// The articles' lines, with -u: JSON, no type, curl's urlencoded.
	expect("alice PUTs a flow", c("-u", "alice:alice-pw", "-H", "Content-Type:application/json", "-X", "PUT", "--data",
		"{keys:'icmpunreachableport', value:'frames', t:20}", base+"/flow/uports/json"), "204", "")
	expect("alice PUTs a threshold", c("-u", "alice:alice-pw", "-X", "PUT", "--data",
		"{metric:'uports', value:100, byFlow:true, timeout:5}", base+"/threshold/uports/json"), "204", "")
	expect("alice reads it back", c("-u", "alice:alice-pw", base+"/threshold/uports/json"), "200", `"metric": "uports"`)
	expect("wrong password", c("-u", "alice:nope", base+"/version"), "401", "user or password is wrong")
	expect("unknown user", c("-u", "mallory:alice-pw", base+"/version"), "401", "user or password is wrong")
	expect("bob reads", c("-u", "bob:bob pw", base+"/flow/uports/json"), "200", `"keys": "icmpunreachableport"`)
	expect("bob may not change", c("-u", "bob:bob pw", "-X", "DELETE", base+"/flow/uports/json"), "403", "bob is read-only")
	expect("read-write token", c("-H", "Authorization: Bearer "+rwToken, "-X", "PUT", "--data", "{value:'bytes'}", base+"/flow/tok/json"), "204", "")
	expect("read-only token reads", c("-H", "Authorization: Bearer "+roToken, base+"/flow/tok/json"), "200", `"value": "bytes"`)
	expect("read-only token may not change", c("-H", "Authorization: Bearer "+roToken, "-X", "DELETE", base+"/flow/tok/json"), "403", "read-only")
	expect("unknown token", c("-H", "Authorization: Bearer "+strings.Repeat("c3", 16), base+"/version"), "401", "token is not known")
	if r := c("-u", "alice:alice-pw", "--http2", base+"/version"); r.status != "200" || r.version != "2" {
		t.Errorf("HTTP/2: %+v", r)
	}
	expect("plain HTTP to the HTTPS port", curl(t, e.http+"/version"), "400", "HTTPS")
	if r := curl(t, "-u", "alice:alice-pw", base+"/version"); r.exit != 60 {
		t.Errorf("curl without the CA: exit %d %q, want 60 (certificate not trusted)", r.exit, r.body)
	}

	// The file changes: alice leaves, carol arrives; seen within 2 s.
	carol, _ := bcrypt.GenerateFromPassword([]byte("carol-pw"), bcrypt.MinCost)
	writeReplacing(t, authFile, []byte("carol:"+string(carol)+":read-write\n"+string(bobLine)))
	waitFor(t, 5*time.Second, "carol in", func() bool { return c("-u", "carol:carol-pw", base+"/version").status == "200" })
	expect("alice after her removal", c("-u", "alice:alice-pw", base+"/version"), "401", "wrong")
	// A broken file is refused and the users in force stay.
	writeReplacing(t, authFile, []byte("carol:not-a-hash:read-write\n"))
	time.Sleep(1500 * time.Millisecond)
	expect("carol after a broken file", c("-u", "carol:carol-pw", base+"/version"), "200", "")
	waitFor(t, 5*time.Second, "the broken file logged", func() bool {
		return strings.Contains(e.log.String(), "not a bcrypt hash")
	})
	// SIGHUP reads it at once (the stamp check waits a second).
	writeReplacing(t, authFile, []byte("alice:"+string(alice)+":read-only\n"))
	e.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 3*time.Second, "alice back, read-only", func() bool { return c("-u", "alice:alice-pw", base+"/version").status == "200" })
	expect("alice read-only now", c("-u", "alice:alice-pw", "-X", "PUT", "--data", "{value:'bytes'}", base+"/flow/x/json"), "403", "read-only")
	if !strings.Contains(e.log.String(), "SIGHUP") {
		t.Errorf("no SIGHUP line in the log")
	}

	// A renewed certificate from another CA is served without a restart.
	ca2 := newCA(t, dir, "ca2")
	ca2.issue(t, 200, certFile, keyFile)
	waitFor(t, 5*time.Second, "the renewed certificate", func() bool {
		return curl(t, "--cacert", ca2.pem, "-u", "alice:alice-pw", base+"/version").status == "200"
	})
	if r := c("-u", "alice:alice-pw", base+"/version"); r.exit != 60 {
		t.Errorf("the old CA still verifies the server: %+v", r)
	}
	if !strings.Contains(e.log.String(), "serial=200") {
		t.Errorf("the reload is not logged with the new serial")
	}
}

// TestHTTPSettingsRefused: what cannot work stops start-up with why.
func TestHTTPSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "auth")
	os.WriteFile(bad, []byte("alice:secret:read-write\nshort:read-only\nbob:$2a$04$abc:admin\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n"), 0o600)
	for _, c := range []struct {
		props []string
		want  []string
	}{
		{[]string{"-Dhttp.tls.cert=" + filepath.Join(dir, "cert.pem")}, []string{"http.tls.cert and http.tls.key go together"}},
		{[]string{"-Dhttp.tls.cert=" + filepath.Join(dir, "none.pem"), "-Dhttp.tls.key=" + filepath.Join(dir, "none.key")}, []string{"http.tls.cert", "no such file"}},
		{[]string{"-Dhttp.auth.file=" + bad}, []string{bad + ":1: the password of alice is not a bcrypt hash", bad + ":2: a token of 5 characters is too short", bad + `:3: role "admin" is not read-only or read-write`}},
		{[]string{"-Dhttp.auth.file=" + empty}, []string{"no user or token"}},
		{[]string{"-Dhttp.auth.file=" + filepath.Join(dir, "missing")}, []string{"http.auth.file", "no such file"}},
		{[]string{"-Dhttp.auth=tooshort:read-write"}, []string{"property http.auth entry 1: a token of 8 characters is too short"}},
		{[]string{"-Dhttp.read.timeout=60", "-Dhttp.write.timeout=30"}, []string{"http.write.timeout=30 is shorter than http.read.timeout=60"}},
		{[]string{"-Dhttp.idle.timeout=0"}, []string{"http.idle.timeout", "out of range"}},
		{[]string{"-Dhttp.connections.max=-1"}, []string{"http.connections.max", "out of range"}},
	} {
		args := append([]string{"-Dsflow.port=0", "-Dhttp.port=0", "-Dhttp.hostname=127.0.0.1", "-Dstate.dir=none"}, c.props...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, flowrt, args...).CombinedOutput()
		cancel()
		if err == nil {
			t.Errorf("%v: started", c.props)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: %s\nwant %q", c.props, out, w)
			}
		}
	}
}

// TestSIGHUPWithoutFiles: with nothing to read again, SIGHUP ends flowrt
// as it always did (a closed terminal), instead of being swallowed.
func TestSIGHUPWithoutFiles(t *testing.T) {
	e := startEngine(t)
	e.cmd.Process.Signal(syscall.SIGHUP)
	done := make(chan error, 1)
	go func() { done <- e.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGHUP {
			t.Errorf("flowrt after SIGHUP: %v, want ended by SIGHUP", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("flowrt still runs 5 s after SIGHUP with no file to reload")
		e.cmd.Process.Kill()
		<-done
	}
}
