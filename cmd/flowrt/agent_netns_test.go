package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/agent"
)

// TestAgentContainerSockets: with tcp { }, a sampled TCP frame to or from a
// container carries its socket's tcp_info although the socket is in the
// container's network namespace, not the host's. Two namespaces are joined
// by a bridge on the host, as containers on docker0 are; the iperf3 server
// in one of them is a container (its cgroup docker-<id>.scope), the client
// in the other is none, and the agent samples the container's host-side
// veth. Neither end is a socket of the host's namespace, so without the
// lookup in the container's namespace no sample would carry tcp_info.
func TestAgentContainerSockets(t *testing.T) {
	need(t, "ip", "iperf3")
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces, a cgroup and packet sockets")
	}
	root, ok := agent.CgroupRoot()
	if !ok {
		t.Skip("no cgroup v2 hierarchy here")
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	const br = "frtskbr"
	exec.Command("ip", "link", "del", br).Run()
	run("ip", "link", "add", br, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	run("ip", "link", "set", br, "up")
	for i, ns := range []string{"frtska", "frtskb"} {
		nsVeth(t, ns, ns+"0", ns+"1", fmt.Sprintf("198.19.6.%d/24", i+2), "link", "set", ns+"0", "master", br)
	}
	server := exec.Command("ip", "netns", "exec", "frtska", "iperf3", "-s", "-1", "-B", "198.19.6.2")
	dockerCgroup(t, filepath.Join(root, "flowrt-test-sockets"), strings.Repeat("50c4e7", 10)+"abcd", server)

	d := startDecoder(t)
	ag := startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=127.0.0.1 udpport=%d }\n  polling=1\n  agentIP=10.250.0.13\n  docker { }\n  tcp { }\n  pcap { dev=frtska0 sampling=10 }\n}\n",
		d.port))
	out, err := exec.Command("ip", "-n", "frtska", "-o", "link", "show", "frtska1").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	mac := strings.ReplaceAll(strings.Fields(string(out[strings.Index(string(out), "link/ether"):]))[1], ":", "")
	waitFor(t, 10*time.Second, "the container's counters, with its MAC", func() bool { return strings.Contains(d.String(), mac) })
	time.Sleep(1200 * time.Millisecond) // a walk after the first: the lookups are in place
	client := exec.Command("ip", "netns", "exec", "frtskb", "iperf3", "-c", "198.19.6.2", "-t", "2", "-b", "50M")
	if out, err := client.CombinedOutput(); err != nil {
		t.Fatalf("iperf3 client: %v %s", err, out)
	}
	var rtts []string
	waitFor(t, 5*time.Second, "tcp_info on the container's samples", func() bool {
		rtts = d.values("tcpinfo_rtt_uS")
		return len(rtts) >= 20
	})
	mtu := d.values("tcpinfo_path_mtu")
	for i, v := range rtts {
		if r, _ := strconv.Atoi(v); r <= 0 || r > 1_000_000 {
			t.Errorf("sample %d: RTT %s µs", i, v)
		}
		if i < len(mtu) && mtu[i] != "1500" {
			t.Errorf("sample %d: path MTU %s, the veth's is 1500", i, mtu[i])
		}
	}
	t.Logf("%d samples with the container's tcp_info (first RTTs %v µs)", len(rtts), rtts[:min(5, len(rtts))])
	if strings.Contains(ag.logText(), "no socket lookups") {
		t.Errorf("agent:\n%s", ag.logText())
	}
}
