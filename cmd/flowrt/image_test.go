package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// podman runs containers with the options that work on this machine.
type podman struct {
	global, run []string // before and after "run"
	image       string
	names       []string
}

// containerRuntime finds how podman can run a container here. Rootful
// podman asks for RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 4194304, which a
// process without CAP_SYS_RESOURCE cannot raise to above its own hard
// limits (setrlimit: Operation not permitted), so the limits are given
// within this process's; and crun refuses a hybrid cgroup hierarchy (v1
// with controllers in the v2 one, "cgroups in hybrid mode not supported")
// where runc runs. It tries each and skips, with every error, if none runs.
func containerRuntime(t *testing.T, image string) *podman {
	t.Helper()
	return podmanRuntime(t, image, []string{"version"}, func(out string) bool { return out == "flowrt "+releaseVersion })
}

// podmanRuntime is the search: the first way of running image with args
// that succeeds and whose output (trimmed) ok accepts (nil: any).
func podmanRuntime(t *testing.T, image string, args []string, ok func(out string) bool) *podman {
	t.Helper()
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	nofile := min(lim.Max, 65536)
	limits := []string{"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile, nofile), "--ulimit", "nproc=4096:4096"}
	tries := []*podman{{image: image}, {image: image, run: limits}}
	if _, err := exec.LookPath("runc"); err == nil {
		tries = append(tries, &podman{image: image, global: []string{"--runtime", "runc"}, run: limits})
	}
	var errs []string
	for _, p := range tries {
		out, err := p.cmd(append([]string{"--rm", p.image}, args...)...).CombinedOutput()
		if err == nil && (ok == nil || ok(strings.TrimSpace(string(out)))) {
			t.Logf("podman %s run %s …", strings.Join(p.global, " "), strings.Join(p.run, " "))
			return p
		}
		errs = append(errs, fmt.Sprintf("podman %v run %v: %v %s", p.global, p.run, err, strings.TrimSpace(string(out))))
	}
	t.Skipf("podman cannot run a container on this machine:\n%s", strings.Join(errs, "\n"))
	return nil
}

func (p *podman) cmd(args ...string) *exec.Cmd {
	return exec.Command("podman", append(append(append(append([]string{}, p.global...), "run"), p.run...), args...)...)
}

// start runs a named, detached container; it is removed at the end.
func (p *podman) start(t *testing.T, name string, args ...string) {
	t.Helper()
	exec.Command("podman", "rm", "-f", name).Run()
	if out, err := p.cmd(append([]string{"-d", "--name", name}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("podman run %v: %v %s", args, err, out)
	}
	if !slices.Contains(p.names, name) {
		p.names = append(p.names, name)
		t.Cleanup(func() {
			if t.Failed() {
				logs, _ := exec.Command("podman", "logs", name).CombinedOutput()
				t.Logf("%s's log:\n%s", name, logs)
			}
			exec.Command("podman", "rm", "-f", "-t", "2", name).Run()
		})
	}
}

// containerEngine is the engine in a container, reached on the ports
// published on 127.0.0.1, once REST answers.
func containerEngine(t *testing.T, name string, httpPort, sflowPort int) *engine {
	t.Helper()
	e := &engine{http: fmt.Sprintf("http://127.0.0.1:%d", httpPort), sflow: fmt.Sprintf("127.0.0.1:%d", sflowPort), log: &syncLog{}}
	waitFor(t, 20*time.Second, name+"'s REST on "+e.http, func() bool {
		resp, err := http.Get(e.http + "/version")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return e
}

// TestContainerImage runs the image as docs/install.md says, through the
// seeds' command lines: the engine with published ports (REST answers with
// the release's version, sFlow sent to the UDP port is counted, a mounted
// -Dscript.file= script runs, definitions survive a new container on the
// same volume, RTPROP with sFlow-RT's relative paths), flowrt decode -j,
// flowrt decode -t into the host's tcpdump, and the agent with the
// DaemonSet's environment. It also checks the image itself: its files,
// user, labels and size.
func TestContainerImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs containers with rootful podman: needs root")
	}
	need(t, "podman")
	dir, image, why := release(t)
	if !image {
		t.Skip("no image was built: " + why)
	}
	// As a user would: docker load -i the release's archive.
	tag := "localhost/flowrt:" + releaseVersion
	loaded := cmdOutput(t, "podman", "load", "-q", "-i", filepath.Join(dir, "flowrt-"+releaseVersion+"-image.tar"))
	t.Cleanup(func() {
		if out, err := exec.Command("podman", "rmi", "-f", tag).CombinedOutput(); err != nil {
			t.Logf("podman rmi %s: %v %s", tag, err, out)
		}
	})
	if !strings.Contains(loaded, tag) {
		t.Fatalf("podman load printed %q, want %s", loaded, tag)
	}
	checkImage(t, tag)
	p := containerRuntime(t, tag)

	t.Run("engine", func(t *testing.T) { containerEngineRuns(t, p) })
	t.Run("auth", func(t *testing.T) { containerAuth(t, p) })
	t.Run("decode-j", func(t *testing.T) {
		port := freePort(t, "udp")
		c := p.cmd("--rm", "--name", "flowrt-test-decode", "-p", fmt.Sprintf("127.0.0.1:%d:6343/udp", port), p.image, "decode", "-j")
		out, _ := c.StdoutPipe()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { exec.Command("podman", "rm", "-f", "-t", "2", "flowrt-test-decode").Run(); c.Wait() })
		sendBackground(t, fmt.Sprintf("127.0.0.1:%d", port), "-rate", "20", "-duration", "8s", "-agents", "1")
		lines := make(chan string, 1)
		go func() { l, _ := bufio.NewReader(out).ReadString('\n'); lines <- l }()
		var line string
		select {
		case line = <-lines:
		case <-time.After(20 * time.Second):
			t.Fatal("no JSON line from the container in 20 s")
		}
		var d struct{ Agent, DatagramVersion, SamplesInPacket string }
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("%v in %s", err, line)
		}
		// flowrt send's first synthetic agent is 10.255.0.1; 8 samples a datagram.
		if d.Agent != "10.255.0.1" || d.DatagramVersion != "5" || d.SamplesInPacket != "8" {
			t.Errorf("decode -j in the container printed %+v", d)
		}
	})
	// docker run -p 6343:6343/udp sflow/tcpdump -nn port 53, and sflow/tshark:
	// the container's pcap stream into the host's tcpdump and tshark.
	t.Run("decode-t-tcpdump", func(t *testing.T) {
		need(t, "tcpdump")
		lines := pcapInto(t, p, "tcpdump", "-nn", "-r", "-", "-c", "5", "udp port 53")
		for _, l := range lines {
			if !strings.Contains(l, ".53: ") && !strings.Contains(l, ".53 > ") {
				t.Errorf("tcpdump line is not DNS: %s", l)
			}
		}
	})
	t.Run("decode-t-tshark", func(t *testing.T) {
		need(t, "tshark")
		lines := pcapInto(t, p, "tshark", "-r", "-", "-c", "5", "-T", "fields", "-e", "udp.port", "-e", "dns.qry.name")
		for _, l := range lines {
			if f := strings.Fields(l); len(f) != 2 || !strings.Contains(f[0], "53") || !strings.HasSuffix(f[1], ".com") {
				t.Errorf("tshark line is not a DNS query: %q", l)
			}
		}
	})
	t.Run("agent", func(t *testing.T) {
		d := startDecoder(t)
		// The DaemonSet's environment (deploy/host-sflow-daemonset.yml), with
		// the collector here; host networking, NET_RAW and root as there.
		p.start(t, "flowrt-test-agent", "--user", "0", "--network", "host", "--cap-add", "NET_RAW",
			"-e", fmt.Sprintf("COLLECTOR=127.0.0.1:%d", d.port), "-e", "NET=host", "-e", "SAMPLING=400", "-e", "POLLING=1", p.image, "agent")
		waitFor(t, 15*time.Second, "host counters from the agent's container", func() bool { return len(d.values("mem_total")) > 0 })
		mem, _ := os.ReadFile("/proc/meminfo")
		var kb int64
		fmt.Sscanf(strings.SplitN(string(mem), "\n", 2)[0], "MemTotal: %d kB", &kb)
		if got := d.values("mem_total")[0]; got != strconv.FormatInt(kb*1024, 10) {
			t.Errorf("mem_total from the container %s, the host has %d", got, kb*1024)
		}
		// NET=host: every interface with a device behind it (eth0 here, the
		// VM's), at SAMPLING. Its traffic is not the tests' to make: the
		// samples are checked on a veth below.
		var physical []string
		devs, _ := filepath.Glob("/sys/class/net/*/device")
		for _, d := range devs {
			physical = append(physical, filepath.Base(filepath.Dir(d)))
		}
		waitFor(t, 10*time.Second, "the agent sampling each physical interface", func() bool {
			logs, _ := exec.Command("podman", "logs", "flowrt-test-agent").CombinedOutput()
			return strings.Count(string(logs), `msg="sampling packets"`) >= len(physical)
		})
		logs, _ := exec.Command("podman", "logs", "flowrt-test-agent").CombinedOutput()
		for _, dev := range physical {
			if !regexp.MustCompile(`msg="sampling packets" device=` + dev + ` ifindex=\d+ sampling=400 `).Match(logs) {
				t.Errorf("NET=host SAMPLING=400: no sampling of %s 1 in 400:\n%s", dev, logs)
			}
		}
	})
	// The DaemonSet's environment with NET naming a veth into a namespace
	// the test makes: the packets sent there are sampled 1 in SAMPLING and
	// reach an engine on the host with that sampling rate, at about the
	// veth's packet rate.
	t.Run("agent-sampling", func(t *testing.T) {
		veth := iperfNamespace(t, "frtimg", "frtimg", "198.19.9")
		e := startEngine(t)
		if code, body := e.do(t, "PUT", "/flow/sampled/json", "{keys:'samplingrate,ipdestination', value:'frames', filter:'ipdestination=198.19.9.2', t:2}"); code/100 != 2 {
			t.Fatalf("PUT /flow/sampled/json: %d %s", code, body)
		}
		p.start(t, "flowrt-test-agent-veth", "--user", "0", "--network", "host", "--cap-add", "NET_RAW",
			"-e", "COLLECTOR="+e.sflow, "-e", "NET="+veth, "-e", "SAMPLING=10", "-e", "POLLING=1", p.image, "agent")
		waitFor(t, 10*time.Second, "the agent sampling "+veth, func() bool {
			logs, _ := exec.Command("podman", "logs", "flowrt-test-agent-veth").CombinedOutput()
			return strings.Contains(string(logs), `msg="sampling packets" device=`+veth+` `)
		})
		// UDP to the namespace's end (nothing listens: the kernel drops it).
		sendBackground(t, "198.19.9.2:6343", "-rate", "1000", "-duration", "14s", "-agents", "1")
		type flows []struct {
			Key   string
			Value float64
		}
		var top flows
		waitFor(t, 10*time.Second, "sampled flows at the engine", func() bool {
			e.get(t, "/activeflows/ALL/sampled/json", &top)
			return len(top) > 0
		})
		if top[0].Key != "10,198.19.9.2" {
			t.Errorf("the engine's flow key is %q, want sampling rate 10 and 198.19.9.2", top[0].Key)
		}
		// The engine's rate (samples x 10, smoothed over 2 s) against the
		// veth's own count of packets sent, over the same 3 s, once the
		// smoothed rate has had three time constants to settle.
		time.Sleep(4 * time.Second)
		tx := func() float64 {
			b, _ := os.ReadFile("/sys/class/net/" + veth + "/statistics/tx_packets")
			v, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			return v
		}
		t0, p0 := time.Now(), tx()
		var sum float64
		n := 0
		for range 6 {
			time.Sleep(500 * time.Millisecond)
			e.get(t, "/activeflows/ALL/sampled/json", &top)
			if len(top) > 0 {
				sum += top[0].Value
				n++
			}
		}
		pps := (tx() - p0) / time.Since(t0).Seconds()
		est := sum / float64(max(n, 1))
		t.Logf("engine %.0f frames/s from samples 1 in 10, %s sent %.0f packets/s", est, veth, pps)
		// Loose (a loaded machine sends in bursts the 2 s smoothing lags):
		// a sampling rate not applied would be 10 times off.
		if pps < 100 || est < 0.6*pps || est > 1.4*pps {
			t.Errorf("the engine estimates %.0f frames/s, %s sent %.0f/s: not within 40%%", est, veth, pps)
		}
	})
}

// pcapInto runs "flowrt decode -t" in a container with its UDP port
// published, pipes its standard output into a peer on the host while
// synthetic DNS is sent, and returns the peer's five lines.
func pcapInto(t *testing.T, p *podman, peer string, args ...string) []string {
	t.Helper()
	port := freePort(t, "udp")
	name := "flowrt-test-" + peer
	c := p.cmd("--rm", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:6343/udp", port), p.image, "decode", "-t")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reader := exec.CommandContext(ctx, peer, args...)
	r, w, _ := os.Pipe()
	c.Stdout, reader.Stdin = w, r
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { exec.Command("podman", "rm", "-f", "-t", "2", name).Run(); c.Wait() })
	sendBackground(t, fmt.Sprintf("127.0.0.1:%d", port), "-rate", "50", "-duration", "8s", "-mix", "dns")
	out, err := reader.Output()
	r.Close()
	if err != nil {
		t.Fatalf("%s: %v %s", peer, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 5 {
		t.Fatalf("%s printed %d lines, want 5:\n%s", peer, len(lines), out)
	}
	return lines
}

// sendBackground runs flowrt send while the test reads what a container
// prints; it is stopped at the end (what it sent shows in what is read).
func sendBackground(t *testing.T, to string, args ...string) {
	t.Helper()
	c := exec.Command(flowrt, append([]string{"send", "-to", to}, args...)...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Signal(interrupt); c.Wait() })
}

// containerEngineRuns is the engine's part of TestContainerImage.
func containerEngineRuns(t *testing.T, p *podman) {
	vol := fmt.Sprintf("flowrt-test-%d", os.Getpid())
	if out, err := exec.Command("podman", "volume", "create", vol).CombinedOutput(); err != nil {
		t.Fatalf("podman volume create: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("podman", "volume", "rm", "-f", vol).Run() })
	dir := t.TempDir()
	script := filepath.Join(dir, "loggly.js")
	os.WriteFile(script, []byte("setFlow('loggly', {keys:'ipsource,ipdestination', value:'frames'});\n"), 0o644)
	hp, sp := freePort(t, "tcp"), freePort(t, "udp")
	ports := []string{"-p", fmt.Sprintf("127.0.0.1:%d:8008", hp), "-p", fmt.Sprintf("127.0.0.1:%d:6343/udp", sp)}

	// docker run -p 6343:6343/udp -p 8008:8008 -v $PWD/loggly.js:/loggly.js sflow/sflow-rt -Dscript.file=/loggly.js
	p.start(t, "flowrt-test-engine", append(ports, "-v", vol+":/sflow-rt", "-v", script+":/loggly.js:ro", p.image, "-Dscript.file=/loggly.js")...)
	e := containerEngine(t, "flowrt-test-engine", hp, sp)
	if code, body := e.do(t, "GET", "/version", ""); strings.TrimSpace(body) != releaseVersion {
		t.Errorf("/version: %d %q, want %s", code, body, releaseVersion)
	}
	if uid := containerUID(t, "flowrt-test-engine"); uid != "65532" {
		t.Errorf("the engine runs as uid %s in the container, want 65532 (flowrt)", uid)
	}
	r := send(t, e.sflow, "-count", "200", "-rate", "1000")
	if got, _ := e.received(t, r.Datagrams); got != float64(r.Datagrams) {
		t.Errorf("the container counted %v datagrams, %d were sent to the published port", got, r.Datagrams)
	}
	var flow struct{ Keys, Value string }
	e.get(t, "/flow/loggly/json", &flow)
	if flow.Keys != "ipsource,ipdestination" || flow.Value != "frames" {
		t.Errorf("the mounted script's flow is %+v", flow)
	}
	send(t, e.sflow, "-count", "50", "-rate", "500", "-mix", "tcp")
	var top []struct{ Key string }
	waitFor(t, 10*time.Second, "flows in the script's definition", func() bool {
		e.get(t, "/activeflows/ALL/loggly/json?maxFlows=5", &top)
		return len(top) > 0 && strings.Count(top[0].Key, ",") == 1
	})
	if code, body := e.do(t, "PUT", "/flow/pairs/json", "{keys:'ipsource,ipdestination', value:'bytes'}"); code/100 != 2 {
		t.Fatalf("PUT /flow/pairs/json: %d %s", code, body)
	}

	// docker restart of the same container: the definitions made over REST
	// (kept on the volume) and the script's are back, counters start anew.
	if out, err := exec.Command("podman", "restart", "-t", "10", "flowrt-test-engine").CombinedOutput(); err != nil {
		t.Fatalf("podman restart: %v %s", err, out)
	}
	pairsKept := func(after string) { // the REST definition, e the engine now
		var pairs struct{ Keys, Value string }
		e.get(t, "/flow/pairs/json", &pairs)
		if pairs.Keys != "ipsource,ipdestination" || pairs.Value != "bytes" {
			t.Errorf("after %s, pairs is %+v", after, pairs)
		}
	}
	e = containerEngine(t, "flowrt-test-engine", hp, sp)
	pairsKept("podman restart")
	e.get(t, "/flow/loggly/json", &flow)
	if flow.Keys != "ipsource,ipdestination" {
		t.Errorf("after podman restart, the mounted script's flow is %+v", flow)
	}
	if got, _ := e.received(t, 0); got != 0 {
		t.Errorf("after podman restart the engine counts %v datagrams: not a new process", got)
	}

	// A new container on the same volume, with sFlow-RT's RTPROP and its
	// relative path (the office365 article): the REST definition is back.
	if out, err := exec.Command("podman", "stop", "-t", "10", "flowrt-test-engine").CombinedOutput(); err != nil {
		t.Fatalf("podman stop: %v %s", err, out)
	}
	exec.Command("podman", "rm", "flowrt-test-engine").Run()
	office := filepath.Join(dir, "office365.js")
	os.WriteFile(office, []byte("setFlow('office', {keys:'ipdestination', value:'bytes'});\n"), 0o644)
	p.start(t, "flowrt-test-engine2", append(ports, "-v", vol+":/sflow-rt", "-v", office+":/sflow-rt/office365.js:ro",
		"-e", "RTPROP=-Dscript.file=office365.js", p.image)...)
	e = containerEngine(t, "flowrt-test-engine2", hp, sp)
	pairsKept("a new container on the volume")
	e.get(t, "/flow/office/json", &flow)
	if flow.Keys != "ipdestination" {
		t.Errorf("the RTPROP script's flow is %+v", flow)
	}
}

// containerAuth follows docs/security.md's container recipe: the users
// file in a directory mounted read-only, owned by the image's flowrt user
// and mode 0600, named in RTPROP; REST then wants alice's password.
func containerAuth(t *testing.T, p *podman) {
	dir := t.TempDir()
	c := exec.Command(flowrt, "passwd", "alice", "read-write")
	c.Stdin = strings.NewReader("s3cret\n")
	line, err := c.Output()
	if err != nil {
		t.Fatalf("flowrt passwd: %v", err)
	}
	auth := filepath.Join(dir, "auth")
	os.WriteFile(auth, line, 0o600)
	os.Chown(auth, 65532, -1)
	os.Chmod(dir, 0o755)
	hp := freePort(t, "tcp")
	p.start(t, "flowrt-test-auth", "-p", fmt.Sprintf("127.0.0.1:%d:8008", hp), "-v", dir+":/etc/flowrt:ro",
		"-e", "RTPROP=-Dhttp.auth.file=/etc/flowrt/auth", p.image)
	url := fmt.Sprintf("http://127.0.0.1:%d/analyzer/json", hp)
	var code int
	waitFor(t, 20*time.Second, "REST from the container", func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			code = resp.StatusCode
		}
		return err == nil
	})
	if code != 401 {
		t.Errorf("GET without a password: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("alice", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET as alice: %d, want 200", resp.StatusCode)
	}
}

// containerUID is the real uid of a container's first process.
func containerUID(t *testing.T, name string) string {
	t.Helper()
	pid := cmdOutput(t, "podman", "inspect", "-f", "{{.State.Pid}}", name)
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	return ""
}

// checkImage reads the image's configuration and files: the static binary
// and the few files it needs, the flowrt user, the ports, the OCI labels.
func checkImage(t *testing.T, tag string) {
	t.Helper()
	var info []struct {
		Size   int64
		Config struct {
			User, WorkingDir string
			Entrypoint       []string
			ExposedPorts     map[string]struct{}
			Labels           map[string]string
		}
	}
	if err := json.Unmarshal([]byte(cmdOutput(t, "podman", "image", "inspect", tag)), &info); err != nil || len(info) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	c := info[0].Config
	t.Logf("image %s: %.1f MB", tag, float64(info[0].Size)/1e6)
	if c.User != "65532:65532" || c.WorkingDir != "/sflow-rt" || !slices.Equal(c.Entrypoint, []string{"/flowrt"}) {
		t.Errorf("image config: user %q, workdir %q, entrypoint %q", c.User, c.WorkingDir, c.Entrypoint)
	}
	if _, udp := c.ExposedPorts["6343/udp"]; !udp || len(c.ExposedPorts) != 2 {
		t.Errorf("exposed ports %v, want 6343/udp and 8008/tcp", c.ExposedPorts)
	}
	for k, v := range map[string]string{"version": releaseVersion, "source": "https://github.com/flowrt/flowrt", "licenses": "NOASSERTION", "title": "flowrt"} {
		if got := c.Labels["org.opencontainers.image."+k]; got != v {
			t.Errorf("label org.opencontainers.image.%s = %q, want %q", k, got, v)
		}
	}
	// The binary is the one of the release, and nothing else is there.
	ctr := cmdOutput(t, "buildah", "from", tag)
	t.Cleanup(func() { exec.Command("buildah", "rm", ctr).Run() })
	root := cmdOutput(t, "buildah", "mount", ctr)
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != root {
			info, _ := d.Info()
			st := info.Sys().(*syscall.Stat_t)
			files = append(files, fmt.Sprintf("%s %o %d", strings.TrimPrefix(path, root), st.Mode&0o7777, st.Uid))
		}
		return nil
	})
	want := []string{"/etc 755 0", "/etc/group 644 0", "/etc/passwd 644 0", "/etc/ssl 755 0", "/etc/ssl/certs 755 0",
		"/etc/ssl/certs/ca-certificates.crt 644 0", "/flowrt 755 0", "/sflow-rt 755 65532", "/tmp 1777 0"}
	if !slices.Equal(files, want) {
		t.Errorf("image files %q\nwant %q", files, want)
	}
	inImage, _ := os.ReadFile(filepath.Join(root, "flowrt"))
	released, _ := os.ReadFile(built.bin)
	if len(inImage) == 0 || string(inImage) != string(released) {
		t.Errorf("/flowrt in the image (%d bytes) is not the release binary (%d bytes)", len(inImage), len(released))
	}
}
