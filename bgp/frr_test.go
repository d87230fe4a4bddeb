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

// TestFRRRedirectToIP: FRR's bgpd (Debian's frr, without zebra) on
// 127.0.0.5 takes an IPv4 Flowspec rule with ddos-protect's
// redirect-action-ip and decodes its action as redirect-to-IP
// (draft-ietf-idr-flowspec-redirect-ip: "NH:192.0.2.1:0" in FRR's output),
// and the rule goes when withdrawn.
func TestFRRRedirectToIP(t *testing.T) {
	bgpd, vtysh := "/usr/lib/frr/bgpd", "vtysh"
	if _, err := os.Stat(bgpd); err != nil {
		t.Skipf("FRR's bgpd is not installed (Debian package frr): %v", err)
	}
	if _, err := exec.LookPath(vtysh); err != nil {
		t.Skipf("vtysh is not installed (Debian package frr): %v", err)
	}
	port := freeTCP(t)
	// bgpd runs as Debian's frr user, which must reach the directory.
	dir, err := os.MkdirTemp("", "flowrt-frr-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := fmt.Sprintf(`frr defaults traditional
hostname flowrt-test
router bgp 65001
 bgp router-id 127.0.0.5
 no bgp ebgp-requires-policy
 neighbor 127.0.0.1 remote-as 65000
 neighbor 127.0.0.1 port %d
 neighbor 127.0.0.1 update-source 127.0.0.5
 neighbor 127.0.0.1 ebgp-multihop 2
 neighbor 127.0.0.1 timers connect 1
 address-family ipv4 flowspec
  neighbor 127.0.0.1 activate
 exit-address-family
`, port)
	f := filepath.Join(dir, "bgpd.conf")
	os.WriteFile(f, []byte(conf), 0o644)
	d := exec.Command(bgpd, "-Z", "-f", f, "-i", filepath.Join(dir, "bgpd.pid"), "-p", "0", "-l", "127.0.0.5",
		"--vty_socket", dir, "-z", filepath.Join(dir, "zserv.api"))
	logf, _ := os.Create(filepath.Join(dir, "bgpd.log"))
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Kill()
		d.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("bgpd log: %s", b)
		}
	})
	show := func(cmd string) string {
		out, _ := exec.Command(vtysh, "--vty_socket", dir, "-c", cmd).CombinedOutput()
		return string(out)
	}

	sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
	defer sp.Close()
	peer := netip.MustParseAddr("127.0.0.5")
	nb, err := sp.AddNeighbor(peer, 65000, flowrtAddr, Options{PeerAS: 65001, FlowSpec: true}, "t", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "session with FRR", nb.Established)
	rule := map[string]any{"match": map[string]any{"destination": "198.51.100.7/32", "protocol": "=17"},
		"then": map[string]any{"redirect-action-ip": "192.0.2.1"}}
	if err := sp.AddFlow(peer, rule, "t"); err != nil {
		t.Fatal(err)
	}
	var out string
	waitUntil(t, 10*time.Second, "the rule in FRR's table", func() bool {
		out = show("show bgp ipv4 flowspec detail")
		return strings.Contains(out, "198.51.100.7/32")
	})
	t.Logf("FRR: %s", out)
	if !strings.Contains(out, "NH:192.0.2.1:0") {
		t.Errorf("FRR does not read the action as redirect to 192.0.2.1:\n%s", out)
	}
	if ok, err := sp.RemoveFlow(peer, rule); !ok || err != nil {
		t.Fatal(ok, err)
	}
	waitUntil(t, 10*time.Second, "the rule to leave FRR's table", func() bool {
		return !strings.Contains(show("show bgp ipv4 flowspec detail"), "198.51.100.7/32")
	})
}
