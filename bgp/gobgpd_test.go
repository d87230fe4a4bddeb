package bgp

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoBGPDaemonIPv6 peers with Debian's gobgpd on 127.0.0.3 for IPv6
// unicast and IPv6 Flowspec (RFC 8956): a route gobgpd originates lands in
// the IPv6 RIB, and the IPv6 black hole and Flowspec rule flowrt announces
// show in gobgpd's tables (gobgp CLI) with the community, match and action.
func TestGoBGPDaemonIPv6(t *testing.T) {
	for _, p := range []string{"gobgpd", "gobgp"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (Debian package gobgpd): %v", p, err)
		}
	}
	port, apiPort := freeTCP(t), freeTCP(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`[global.config]
  as = 65001
  router-id = "127.0.0.3"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "127.0.0.3"
    remote-port = %d
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
`, port)
	cli := startGoBGPD(t, dir, conf, "127.0.0.3", apiPort)

	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	peer := netip.MustParseAddr("127.0.0.3")
	nb, err := sp.AddNeighbor(peer, 65000, flowrtAddr, Options{PeerAS: 65001, IPv6: true, FlowSpec6: true}, "t", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "session with gobgpd", nb.Established)
	waitUntil(t, 10*time.Second, "gobgpd's API", func() bool {
		return strings.Contains(cli("global", "rib", "add", "-a", "ipv6", "2001:db8:100::/48", "nexthop", "2001:db8::3", "aspath", "64512"), "") &&
			strings.Contains(cli("global", "rib", "-a", "ipv6"), "2001:db8:100::/48")
	})
	waitUntil(t, 10*time.Second, "gobgpd's IPv6 route in the RIB", func() bool { _, v6 := nb.RIB.Count(); return v6 == 1 })
	if r := nb.RIB.Lookup(netip.MustParseAddr("2001:db8:100:5::1")); r == nil || len(r.ASPath) != 2 || r.ASPath[0] != 65001 || r.ASPath[1] != 64512 {
		t.Errorf("IPv6 lookup: %+v, want path 65001 64512", r)
	}

	if err := sp.AddRoute(peer, map[string]any{"prefix": "2001:db8::7", "nexthop": "100::1", "communities": "65535:666"}, "t"); err != nil {
		t.Fatal(err)
	}
	if err := sp.AddFlow(peer, map[string]any{"match": map[string]any{"destination": "2001:db8::7/128", "version": "6", "protocol": "=17", "destination-port": "=123"},
		"then": map[string]any{"traffic-rate": 12500}}, "t"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the IPv6 black hole at gobgpd", func() bool {
		// gobgp names 65535:666 (RFC 7999) "blackhole".
		for _, l := range strings.Split(cli("global", "rib", "-a", "ipv6"), "\n") {
			if strings.Contains(l, "2001:db8::7/128") && strings.Contains(l, "100::1") && strings.Contains(l, "{Communities: blackhole}") {
				return true
			}
		}
		return false
	})
	waitUntil(t, 10*time.Second, "the IPv6 Flowspec rule at gobgpd", func() bool {
		out := cli("global", "rib", "-a", "ipv6-flowspec")
		return strings.Contains(out, "[destination: 2001:db8::7/128/0]") && strings.Contains(out, "[protocol: ==udp]") &&
			strings.Contains(out, "[destination-port: ==123]") && strings.Contains(out, "rate: 12500")
	})
	if out := cli("global", "rib", "-a", "ipv6"); strings.Contains(out, "4200000000") || strings.Contains(out, "LargeCommunity") {
		t.Errorf("the routing tag leaked: %s", out)
	}
	sp.RemoveOwner("t")
	waitUntil(t, 10*time.Second, "IPv6 black hole withdrawn", func() bool {
		return !strings.Contains(cli("global", "rib", "-a", "ipv6"), "2001:db8::7/128")
	})
	waitUntil(t, 10*time.Second, "IPv6 Flowspec withdrawn", func() bool {
		return !strings.Contains(cli("global", "rib", "-a", "ipv6-flowspec"), "2001:db8::7/128")
	})
}

// startGoBGPD runs gobgpd with the configuration conf, its API on
// host:apiPort, and returns a gobgp CLI against it.
func startGoBGPD(t *testing.T, dir, conf, host string, apiPort int) func(args ...string) string {
	t.Helper()
	f := filepath.Join(dir, "gobgpd.toml")
	os.WriteFile(f, []byte(conf), 0o644)
	d := exec.Command("gobgpd", "-f", f, "--api-hosts", fmt.Sprintf("%s:%d", host, apiPort))
	logf, _ := os.Create(filepath.Join(dir, "gobgpd.log"))
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait(); logf.Close() })
	return func(args ...string) string {
		out, _ := exec.Command("gobgp", append([]string{"-u", host, "-p", fmt.Sprint(apiPort)}, args...)...).CombinedOutput()
		return string(out)
	}
}
