package main_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRyuArticleOnMininet runs the Ryu article end to end with real
// programs: Mininet's tree (depth 2, fanout 2: h1 h2 on s2, h3 h4 on s3, s1
// above) on Open vSwitch's userspace datapath with the article's 10 Mbit/s
// links, loaded with flowrt's extras/sflow.py as the article loads
// sFlow-RT's (sFlow to the engine, the topology PUT to it); an OpenFlow 1.3
// controller on os-ken (examples/ryu/switch_rest.py: a learning switch and
// the ofctl_rest calls ryu.js makes); the article's ryu.js unmodified in
// flowrt; and the article's attack, hping3 --flood --udp -k -s 53 from h1
// to h3. Checked on the switches themselves: the topology flowrt holds is
// Open vSwitch's own (ifIndex, OpenFlow port, dpid); the drop rule appears
// on s2 only, for h1's edge port, and its n_packets grows while h3 stops
// receiving the flood; h2 pings h4 throughout; the rule stays while the
// flood lasts and is removed once it stops, after which h1's DNS-sourced
// UDP reaches h3 again.
func TestRyuArticleOnMininet(t *testing.T) {
	needOsKen(t)
	needRoot(t)
	need(t, "mn", "hping3")
	needTCPPort(t, 8080) // ryu.js calls http://127.0.0.1:8080 (ofctl_rest's address)

	e := startEngine(t, "-Dscript.file="+examples("ryu", "ryu.js"))
	of := freePort(t, "tcp")
	startOsKen(t, of)

	_, sflowPort, _ := net.SplitHostPort(e.sflow)
	u, _ := url.Parse(e.http)
	begin := time.Now()
	lab := startMininet(t, []string{"COLLECTOR=127.0.0.1", "SFLOW_PORT=" + sflowPort, "REST_PORT=" + u.Port(),
		"SAMPLING=10", "POLLING=5"},
		"--custom", extrasFile("sflow.py"), "--link", "tc,bw=10", "--switch", "ovs,datapath=user",
		"--controller", fmt.Sprintf("remote,ip=127.0.0.1,port=%d", of), "--topo", "tree,depth=2,fanout=2")
	t.Logf("mn up in %v", time.Since(begin).Round(time.Millisecond))

	checkMininetTopology(t, e, lab)

	if out := lab.cli("pingall", 60*time.Second); !strings.Contains(out, "Results: 0% dropped (12/12 received)") {
		t.Fatalf("pingall through the os-ken learning switch:\n%s", out)
	}
	for _, sw := range []string{"s1", "s2", "s3"} {
		if _, ok := lab.rule(sw, 40000); ok {
			t.Fatalf("%s has a priority-40000 rule before any attack: %v", sw, lab.flows(sw))
		}
	}

	// The attack, as the article: h1 hping3 --flood --udp -k -s 53 h3.
	toH3 := txPackets(t, "s3-eth1")
	flood := lab.host("h1", "hping3", "--flood", "--udp", "-k", "-s", "53", "10.0.0.3")
	var hpOut lockedBuf
	flood.Stdout, flood.Stderr = &hpOut, &hpOut
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var drop ofFlow
	waitFor(t, 20*time.Second, "drop rule from ryu.js on s2", func() bool {
		var ok bool
		drop, ok = lab.rule("s2", 40000)
		return ok
	})
	blocked := time.Since(start)
	reachedH3 := txPackets(t, "s3-eth1") - toH3
	t.Logf("flood start → drop rule on s2 in %v; %d packets reached h3 before it; rule %+v", blocked.Round(time.Millisecond), reachedH3, drop)
	if drop.Match != "udp,in_port=1,nw_dst=10.0.0.3,tp_src=53" || drop.Actions != "drop" {
		t.Errorf("s2's rule is %q actions=%s, want udp,in_port=1,nw_dst=10.0.0.3,tp_src=53 actions=drop (h1's edge port)", drop.Match, drop.Actions)
	}
	if reachedH3 < 100 {
		t.Errorf("only %d packets reached h3 before the block: was there a flood?", reachedH3)
	}
	for _, sw := range []string{"s1", "s3"} {
		if f, ok := lab.rule(sw, 40000); ok {
			t.Errorf("%s (not h1's edge switch) got a block: %+v", sw, f)
		}
	}

	// During the block: the rule counts the flood, h3 no longer gets it,
	// h2 and h4 still talk.
	time.Sleep(time.Second)
	d0, h0, up0 := drop.Packets, txPackets(t, "s3-eth1"), txPackets(t, "s2-eth3")
	if d, ok := lab.rule("s2", 40000); ok {
		d0 = d.Packets
	}
	at0 := time.Now()
	var wg sync.WaitGroup
	var received int
	wg.Add(1)
	go func() { defer wg.Done(); received = lab.ping("h2", "10.0.0.4", 10) }()
	time.Sleep(3 * time.Second)
	wg.Wait()
	d1, ok := lab.rule("s2", 40000)
	during := time.Since(at0).Seconds()
	if !ok {
		t.Fatalf("the drop rule went away while the flood went on (%v after the block)", time.Since(start)-blocked)
	}
	toH3During, upDuring := txPackets(t, "s3-eth1")-h0, txPackets(t, "s2-eth3")-up0
	t.Logf("during the block: drop rule counted %d packets in %.1f s; s2 sent %d up to s1 (h2's pings included), h3 was sent %d; h2→h4 ping %d/10",
		d1.Packets-d0, during, upDuring, toH3During, received)
	if d1.Packets-d0 < 1000 {
		t.Errorf("the drop rule counted %d packets in %.1f s of a flood", d1.Packets-d0, during)
	}
	if toH3During > 20 {
		t.Errorf("h3 was still sent %d packets during the block", toH3During)
	}
	// Dropped where it enters: s2 forwards h2's 10 echo requests (and
	// perhaps ARP) up its link to s1, not the flood.
	if upDuring > 40 {
		t.Errorf("s2 still sent %d packets up to s1 during the block: the flood was not dropped at the edge", upDuring)
	}
	if received != 10 {
		t.Errorf("h2 → h4 ping during the block: %d/10 received", received)
	}

	// Keep flooding past ryu.js's 10 s minimum: the rule must stay while
	// the threshold is still triggered.
	if rest := 13*time.Second - (time.Since(start) - blocked); rest > 0 {
		time.Sleep(rest)
	}
	final, ok := lab.rule("s2", 40000)
	if !ok {
		t.Fatalf("the drop rule was removed %v after the block while the flood went on", time.Since(start)-blocked)
	}
	flood.Process.Signal(syscall.SIGINT)
	flood.Wait()
	stopped := time.Now()
	sent := regexp.MustCompile(`([0-9]+) packets transmitted`).FindStringSubmatch(hpOut.String())
	t.Logf("flood stopped after %v; drop rule counted %d packets in all; hping3: %q", stopped.Sub(start).Round(time.Millisecond),
		final.Packets, sent)

	waitFor(t, 30*time.Second, "release of the drop rule after the flood", func() bool {
		_, ok := lab.rule("s2", 40000)
		return !ok
	})
	t.Logf("flood stop → rule removed in %v", time.Since(stopped).Round(time.Millisecond))

	// Released: h1's DNS-sourced UDP reaches h3 again.
	h0 = txPackets(t, "s3-eth1")
	if out, err := lab.host("h1", "hping3", "--udp", "-k", "-s", "53", "-c", "20", "-i", "u20000", "10.0.0.3").CombinedOutput(); err != nil &&
		!strings.Contains(string(out), "20 packets transmitted") {
		t.Fatalf("hping3 after the release: %v\n%s", err, out)
	}
	if got := txPackets(t, "s3-eth1") - h0; got < 20 {
		t.Errorf("after the release h3 was sent %d of h1's 20 packets", got)
	}

	for _, l := range []string{"blocking 10.0.0.3,53", "unblocking 10.0.0.3,53"} {
		if !strings.Contains(e.log.String(), l) {
			t.Errorf("engine log lacks %q", l)
		}
	}
	var st map[string]struct{ Error string }
	e.get(t, "/scripts/json", &st)
	if st["ryu.js"].Error != "" {
		t.Errorf("ryu.js: %s", st["ryu.js"].Error)
	}
}

// startOsKen runs examples/ryu/switch_rest.py under Debian's os-ken,
// OpenFlow on 127.0.0.1:of, REST on 127.0.0.1:8080, until the test ends.
func startOsKen(t *testing.T, of int) *lockedBuf {
	t.Helper()
	log := &lockedBuf{}
	c := exec.Command("/usr/bin/python3", "/usr/bin/osken-manager", "--ofp-listen-host", "127.0.0.1",
		"--ofp-tcp-listen-port", fmt.Sprint(of), examples("ryu", "switch_rest.py"))
	c.Stdout, c.Stderr = log, log
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Process.Kill()
		c.Wait()
		if t.Failed() {
			t.Logf("os-ken log:\n%s", tail(log.String(), 4000))
		}
	})
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if conn, err := net.Dial("tcp", "127.0.0.1:8080"); err == nil {
			conn.Close()
			if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", of)); err == nil {
				conn.Close()
				return log
			}
		}
		if time.Now().After(end) {
			t.Fatalf("os-ken did not listen on 127.0.0.1:8080 and :%d in 20 s:\n%s", of, log)
		}
	}
}

// checkMininetTopology compares the topology sflow.py sent with Open
// vSwitch's own view and the kernel's ifIndex of each port.
func checkMininetTopology(t *testing.T, e *engine, lab *mininetLab) {
	t.Helper()
	var topo struct {
		Nodes map[string]struct {
			Agent, DPID string
			Ports       map[string]struct{ IfIndex, OFPort string }
		}
		Links map[string]struct{ Node1, Port1, Node2, Port2 string }
	}
	e.get(t, "/topology/json", &topo)
	if len(topo.Nodes) != 3 || len(topo.Links) != 2 {
		t.Fatalf("topology has %d nodes, %d links; want 3 switches, 2 links: %+v", len(topo.Nodes), len(topo.Links), topo)
	}
	for i, sw := range []string{"s1", "s2", "s3"} {
		n := topo.Nodes[sw]
		if n.Agent != "127.0.0.1" || n.DPID != fmt.Sprintf("%016x", i+1) {
			t.Errorf("%s: agent %q dpid %q, want 127.0.0.1 and %016x", sw, n.Agent, n.DPID, i+1)
		}
		want := 2
		if sw != "s1" {
			want = 3
		}
		if len(n.Ports) != want {
			t.Errorf("%s has ports %v, want %d", sw, n.Ports, want)
		}
		for name, p := range n.Ports {
			b, _ := os.ReadFile("/sys/class/net/" + name + "/ifindex")
			of, _ := lab.command("ovs-vsctl", "get", "Interface", name, "ofport").Output()
			if p.IfIndex != strings.TrimSpace(string(b)) || p.OFPort != strings.TrimSpace(string(of)) {
				t.Errorf("%s %s: ifindex %s ofport %s; the kernel says ifindex %s, OVS ofport %s", sw, name, p.IfIndex, p.OFPort,
					strings.TrimSpace(string(b)), strings.TrimSpace(string(of)))
			}
		}
	}
	links := map[string]bool{}
	for _, l := range topo.Links {
		links[l.Node1+":"+l.Port1+"-"+l.Node2+":"+l.Port2] = true
	}
	for _, l := range []string{"s1:s1-eth1-s2:s2-eth3", "s1:s1-eth2-s3:s3-eth3"} {
		if !links[l] {
			t.Errorf("no link %s in %v", l, links)
		}
	}
	// sFlow from the switches reaches the engine under the same agent.
	waitFor(t, 15*time.Second, "sFlow counters from the switches", func() bool {
		var agents map[string]any
		e.get(t, "/agents/json", &agents)
		_, ok := agents["127.0.0.1"]
		return ok
	})
}
