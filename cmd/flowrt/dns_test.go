package main_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/dnstest"
)

// TestDNSServersProperty: -Ddns.servers sends dns:'s reverse lookups to the
// servers named (here one on 127.0.0.1): the flows of sunburst's DNS view
// ('dns:ipsource') carry the names it answers, each for its own address.
func TestDNSServersProperty(t *testing.T) {
	// Every IPv4 address has a name: a-b-c-d.flows.test.
	srv := dnstest.Start(t, func(q string) (string, bool) {
		rev, ok := strings.CutSuffix(q, ".in-addr.arpa")
		p := strings.Split(rev, ".")
		if !ok || len(p) != 4 {
			return "", false
		}
		return fmt.Sprintf("%s-%s-%s-%s.flows.test.", p[3], p[2], p[1], p[0]), true
	})
	e := startEngine(t, "-Ddns.servers="+srv.Addr())
	if code, msg := e.do(t, "PUT", "/flow/names/json", "{keys:'ipsource,dns:ipsource', value:'frames', t:1}"); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	send(t, e.sflow, "-agents", "1", "-flows", "5", "-mix", "udp", "-rate", "200", "-duration", "2s")
	if srv.Queries() == 0 {
		t.Fatal("no query reached the server")
	}
	var flows []struct{ Key string }
	named := 0
	deadline := time.Now().Add(5 * time.Second)
	for named == 0 && time.Now().Before(deadline) {
		send(t, e.sflow, "-agents", "1", "-flows", "5", "-mix", "udp", "-rate", "200", "-duration", "1s")
		e.get(t, "/activeflows/ALL/names/json?maxFlows=50", &flows)
		named = 0
		for _, f := range flows {
			addr, name, _ := strings.Cut(f.Key, ",")
			a, err := netip.ParseAddr(addr)
			if err != nil {
				t.Fatalf("key %q", f.Key)
			}
			b := a.As4()
			switch want := fmt.Sprintf("%d-%d-%d-%d.flows.test", b[0], b[1], b[2], b[3]); name {
			case want:
				named++
			case addr: // a sample before the answer: the address, as sFlow-RT gives it
			default:
				t.Errorf("%s named %q, want %q", addr, name, want)
			}
		}
	}
	if named == 0 {
		t.Fatalf("no flow carries a name: %+v", flows)
	}
	// A server that is not an address stops start-up, saying so.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, flowrt, "-Dsflow.port=0", "-Dhttp.port=0", "-Dhttp.hostname=127.0.0.1",
		"-Dstate.dir=none", "-Ddns.servers=resolver.example").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `dns.servers`) || !strings.Contains(string(out), `"resolver.example" is not an address`) {
		t.Errorf("a name as a server: %v %s", err, out)
	}
}
