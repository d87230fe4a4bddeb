package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// agentProc is a running "flowrt agent".
type agentProc struct {
	cmd *exec.Cmd
	log *strings.Builder
	mu  sync.Mutex
}

func (a *agentProc) logText() string { a.mu.Lock(); defer a.mu.Unlock(); return a.log.String() }

func startAgent(t *testing.T, conf string, env ...string) *agentProc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hsflowd.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	a := &agentProc{cmd: exec.Command(flowrt, "agent", "-c", path), log: &strings.Builder{}}
	a.cmd.Env = append(os.Environ(), env...)
	stderr, _ := a.cmd.StderrPipe()
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			a.mu.Lock()
			a.log.WriteString(sc.Text() + "\n")
			a.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		a.cmd.Process.Signal(interrupt)
		a.cmd.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", a.logText())
		}
	})
	return a
}

// decoder is "flowrt decode -p port" collecting sflowtool's text output.
type decoder struct {
	mu   sync.Mutex
	text strings.Builder
	port int
}

func startDecoder(t *testing.T) *decoder {
	t.Helper()
	d := &decoder{port: freePort(t, "udp")}
	cmd := exec.Command(flowrt, "decode", "-p", strconv.Itoa(d.port))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 64<<10)
		for {
			n, err := out.Read(b)
			d.mu.Lock()
			d.text.Write(b[:n])
			d.mu.Unlock()
			if err == io.EOF || err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Signal(interrupt); cmd.Wait() })
	time.Sleep(200 * time.Millisecond)
	return d
}

func (d *decoder) String() string { d.mu.Lock(); defer d.mu.Unlock(); return d.text.String() }

// values returns every value sflowtool printed for a key, in order.
func (d *decoder) values(key string) []string {
	var out []string
	for _, l := range strings.Split(d.String(), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && k == key {
			out = append(out, v)
		}
	}
	return out
}

// procValue reads field of the line of file that starts with key.
func procValue(t *testing.T, file, key string, field int) uint64 {
	t.Helper()
	b, _ := os.ReadFile(file)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > field && strings.TrimSuffix(f[0], ":") == key {
			v, _ := strconv.ParseUint(f[field], 10, 64)
			return v
		}
	}
	return 0
}

func snmpValue(group, name string) uint64 {
	b, _ := os.ReadFile("/proc/net/snmp")
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != group+":" {
			continue
		}
		for j := range names {
			if names[j] == name && j < len(vals) {
				v, _ := strconv.ParseUint(vals[j], 10, 64)
				return v
			}
		}
	}
	return 0
}

// TestAgentHostCounters runs the agent against "flowrt decode" and an
// engine at once (two collectors): the host counters sflowtool's format
// shows match /proc and /sys read around the same moment, each collector
// sees contiguous sequence numbers of its own, and the engine's
// /metric/<agent>/load_one/json is the host's load.
func TestAgentHostCounters(t *testing.T) {
	e := startEngine(t)
	d := startDecoder(t)
	udpBefore := snmpValue("Udp", "InDatagrams")
	ctxtBefore := procValue(t, "/proc/stat", "ctxt", 1)
	startAgent(t, fmt.Sprintf(`# two collectors, as a node sending to two analysers would
sflow {
  collector { ip=127.0.0.1 udpport=%d }
  collector { ip=%s udpport=%s }
  polling = 1
  agentIP = 10.250.0.1
}
`, d.port, strings.Split(e.sflow, ":")[0], strings.Split(e.sflow, ":")[1]))
	waitFor(t, 10*time.Second, "three host counter samples at flowrt decode", func() bool { return len(d.values("mem_total")) >= 3 })
	udpAfter := snmpValue("Udp", "InDatagrams")
	ctxtAfter := procValue(t, "/proc/stat", "ctxt", 1)

	hostname, _ := os.Hostname()
	var release, memTotal string
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		release = strings.TrimSpace(string(b))
	}
	memTotal = strconv.FormatUint(procValue(t, "/proc/meminfo", "MemTotal", 1)*1024, 10)
	checks := []struct{ key, want string }{
		{"hostname", hostname}, {"os_release", release}, {"mem_total", memTotal},
		{"cpu_num", strconv.Itoa(numCPU())}, {"agent", "10.250.0.1"},
	}
	for _, c := range checks {
		if v := d.values(c.key); len(v) == 0 || v[0] != c.want {
			t.Errorf("%s: decoded %v, want %s", c.key, v, c.want)
		}
	}
	between := func(key string, lo, hi uint64) {
		v := d.values(key)
		if len(v) == 0 {
			t.Errorf("%s not decoded", key)
			return
		}
		n, _ := strconv.ParseUint(v[0], 10, 64)
		if n < lo || n > hi {
			t.Errorf("%s = %d, want within /proc's %d…%d read before and after", key, n, lo, hi)
		}
	}
	between("udpInDatagrams", udpBefore, udpAfter)
	between("cpu_contexts", ctxtBefore, ctxtAfter)
	// Interfaces: every one but lo, with its name and ifIndex.
	ents, _ := os.ReadDir("/sys/class/net")
	for _, en := range ents {
		if en.Name() == "lo" {
			continue
		}
		found := false
		for _, n := range d.values("ifName") {
			found = found || n == en.Name()
		}
		if !found {
			t.Errorf("interface %s has no counter sample", en.Name())
		}
	}
	// Per-collector datagram sequence numbers: 1, 2, 3… at each.
	seqs := d.values("packetSequenceNo")
	for i, s := range seqs[:3] {
		if s != strconv.Itoa(i+1) {
			t.Errorf("datagram sequence numbers at flowrt decode: %v, want 1, 2, 3…", seqs)
			break
		}
	}
	// The engine's view of the same host.
	load, _ := os.ReadFile("/proc/loadavg")
	want, _ := strconv.ParseFloat(strings.Fields(string(load))[0], 64)
	var st []struct {
		MetricValue float64
		Agent       string
		DataSource  string
	}
	waitFor(t, 5*time.Second, "load_one at the engine", func() bool {
		e.get(t, "/metric/10.250.0.1/load_one/json", &st)
		return len(st) == 1 && st[0].Agent == "10.250.0.1"
	})
	if math.Abs(st[0].MetricValue-want) > 0.5 || st[0].DataSource != "2.1" {
		t.Errorf("engine load_one %+v, /proc/loadavg %.2f", st[0], want)
	}
	var agents map[string]struct {
		SFlowDatagramsLost uint64 `json:"sFlowDatagramsLost"`
	}
	e.get(t, "/agents/json", &agents)
	if a, ok := agents["10.250.0.1"]; !ok || a.SFlowDatagramsLost != 0 {
		t.Errorf("engine's view of the agent: %+v", agents)
	}
	t.Logf("decoded %d host samples; engine load_one %.2f (/proc %.2f)", len(d.values("mem_total")), st[0].MetricValue, want)
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

// TestAgentConfigErrors: bad configurations are refused with the file and
// line; an unreachable collector and a missing device leave a running agent
// that says what is wrong.
func TestAgentConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ conf, want string }{
		{"sflow {\n  collector { ip=10.0.0.300 }\n}\n", "hsflowd.conf:2: collector needs ip=<address>"},
		{"sflow {\n  polling = soon\n}\n", "hsflowd.conf:2: polling \"soon\" must be seconds"},
		{"sflow {\n  collector { ip=10.0.0.1 }\n  pcap { }\n", "hsflowd.conf:3: pcap { } needs dev=<interface>"},
		{"sflow {\n  collector { ip=10.0.0.1 }\n", "hsflowd.conf:2: missing }"},
		{"sflow {\n  colector { ip=10.0.0.1 }\n}\n", ""}, // an unknown module is skipped (hsflowd has many)
		{"sflow {\n  speling = 1\n}\n", "hsflowd.conf:2: unknown setting \"speling\""},
	} {
		path := filepath.Join(dir, "hsflowd.conf")
		os.WriteFile(path, []byte(c.conf), 0o644)
		out, err := exec.Command(flowrt, "agent", "-c", path).CombinedOutput()
		if c.want == "" {
			if !strings.Contains(string(out), "no collector") {
				t.Errorf("%q: %s", c.conf, out)
			}
			continue
		}
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("config %q: %v %s, want %q", c.conf, err, out, c.want)
		}
	}
	out, err := exec.Command(flowrt, "agent", "-c", filepath.Join(dir, "none.conf")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "none.conf") || !strings.Contains(string(out), "COLLECTOR") {
		t.Errorf("missing file: %v %s", err, out)
	}

	// COLLECTOR alone (the host-sflow image), a missing device and a
	// collector nobody listens on: the agent runs and says so.
	port := freePort(t, "udp")
	a := startAgent(t, "sflow {\n  polling=1\n  pcap { dev=frtnosuch0 }\n}\n", fmt.Sprintf("COLLECTOR=127.0.0.1:%d", port), "NET=")
	waitFor(t, 10*time.Second, "warnings", func() bool {
		l := a.logText()
		return strings.Contains(l, `device to sample not found`) && strings.Contains(l, "frtnosuch0")
	})
	time.Sleep(2500 * time.Millisecond)
	if a.cmd.ProcessState != nil {
		t.Fatalf("agent exited: %s", a.logText())
	}
	if !strings.Contains(a.logText(), "collector unreachable") {
		t.Logf("(no ICMP refusal seen for 127.0.0.1:%d; the kernel may not report it)", port)
	}
}

// iperfNamespace makes a network namespace joined to this one by a veth
// pair, <prefix>0 here with <net>.1/24 and <prefix>1 there with <net>.2,
// runs an iperf3 server for one test there, and returns the local end. It
// skips the test where that cannot be done (not root, no ip or iperf3);
// root also lets the agent open packet sockets.
func iperfNamespace(t *testing.T, ns, prefix, net string) string {
	t.Helper()
	need(t, "ip", "iperf3")
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace and packet sockets")
	}
	veth, peer := prefix+"0", prefix+"1"
	nsVeth(t, ns, veth, peer, net+".2/24", "addr", "add", net+".1/24", "dev", veth)
	// Real frames, not 64 KB segmentation-offload super-frames: each sample
	// then stands for N frames of similar size, and the estimate is tight.
	exec.Command("ethtool", "-K", veth, "tso", "off", "gso", "off", "gro", "off").Run()
	exec.Command("ip", "netns", "exec", ns, "ethtool", "-K", peer, "tso", "off", "gso", "off", "gro", "off").Run()
	server := exec.Command("ip", "netns", "exec", ns, "iperf3", "-s", "-1", "-B", net+".2")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	return veth
}

// nsVeth makes network namespace ns and a veth pair, veth here and peer
// there with address addr, both up (and the namespace's lo); here is the
// ip command that sets the local end (an address, a bridge) before it is
// up. Both go at the end.
func nsVeth(t *testing.T, ns, veth, peer, addr string, here ...string) {
	t.Helper()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "link", "del", veth).Run()
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run(); exec.Command("ip", "link", "del", veth).Run() })
	run("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
	run("ip", "link", "set", peer, "netns", ns)
	run(append([]string{"ip"}, here...)...)
	run("ip", "link", "set", veth, "up")
	run("ip", "-n", ns, "addr", "add", addr, "dev", peer)
	run("ip", "-n", ns, "link", "set", peer, "up")
	run("ip", "-n", ns, "link", "set", "lo", "up")
}

// TestAgentSamplesInNamespace samples an iperf3 TCP stream on a veth pair
// into a network namespace, 1 in 10, and sends to an engine and to flowrt
// decode: the engine's flow rate matches iperf3's within 15%, and the
// samples are as many as the sample pool over the rate, within 3σ.
func TestAgentSamplesInNamespace(t *testing.T) {
	veth := iperfNamespace(t, "frtagent", "frtag", "198.19.0")

	e := startEngine(t)
	d := startDecoder(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	startAgent(t, fmt.Sprintf(`sflow {
  collector { ip=%s udpport=%s }
  collector { ip=127.0.0.1 udpport=%d }
  polling=2
  agentIP=10.250.0.2
  pcap { dev=%s sampling=10 }
}
`, host, port, d.port, veth))
	if code, body := e.do(t, "PUT", "/flow/iperf/json", "{keys:'ipsource,ipdestination,tcpdestinationport', value:'bytes', filter:'tcpdestinationport=5201', t:2}"); code/100 != 2 {
		t.Fatalf("flow: %d %s", code, body)
	}
	time.Sleep(1500 * time.Millisecond)
	client := exec.Command("iperf3", "-c", "198.19.0.2", "-t", "8", "-b", "200M", "-J")
	var rates []float64
	done := make(chan []byte, 1)
	go func() { out, _ := client.Output(); done <- out }()
	// The engine's smoothed rate during the steady part of the stream.
	time.Sleep(4 * time.Second)
	for range 6 {
		var flows []struct {
			Key   string
			Value float64
		}
		e.get(t, "/activeflows/10.250.0.2/iperf/json", &flows)
		for _, f := range flows {
			if f.Key == "198.19.0.1,198.19.0.2,5201" {
				rates = append(rates, f.Value)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	out := <-done
	var rep struct {
		End struct {
			SumSent struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_sent"`
		}
	}
	if err := json.Unmarshal(out, &rep); err != nil || rep.End.SumSent.BitsPerSecond == 0 {
		t.Fatalf("iperf3: %v %s", err, out)
	}
	if len(rates) == 0 {
		t.Fatalf("the engine has no iperf flow")
	}
	sum := 0.0
	for _, r := range rates {
		sum += r
	}
	engine, iperf := sum/float64(len(rates)), rep.End.SumSent.BitsPerSecond/8
	t.Logf("engine %.2f MB/s of frames, iperf3 %.2f MB/s of payload (%+.1f%%)", engine/1e6, iperf/1e6, 100*(engine/iperf-1))
	if math.Abs(engine/iperf-1) > 0.15 {
		t.Errorf("engine rate %.0f B/s vs iperf3 %.0f B/s: more than 15%% apart", engine, iperf)
	}

	// The statistics of sampling, from flowrt decode's view: samples of
	// frtag0 against its last sample pool.
	time.Sleep(500 * time.Millisecond)
	pools := d.values("samplePool")
	flowSeq := d.values("flowSampleType")
	if len(pools) == 0 || len(flowSeq) == 0 {
		t.Fatalf("no flow samples at flowrt decode")
	}
	pool, _ := strconv.ParseFloat(pools[len(pools)-1], 64)
	// Samples the agent could not read in time (its socket's queue full:
	// the machine busy) are counted in the samples' drops, as sFlow
	// accounts them; the kernel took them, so they count to the expected
	// 1 in 10, and they are few or the agent is too slow.
	drops := 0.0
	if v := d.values("dropEvents"); len(v) > 0 {
		drops, _ = strconv.ParseFloat(v[len(v)-1], 64)
	}
	n := float64(len(flowSeq))
	expect := pool / 10
	sigma := math.Sqrt(pool * 0.1 * 0.9)
	t.Logf("%d flow samples and %.0f dropped for a pool of %.0f packets at 1 in 10: expected %.0f ± %.0f (3σ)", len(flowSeq), drops, pool, expect, 3*sigma)
	if math.Abs(n+drops-expect) > 3*sigma+10 {
		t.Errorf("%v samples and %v dropped, expected %.0f ± %.0f", n, drops, expect, 3*sigma)
	}
	if drops > n/20 {
		t.Errorf("the agent dropped %.0f samples of %.0f (over 5%%): it does not keep up with 1 in 10 of one iperf3 stream", drops, n+drops)
	}
}

// TestAgentContainers makes a container as Docker would: a cgroup named as
// Docker's systemd driver names it (docker-<id>.scope) in the cgroup v2
// hierarchy, and a network namespace joined to the host by a veth; a busy
// process runs in both. The engine sees the container as a data source of
// its own with its name and CPU, and the host's virt_node; pings to the
// container, sampled on the host's end of the veth, carry
// extended_entities naming the container as destination (requests) and
// source (replies), found through the MAC its counters report.
func TestAgentContainers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a cgroup")
	}
	root := ""
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(p, "cgroup.controllers")); err == nil {
			root = p
			break
		}
	}
	if root == "" {
		t.Skip("no cgroup v2 hierarchy here")
	}
	id := strings.Repeat("f10e7", 12) + "abcd"
	need(t, "ip", "ping")
	veth := iperfNamespace(t, "frtctr", "frtct", "198.19.2")
	busy := exec.Command("ip", "netns", "exec", "frtctr", "sh", "-c", "while :; do :; done")
	dockerCgroup(t, filepath.Join(root, "flowrt-test"), id, busy)
	e := startEngine(t)
	d := startDecoder(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=%s udpport=%s }\n  collector { ip=127.0.0.1 udpport=%d }\n  polling=1\n  agentIP=10.250.0.3\n  docker { }\n  pcap { dev=%s sampling=1 }\n}\n",
		host, port, d.port, veth))
	var m map[string]any
	waitFor(t, 10*time.Second, "the container's CPU at the engine", func() bool {
		m = nil
		if code, body := e.do(t, "GET", "/metric/10.250.0.3/json", ""); code == 200 {
			json.Unmarshal([]byte(body), &m)
		}
		u, ok := m["3.1.vir_cpu_utilization"].(float64)
		return ok && u > 0
	})
	if m["3.1.host_name"] != id[:12] || m["3.1.vir_cpu_state"] != 1.0 {
		t.Errorf("container data source: host_name %v, state %v", m["3.1.host_name"], m["3.1.vir_cpu_state"])
	}
	if d, _ := m["2.1.vir_node_domains"].(float64); d < 1 {
		t.Errorf("host virt_node domains %v", m["2.1.vir_node_domains"])
	}
	t.Logf("container %s: vir_cpu_utilization %.0f%%, host vir_node_domains %v", m["3.1.host_name"], m["3.1.vir_cpu_utilization"], m["2.1.vir_node_domains"])

	// The container's MAC is in its counters; frames to and from it say so.
	out, err := exec.Command("ip", "-n", "frtctr", "-o", "link", "show", "frtct1").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out[strings.Index(string(out), "link/ether"):]))
	mac := strings.ReplaceAll(f[1], ":", "")
	if code, body := e.do(t, "PUT", "/flow/bycontainer/json", "{keys:'host:macdestination:host_name', value:'frames'}"); code/100 != 2 {
		t.Fatalf("flow: %d %s", code, body)
	}
	ping := func() {
		if out, err := exec.Command("ping", "-c", "5", "-i", "0.2", "-W", "1", "198.19.2.2").CombinedOutput(); err != nil {
			t.Fatalf("ping: %v %s", err, out)
		}
	}
	ping()
	if !strings.Contains(d.String(), mac) {
		t.Errorf("the container's MAC %s is not in the decoded counters", mac)
	}
	// Every frame is sampled (1 in 1): the 5 echo requests go to the
	// container and the 5 replies come from it, at least.
	toIt, fromIt := 0, 0
	// A CI run once saw fewer: if the first five are not all there, five
	// more, and the counts say how far it got.
	pinged := time.Now()
	waitFor(t, 8*time.Second, "extended_entities on the pings' frames", func() bool {
		if time.Since(pinged) > 3*time.Second && toIt+fromIt < 10 {
			t.Logf("after a ping burst: %d sampled frames to the container and %d from it with extended_entities 3:1; pinging again", toIt, fromIt)
			ping()
			pinged = time.Now()
		}
		toIt, fromIt = 0, 0
		srcC, srcI, dstC, dstI := d.values("entities_src_class"), d.values("entities_src_index"), d.values("entities_dst_class"), d.values("entities_dst_index")
		for i := range min(len(srcC), len(srcI), len(dstC), len(dstI)) {
			if dstC[i] == "3" && dstI[i] == "1" {
				toIt++
			}
			if srcC[i] == "3" && srcI[i] == "1" {
				fromIt++
			}
		}
		return toIt >= 5 && fromIt >= 5
	})
	t.Logf("%d sampled frames to the container and %d from it carry extended_entities 3:1; its MAC %s is in its host_adapters", toIt, fromIt, mac)
	// The engine names each frame's destination: the container for the
	// requests, this host (whose adapters include the veth) for the replies.
	var flows []struct{ Key string }
	e.get(t, "/activeflows/ALL/bycontainer/json", &flows)
	hostname, _ := os.Hostname()
	keys := map[string]bool{}
	for _, f := range flows {
		keys[f.Key] = true
	}
	if !keys[id[:12]] || !keys[hostname] {
		t.Errorf("flows by host:macdestination:host_name %+v, want the container %s and this host %s", flows, id[:12], hostname)
	}
}

// dockerCgroup starts p in a cgroup named as Docker names a container's
// (<parent>/docker-<id>.scope); at the end p is killed and the cgroup
// removed. It skips the test where the cgroup cannot be made.
func dockerCgroup(t *testing.T, parent, id string, p *exec.Cmd) {
	t.Helper()
	cg := filepath.Join(parent, "docker-"+id+".scope")
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	if err := p.Start(); err != nil {
		os.Remove(cg)
		os.Remove(parent)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Process.Kill()
		p.Wait()
		time.Sleep(100 * time.Millisecond)
		os.Remove(cg)
		os.Remove(parent)
	})
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(p.Process.Pid)), 0o644); err != nil {
		t.Skipf("cannot move a process into the cgroup: %v", err)
	}
}

// TestAgentCPU measures the agent's own CPU while it samples about 100,000
// packets/s 1 in 1,000 (iperf3 UDP, 64-byte datagrams, through a veth):
// the kernel filter drops the rest, so the agent handles ~100 samples/s.
// The figure goes to docs/performance.md.
func TestAgentCPU(t *testing.T) {
	veth := iperfNamespace(t, "frtagcpu", "frtac", "198.19.1")
	d := startDecoder(t)
	a := startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=127.0.0.1 udpport=%d }\n  polling=20\n  agentIP=10.250.0.4\n  pcap { dev=%s sampling=1000 }\n}\n", d.port, veth))
	time.Sleep(1500 * time.Millisecond)
	ticks := func() float64 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		return u + s
	}
	pkts := func() float64 {
		b, _ := os.ReadFile("/sys/class/net/" + veth + "/statistics/tx_packets")
		v, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		return v
	}
	t0, p0, start := ticks(), pkts(), time.Now()
	if out, err := exec.Command("iperf3", "-c", "198.19.1.2", "-u", "-b", "70M", "-l", "64", "-t", "8").CombinedOutput(); err != nil {
		t.Fatalf("iperf3: %v %s", err, out)
	}
	elapsed := time.Since(start).Seconds()
	cpu := (ticks() - t0) / 100 / elapsed // USER_HZ
	pps := (pkts() - p0) / elapsed
	samples := len(d.values("flowSampleType"))
	rss := procValue(t, fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid), "VmRSS", 1)
	t.Logf("%.0f packets/s on %s sampled 1 in 1,000 (%d samples): agent CPU %.2f%% of a core, %.2f%% per 100k packets/s; RSS %d MiB",
		pps, veth, samples, 100*cpu, 100*cpu*100000/pps, rss/1024)
	if samples == 0 {
		t.Errorf("no samples")
	}
}

// TestAgentDeviceComesBack: a sampled device that is deleted and made again
// (a container restarted, a new veth with a new ifIndex) is sampled again
// without restarting the agent.
func TestAgentDeviceComesBack(t *testing.T) {
	need(t, "ping")
	veth := iperfNamespace(t, "frtback", "frtbk", "198.19.3")
	d := startDecoder(t)
	a := startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=127.0.0.1 udpport=%d }\n  polling=20\n  agentIP=10.250.0.5\n  pcap { dev=%s sampling=1 }\n}\n", d.port, veth))
	ping := func() {
		t.Helper()
		if out, err := exec.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "198.19.3.2").CombinedOutput(); err != nil {
			t.Fatalf("ping: %v %s", err, out)
		}
	}
	waitFor(t, 5*time.Second, "sampling started", func() bool { return strings.Contains(a.logText(), "sampling packets") })
	ping()
	waitFor(t, 5*time.Second, "samples of the first veth", func() bool { return len(d.values("flowSampleType")) >= 6 })
	first := d.values("sourceId")
	if out, err := exec.Command("ip", "link", "del", veth).CombinedOutput(); err != nil { // both ends go
		t.Fatalf("ip link del: %v %s", err, out)
	}
	waitFor(t, 5*time.Second, "the agent noticing", func() bool { return strings.Contains(a.logText(), "packet sampling interrupted") })
	iperfNamespace(t, "frtback", "frtbk", "198.19.3")
	before := len(d.values("flowSampleType"))
	waitFor(t, 25*time.Second, "sampling the new veth", func() bool { return strings.Count(a.logText(), "sampling packets") >= 2 })
	ping()
	waitFor(t, 5*time.Second, "samples of the new veth", func() bool { return len(d.values("flowSampleType")) >= before+6 })
	t.Logf("first veth %s, then %s", first[len(first)-1], d.values("sourceId")[len(d.values("sourceId"))-1])
}
