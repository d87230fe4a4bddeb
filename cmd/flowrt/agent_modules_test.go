package main_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/agent"
)

// testService lays out a systemd service's cgroup as systemd does
// (<cgroup v2 root>/system.slice/<unit>) and starts argv in it: the process
// moves itself in before it execs, so every socket it opens belongs to the
// service's cgroup. (systemd-run would do the same where PID 1 is systemd;
// this machine's is not.) It returns the cgroup's directory.
func testService(t *testing.T, unit string, argv ...string) (string, *exec.Cmd) {
	t.Helper()
	root, ok := agent.CgroupRoot()
	if !ok {
		t.Skip("no cgroup v2 hierarchy")
	}
	dir := filepath.Join(root, "system.slice", unit)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec "$@"`, dir)
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, argv...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for range 50 { // the cgroup can go once its processes have
			if os.Remove(dir) == nil || os.IsNotExist(os.Remove(dir)) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return dir, cmd
}

// TestAgentServicesAndTCP is the seed's "Systemd traffic marking" set-up:
// pcap on a device, systemd { markTraffic = on } and tcp { }. An iperf3
// client runs as a service and sends through a path with a 20 ms round
// trip (a TAP delay line into a namespace, 10 ms each way) while a second
// service spins on a CPU. The engine sees each service as a data source
// named by its unit, with the CPU its cgroup says it used; the sampled
// packets of the iperf3 connection carry extended_entities naming the
// service, so host:ipsource:host_name keys the traffic by service name
// both ways; and they carry tcp_info whose RTT is the path's within 20%.
// hsflowd modules the agent does not have are named once at start.
func TestAgentServicesAndTCP(t *testing.T) {
	need(t, "iperf3")
	delayLine(t, "frtrtt", "frtrt", "198.19.9", 10*time.Millisecond)
	server := exec.Command("ip", "netns", "exec", "frtrtt", "iperf3", "-s", "-1", "-B", "198.19.9.2")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })

	busyDir, _ := testService(t, "flowrt-busy-test.service", "sh", "-c", "while :; do :; done")
	e := startEngine(t)
	d := startDecoder(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	ag := startAgent(t, fmt.Sprintf(`sflow {
  collector { ip=%s udpport=%s }
  collector { ip=127.0.0.1 udpport=%d }
  polling=2
  agentIP=10.250.0.9
  pcap { dev=frtrt sampling=5 }
  systemd { markTraffic = on }
  tcp { }
  nflog { group = 5 }
  dropmon { }
}
`, host, port, d.port))
	for _, def := range []string{
		"/flow/out/json {keys:'host:ipsource:host_name,ipdestination', value:'bytes', filter:'tcpdestinationport=5201', t:2}",
		"/flow/in/json {keys:'ipsource,host:ipdestination:host_name', value:'bytes', filter:'tcpsourceport=5201', t:2}",
		"/flow/rtt/json {keys:'tcprtt', value:'frames', filter:'tcpdestinationport=5201', n:20, t:5}",
	} {
		path, body, _ := strings.Cut(def, " ")
		if code, out := e.do(t, "PUT", path, body); code/100 != 2 {
			t.Fatalf("%s: %d %s", path, code, out)
		}
	}
	time.Sleep(2500 * time.Millisecond) // the services' first counter samples: markTraffic knows their cgroups
	_, client := testService(t, "flowrt-iperf-test.service", "iperf3", "-c", "198.19.9.2", "-t", "6", "-b", "20M")
	busy0, at0 := cgroupCPU(busyDir), time.Now()
	time.Sleep(4 * time.Second)

	type flow struct {
		Key   string
		Value float64
	}
	var out, in, rtts []flow
	e.get(t, "/activeflows/10.250.0.9/out/json", &out)
	e.get(t, "/activeflows/10.250.0.9/in/json", &in)
	e.get(t, "/activeflows/10.250.0.9/rtt/json?maxFlows=20", &rtts)
	busy1, at1 := cgroupCPU(busyDir), time.Now()
	client.Wait()
	if len(out) == 0 || out[0].Key != "flowrt-iperf-test.service,198.19.9.2" || out[0].Value < 1e5 {
		t.Errorf("sent traffic by service: %+v, want flowrt-iperf-test.service,198.19.9.2 first at ≥ 100 kB/s", out)
	}
	if len(in) == 0 || in[0].Key != "198.19.9.2,flowrt-iperf-test.service" {
		t.Errorf("received traffic by service: %+v, want 198.19.9.2,flowrt-iperf-test.service first", in)
	}

	// tcp_info: the RTTs of the samples, at flowrt decode and in the engine.
	var decoded []float64
	for _, v := range d.values("tcpinfo_rtt_uS") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			decoded = append(decoded, f)
		}
	}
	var keyed []float64
	for _, f := range rtts {
		if v, err := strconv.ParseFloat(f.Key, 64); err == nil {
			keyed = append(keyed, v)
		}
	}
	const path = 20000.0 // µs
	for what, vs := range map[string][]float64{"decoded": decoded, "engine tcprtt keys": keyed} {
		if len(vs) == 0 {
			t.Errorf("%s: no RTTs", what)
			continue
		}
		slices.Sort(vs)
		med := vs[len(vs)/2]
		t.Logf("%s: %d RTTs, median %.0f µs (path %.0f µs)", what, len(vs), med, path)
		if math.Abs(med/path-1) > 0.2 {
			t.Errorf("%s: median RTT %.0f µs, path's %.0f µs: more than 20%% apart", what, med, path)
		}
	}

	// The busy service's CPU: the engine's utilization against its cgroup's
	// usage over the same seconds.
	want := 100 * float64(busy1-busy0) / float64(at1.Sub(at0).Microseconds())
	var names, cpus []struct {
		DataSource  string
		MetricValue any
	}
	e.get(t, "/dump/10.250.0.9/host_name/json", &names)
	e.get(t, "/dump/10.250.0.9/vir_cpu_utilization/json", &cpus)
	ds := ""
	for _, n := range names {
		if n.MetricValue == "flowrt-busy-test.service" {
			ds = n.DataSource
		}
	}
	got := -1.0
	for _, c := range cpus {
		if c.DataSource == ds {
			got, _ = c.MetricValue.(float64)
		}
	}
	t.Logf("busy service at data source %s: engine %.1f%% CPU over the last polling interval, its cgroup %.1f%% over 4 s", ds, got, want)
	if !strings.HasPrefix(ds, "3.") || got <= 0 {
		t.Errorf("busy service: data source %q at %.1f%% CPU", ds, got)
	}
	// Its counters against its cgroup's file: the CPU time the agent last
	// reported for the service (flowrt decode's vcpu_cpu_mS) is what the
	// cgroup's cpu.stat said at that polling, so it is at most what the file
	// says now and at most one polling interval of one busy core (plus the
	// decoder's lag) behind it. A utilization over a differently placed
	// window would depend on the machine's load.
	reported := -1.0
	for _, block := range strings.Split(d.String(), "startSample") {
		if !strings.Contains(block, "hostname flowrt-busy-test.service") {
			continue
		}
		for _, l := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(l, "vcpu_cpu_mS "); ok {
				reported, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	now := float64(cgroupCPU(busyDir)) / 1000
	t.Logf("busy service: %0.f ms of CPU last reported, %.0f ms in its cgroup now", reported, now)
	if reported <= 0 || reported > now || now-reported > 2000+1500 {
		t.Errorf("busy service: the agent last reported %.0f ms of CPU, its cgroup says %.0f ms", reported, now)
	}

	log := ag.logText()
	for _, m := range []string{"nflog", "dropmon"} {
		if n := strings.Count(log, "module "+m+" is not supported"); n != 1 {
			t.Errorf("module %s: said %d times, want once:\n%s", m, n, log)
		}
	}
}

// cgroupCPU is a cgroup's CPU time so far, µs (cpu.stat usage_usec).
func cgroupCPU(dir string) int64 {
	b, _ := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "usage_usec "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
