package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMicrosoft serves the Office 365 endpoints list as
// https://endpoints.office.com with a certificate from a test CA, and a
// CONNECT proxy that sends every tunnel there. The engine trusts the CA
// through SSL_CERT_FILE and uses the proxy through HTTPS_PROXY, so
// office365.js runs with Microsoft's real URL.
type fakeMicrosoft struct {
	env  []string
	mu   sync.Mutex
	reqs []string
}

func (f *fakeMicrosoft) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.reqs...)
}

func startFakeMicrosoft(t *testing.T, list []byte) *fakeMicrosoft {
	t.Helper()
	f := &fakeMicrosoft{}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowrt test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "endpoints.office.com"}, DNSNames: []string{"endpoints.office.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)

	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Host+r.URL.String())
		f.mu.Unlock()
		if r.URL.Path != "/endpoints/worldwide" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(list)
	}))
	api.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}
	api.StartTLS()
	t.Cleanup(api.Close)

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "endpoints.office.com:443" {
			http.Error(w, "this proxy only tunnels to endpoints.office.com:443", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", api.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		// Take the connection first, then answer on it: a status written
		// through the ResponseWriter may still sit in its buffer.
		down, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		if n := buf.Reader.Buffered(); n > 0 { // the client may have sent its TLS hello already
			b, _ := buf.Reader.Peek(n)
			up.Write(b)
		}
		go func() { io.Copy(up, down); up.Close() }()
		io.Copy(down, up)
		down.Close()
	}))
	t.Cleanup(proxy.Close)
	f.env = []string{"SSL_CERT_FILE=" + caFile, "HTTPS_PROXY=" + proxy.URL, "https_proxy=" + proxy.URL}
	return f
}

// endpointsList is a list shaped like Microsoft's: ids, service areas,
// URLs and address ranges; id 2 holds the network the synthetic sources
// are on, and the rest make it large (10,000 ranges).
func endpointsList() []byte {
	type entry struct {
		ID          int      `json:"id"`
		ServiceArea string   `json:"serviceArea"`
		URLs        []string `json:"urls,omitempty"`
		IPs         []string `json:"ips,omitempty"`
		TCPPorts    string   `json:"tcpPorts,omitempty"`
		Category    string   `json:"category"`
		Required    bool     `json:"required"`
	}
	list := []entry{
		{ID: 1, ServiceArea: "Exchange", URLs: []string{"outlook.office.com"}, TCPPorts: "80,443", Category: "Optimize",
			Required: true, IPs: []string{"13.107.6.152/31", "13.107.18.10/31", "2603:1006::/40"}},
		{ID: 2, ServiceArea: "SharePoint", TCPPorts: "443", Category: "Optimize", Required: true,
			IPs: []string{"10.0.0.0/16", "13.107.136.0/22", "2620:1ec:8f8::/46"}},
		{ID: 3, ServiceArea: "Common", URLs: []string{"*.msftidentity.com"}, Category: "Default"}, // no ips: skipped
	}
	for i := range 100 {
		e := entry{ID: 100 + i, ServiceArea: "Skype", TCPPorts: "443", Category: "Allow"}
		for j := range 100 {
			e.IPs = append(e.IPs, fmt.Sprintf("52.%d.%d.0/24", 112+i, j))
		}
		list = append(list, e)
	}
	b, _ := json.Marshal(list)
	return b
}

// TestOffice365Script runs the article's office365.js: its http() call
// reaches (through HTTPS and a proxy) a server holding a 10,000-range
// endpoints list with a v4 UUID client request id, setGroups loads it as
// the ms365 group set, and traffic from a listed network is classified by
// the id it is listed under.
func TestOffice365Script(t *testing.T) {
	ms := startFakeMicrosoft(t, endpointsList())
	e := startEngineWith(t, launch{env: ms.env}, "-Dscript.file="+examples("office365", "office365.js"))

	reqs := ms.requests()
	uuid := regexp.MustCompile(`^endpoints\.office\.com/endpoints/worldwide\?clientrequestid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if len(reqs) != 1 || !uuid.MatchString(reqs[0]) {
		t.Fatalf("requests at the endpoints service: %q", reqs)
	}
	var groups map[string][]string
	e.get(t, "/group/ms365/json", &groups)
	n := 0
	for _, cidrs := range groups {
		n += len(cidrs)
	}
	if n != 10006 || len(groups["2"]) != 3 || groups["3"] != nil {
		t.Fatalf("ms365 groups: %d ranges in %d labels, id 2 = %v", n, len(groups), groups["2"])
	}

	if code, body := e.do(t, "PUT", "/flow/o365/json", "{keys:'group:ipsource:ms365,ipdestination',value:'bytes'}"); code/100 != 2 {
		t.Fatalf("flow: %d %s", code, body)
	}
	send(t, e.sflow, "-agents", "1", "-flows", "4", "-mix", "tcp", "-rate", "200", "-duration", "1s")
	var flows []struct {
		Key   string
		Value float64
	}
	waitFor(t, 5*time.Second, "flows classified as ms365 id 2", func() bool {
		e.get(t, "/activeflows/ALL/o365/json", &flows)
		return len(flows) > 0
	})
	for _, f := range flows {
		if !strings.HasPrefix(f.Key, "2,192.168.0.") {
			t.Errorf("flow %q: want the SharePoint id 2 for a 10.0.0.0/16 source", f.Key)
		}
	}
	t.Logf("%d ranges loaded; flows %+v", n, flows)
}
