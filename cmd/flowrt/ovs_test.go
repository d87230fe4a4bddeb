package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ovsLab is Open vSwitch (userspace datapath: this kernel has no OVS
// module) bridging two network namespaces, frtns1 (198.18.0.1, port frtv1)
// and frtns2 (198.18.0.2, port frtv2), torn down by the test's cleanup.
type ovsLab struct {
	t      *testing.T
	bridge string
	sh     func(args ...string) string
	vsctl  func(args ...string) string
}

func startOVS(t *testing.T) *ovsLab {
	t.Helper()
	need(t, "ovs-vsctl", "ovsdb-server", "ovs-vswitchd", "ip", "socat")
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	sock, env := ovsDaemons(t)
	sh := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	quiet := func(args ...string) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		cmd.Run()
	}
	vsctl := func(args ...string) string {
		return sh(append([]string{"ovs-vsctl", "--db=" + sock, "--timeout=10"}, args...)...)
	}

	br := "frtbr0"
	vsctl("add-br", br, "--", "set", "bridge", br, "datapath_type=netdev")
	t.Cleanup(func() { quiet("ovs-vsctl", "--db="+sock, "--timeout=5", "--if-exists", "del-br", br) })
	for i := 1; i <= 2; i++ {
		ns, v, vp := fmt.Sprintf("frtns%d", i), fmt.Sprintf("frtv%d", i), fmt.Sprintf("frtv%dp", i)
		quiet("ip", "netns", "del", ns)
		sh("ip", "netns", "add", ns)
		t.Cleanup(func() { quiet("ip", "netns", "del", ns) })
		sh("ip", "link", "add", v, "type", "veth", "peer", "name", vp)
		sh("ip", "link", "set", vp, "netns", ns)
		sh("ip", "link", "set", v, "up")
		sh("ip", "-n", ns, "addr", "add", fmt.Sprintf("198.18.0.%d/24", i), "dev", vp)
		sh("ip", "-n", ns, "link", "set", vp, "up")
		sh("ip", "-n", ns, "link", "set", "lo", "up")
		quiet("ip", "netns", "exec", ns, "ethtool", "-K", vp, "tx", "off") // TCP through the userspace datapath
		vsctl("add-port", br, v)
	}
	sh("ip", "link", "set", br, "up")

	return &ovsLab{t: t, bridge: br, sh: sh, vsctl: vsctl}
}

// sflowTo points the bridge's sFlow at a collector.
func (l *ovsLab) sflowTo(addr string, sampling, polling int) {
	l.vsctl("--", "--id=@s", "create", "sflow", "agent=lo", fmt.Sprintf("target=%q", addr), "header=128",
		fmt.Sprintf("sampling=%d", sampling), fmt.Sprintf("polling=%d", polling), "--", "set", "bridge", l.bridge, "sflow=@s")
}

func (l *ovsLab) stopSFlow() { l.vsctl("clear", "bridge", l.bridge, "sflow") }

// TestOpenVSwitchAgent runs a real sFlow agent: Open vSwitch (userspace
// datapath, as this kernel has no OVS module) bridging two network
// namespaces the test creates, exporting sFlow to flowrt decode on
// 127.0.0.1. Ping, UDP and TCP traffic crosses the bridge; flowrt must see
// every datagram (contiguous sequence numbers), the sampled packets'
// addresses, and OVS's counter records (OpenFlow port 0:1004, port name
// 0:1005, generic interface 0:1). Needs root (namespaces) and openvswitch-switch.
func TestOpenVSwitchAgent(t *testing.T) {
	lab := startOVS(t)
	sh := lab.sh
	// flowrt listens before OVS starts sending (OVS loses every other
	// datagram to ICMP port-unreachable when nothing listens).
	fl := startDecode(t, "-j")
	addr, lines := fl.addr, fl.lines

	lab.sflowTo(addr, 1, 1)

	// Traffic: ICMP, UDP and TCP from ns1 to ns2.
	sh("ip", "netns", "exec", "frtns1", "ping", "-c", "20", "-i", "0.05", "-W", "2", "198.18.0.2")
	for range 5 {
		sh("ip", "netns", "exec", "frtns1", "sh", "-c", "echo flowrt | socat -u - UDP:198.18.0.2:9999")
	}
	srv := exec.Command("ip", "netns", "exec", "frtns2", "socat", "-u", "TCP-LISTEN:7777,reuseaddr", "-")
	srv.Start()
	time.Sleep(300 * time.Millisecond)
	sh("ip", "netns", "exec", "frtns1", "sh", "-c", "head -c 200000 /dev/zero | socat -u - TCP:198.18.0.2:7777")
	srv.Wait()
	time.Sleep(2500 * time.Millisecond) // two polling intervals for counters
	lab.stopSFlow()
	time.Sleep(300 * time.Millisecond)
	fl.stop()

	var (
		datagrams int
		lastSeq   = -1
		flows     = map[string]int{} // "proto src>dst" → samples
		records   = map[string]bool{}
		portNames = map[string]bool{}
	)
	for line := range lines {
		var d struct {
			Agent, PacketSequenceNo string
			Samples                 []struct {
				SampleType string
				Elements   []map[string]any
			}
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		datagrams++
		seq, _ := strconv.Atoi(d.PacketSequenceNo)
		if lastSeq >= 0 && seq != lastSeq+1 {
			t.Errorf("datagram sequence jumps from %d to %d: a datagram was lost", lastSeq, seq)
		}
		lastSeq = seq
		for _, s := range d.Samples {
			for _, el := range s.Elements {
				e := map[string]string{}
				for k, v := range el {
					e[k], _ = v.(string)
				}
				if tag := e["counterBlock_tag"]; tag != "" {
					records[tag] = true
					if n := e["ifName"]; n != "" {
						portNames[n] = true
					}
				}
				if e["flowBlock_tag"] == "0:1" && e["srcIP"] != "" {
					flows[e["IPProtocol"]+" "+e["srcIP"]+">"+e["dstIP"]]++
				}
			}
		}
	}
	t.Logf("%d datagrams; flows %v; counter records %v; ports %v", datagrams, flows, records, portNames)
	if datagrams < 5 {
		t.Fatalf("only %d datagrams from Open vSwitch", datagrams)
	}
	for _, f := range []string{"1 198.18.0.1>198.18.0.2", "1 198.18.0.2>198.18.0.1", "17 198.18.0.1>198.18.0.2", "6 198.18.0.1>198.18.0.2"} {
		if flows[f] == 0 {
			t.Errorf("no sampled packet for %s", f)
		}
	}
	if flows["1 198.18.0.1>198.18.0.2"] < 20 {
		t.Errorf("sampling=1 but only %d of 20 echo requests were sampled", flows["1 198.18.0.1>198.18.0.2"])
	}
	for _, r := range []string{"0:1", "0:2", "0:1004", "0:1005"} {
		if !records[r] {
			t.Errorf("no %s counter record from Open vSwitch", r)
		}
	}
	if !portNames["frtv1"] || !portNames["frtv2"] {
		t.Errorf("port names %v, want frtv1 and frtv2", portNames)
	}
}
