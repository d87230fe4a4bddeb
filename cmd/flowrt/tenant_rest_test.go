package main_test

import (
	"strings"
	"testing"
	"time"
)

// TestTenantDefinitions: a bad tenant is refused 400 with a reason that
// names the field; a good one is listed with its counters, survives a
// restart (state.dir) as forwarding sessions do, and http.readonly
// refuses every change.
func TestTenantDefinitions(t *testing.T) {
	dir := t.TempDir()
	e := startEngine(t, "-Dstate.dir="+dir)
	for _, c := range []struct{ body, field string }{
		{`{"collectorPort":6343,"filters":{"cidr":["10.0.0.0/8"]}}`, "collectorAddress"},
		{`{"collectorAddress":"collector.example","filters":{"cidr":["10.0.0.0/8"]}}`, "collectorAddress"},
		{`{"collectorAddress":"10.9.9.9","collectorPort":70000,"filters":{"cidr":["10.0.0.0/8"]}}`, "collectorPort"},
		{`{"collectorAddress":"10.9.9.9","collectorPort":"6343","filters":{"cidr":["10.0.0.0/8"]}}`, "collectorPort"},
		{`{"collectorAddress":"10.9.9.9"}`, "filters"},
		{`{"collectorAddress":"10.9.9.9","filters":{}}`, "filters"},
		{`{"collectorAddress":"10.9.9.9","filters":{"vlan":[10]}}`, `"vlan"`},
		{`{"collectorAddress":"10.9.9.9","filters":{"cidr":["10.0.0.0/8","10.1.2.300/24"]}}`, "filters.cidr[1]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"cidr":["10.1.2.3/8"]}}`, "filters.cidr[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"cidr":["10.0.0.0/8@9"]}}`, "filters.cidr[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"mac":["00:50:56:8f:1a:2b"]}}`, "filters.mac[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"mac":["0050568F1A2G"]}}`, "filters.mac[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"ifindex":["10.0.0.1-3"]}}`, "filters.ifindex[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"ifindex":["10.0.0.1_eth0"]}}`, "filters.ifindex[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"ifname":["switch1_eth0"]}}`, "filters.ifname[0]"},
		{`{"collectorAddress":"10.9.9.9","filters":{"cidr":"10.0.0/8"}}`, "filters.cidr[0]"}, // one value where a list goes is a list of one (jsobj), still checked
		{`{"collectorAddress":"10.9.9.9","filters":{"cidr":["10.0.0.0/8"]},"agents":["10.0.0.1"]}`, `"agents"`},
		{`{"collectorAddress":"127.0.0.1","collectorPort":` + port(e.sflow) + `,"filters":{"cidr":["10.0.0.0/8"]}}`, "back to this engine"},
	} {
		code, msg := e.do(t, "PUT", "/tenant/bad/json", c.body)
		if code != 400 || !strings.Contains(msg, c.field) || strings.Count(strings.TrimSpace(msg), "\n") > 0 {
			t.Errorf("PUT %s: %d %q, want 400 and a line naming %s", c.body, code, msg, c.field)
		}
	}
	good := `{collectorAddress:'10.9.9.9', filters:{ifindex:['10.0.0.1_3'], ifname:['10.0.0.1_eth0'], cidr:['10.1.0.0/16','2001:db8::/32','172.16.0.0/12@1'], mac:['0050568f1a2b']}}`
	if code, msg := e.do(t, "PUT", "/tenant/acme/json", good); code != 204 {
		t.Fatalf("PUT a good tenant: %d %s", code, msg)
	}
	var all map[string]struct {
		CollectorAddress                     string
		CollectorPort                        int
		Filters                              struct{ Ifindex, Ifname, Cidr, Mac []string }
		DatagramsForwarded, SamplesForwarded int
	}
	e.get(t, "/tenant/json", &all)
	if a := all["acme"]; len(all) != 1 || a.CollectorAddress != "10.9.9.9" || a.CollectorPort != 6343 ||
		len(a.Filters.Cidr) != 3 || a.Filters.Ifname[0] != "10.0.0.1_eth0" || a.Filters.Mac[0] != "0050568f1a2b" {
		t.Fatalf("/tenant/json %+v", all)
	}
	if code, _ := e.do(t, "GET", "/tenant/nobody/json", ""); code != 404 {
		t.Errorf("GET an unknown tenant: %d", code)
	}
	e.stop()

	again := startEngine(t, "-Dstate.dir="+dir)
	all = nil
	again.get(t, "/tenant/json", &all)
	if a := all["acme"]; len(all) != 1 || a.CollectorAddress != "10.9.9.9" || len(a.Filters.Cidr) != 3 || a.Filters.Cidr[2] != "172.16.0.0/12@1" {
		t.Fatalf("after a restart /tenant/json is %+v", all)
	}
	if code, msg := again.do(t, "DELETE", "/tenant/acme/json", ""); code != 204 {
		t.Fatalf("DELETE: %d %s", code, msg)
	}
	if code, _ := again.do(t, "DELETE", "/tenant/acme/json", ""); code != 404 {
		t.Errorf("DELETE again: %d, want 404", code)
	}
	again.stop()

	ro := startEngine(t, "-Dhttp.readonly=yes")
	for _, m := range []string{"PUT", "POST", "DELETE"} {
		if code, msg := ro.do(t, m, "/tenant/acme/json", good); code != 403 || !strings.Contains(msg, "read-only") {
			t.Errorf("%s with http.readonly: %d %q, want 403", m, code, msg)
		}
	}
	all = nil
	ro.get(t, "/tenant/json", &all)
	if len(all) != 0 {
		t.Errorf("read-only engine has tenants %v", all)
	}
}

// TestTenantLoopThroughAnotherEngine: engine A streams a tenant to engine
// B, which forwards everything back to A. A recognises its tenant
// datagrams coming back: counted as looped, neither applied nor split
// again, so B receives each tenant datagram once and A's tenant sends
// one per datagram the agents sent.
func TestTenantLoopThroughAnotherEngine(t *testing.T) {
	a, b := startEngine(t), startEngine(t)
	if code, msg := a.do(t, "PUT", "/tenant/loop/json", `{"collectorAddress":"127.0.0.1","collectorPort":`+port(b.sflow)+
		`,"filters":{"cidr":["10.0.0.0/8","192.168.0.0/16"]}}`); code != 204 {
		t.Fatalf("PUT tenant: %d %s", code, msg)
	}
	if code, msg := b.do(t, "PUT", "/forwarding/back/json", `{"address":"127.0.0.1","port":`+port(a.sflow)+`}`); code != 204 {
		t.Fatalf("PUT forwarding: %d %s", code, msg)
	}
	rep := send(t, a.sflow, "-agents", "2", "-ports", "1", "-rate", "200", "-duration", "1s", "-counters", "0", "-seed", "3")
	n := rep.Datagrams
	var tn struct{ DatagramsForwarded int }
	var anA, anB map[string]any
	waitFor(t, 5*time.Second, "the tenant's datagrams back at A", func() bool {
		a.get(t, "/analyzer/json", &anA)
		return anA["sFlowDatagramsLooped"].(float64) >= float64(n)
	})
	time.Sleep(300 * time.Millisecond) // anything more would be a loop
	a.get(t, "/analyzer/json", &anA)
	b.get(t, "/analyzer/json", &anB)
	a.get(t, "/tenant/loop/json", &tn)
	if tn.DatagramsForwarded != n || anA["sFlowDatagramsLooped"].(float64) != float64(n) ||
		anA["sFlowDatagramsReceived"].(float64) != float64(2*n) || anB["sFlowDatagramsReceived"].(float64) != float64(n) {
		t.Errorf("%d datagrams sent: the tenant forwarded %d, A received %v (%v looped), B received %v", n, tn.DatagramsForwarded,
			anA["sFlowDatagramsReceived"], anA["sFlowDatagramsLooped"], anB["sFlowDatagramsReceived"])
	}
}
