package main_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTenantOnStatusPage: the status page lists a tenant as it lists
// forwarding sessions — name, collector, filters, and counters that move
// as its stream flows.
func TestTenantOnStatusPage(t *testing.T) {
	e := startEngine(t)
	b := startBrowser(t, e)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	// flowrt send's agents are 10.255.0.x, their ports ifIndex 1…
	body := fmt.Sprintf(`{collectorAddress:'127.0.0.1', collectorPort:%d, filters:{ifindex:['10.255.0.1_1'], cidr:['10.0.0.0/24','192.168.0.0/16']}}`, port)
	if code, msg := e.do(t, "PUT", "/tenant/acme/json", body); code != 204 {
		t.Fatalf("PUT: %d %s", code, msg)
	}
	b.run("open status", chromedp.Navigate(e.http+"/"))
	if b.waitCount("tenants row", "#tenants tbody tr", 1) != 1 {
		t.Fatal("the tenants table has no row")
	}
	send(t, e.sflow, "-agents", "2", "-ports", "2", "-rate", "200", "-duration", "1s", "-counters", "0")
	waitFor(t, 10*time.Second, "the tenant's forwarded samples counted on the page", func() bool {
		r := b.rows("#tenants")
		m := regexp.MustCompile(`samplesForwarded ([0-9.]+[kM]?)`).FindStringSubmatch(strings.Join(r[0], "|"))
		return len(r) == 1 && r[0][0] == "acme" && r[0][1] == fmt.Sprintf("127.0.0.1:%d", port) &&
			r[0][2] == "ifindex 1 · cidr 2" && m != nil && siValue(t, m[1]) > 0
	})
	if code, _ := e.do(t, "DELETE", "/tenant/acme/json", ""); code != 204 {
		t.Fatal("DELETE failed")
	}
	b.waitCount("no-tenants note", "#no-tenants", 1)
}
