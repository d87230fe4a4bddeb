package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A user's first hour, walked: the README's command lines and the seed
// articles' command lines run as printed, in two network namespaces of the
// test's own, so that UDP 6343 and TCP 8008 are the defaults the lines
// assume and the articles' two hosts (sFlow-RT on 10.0.0.1, sflowtool on a
// desktop at 10.0.0.30) exist. Each output is checked for what a user would
// look for, against real processes: the engine, flowrt decode, send and
// agent, tcpdump, tshark, curl, python3 and Chromium.
//
// Adaptations, the same for every line: the articles' hosts become
// 198.18.0.1 and 198.18.0.30 (RFC 2544 test addresses, inside the test's
// namespaces), the Docker images become the flowrt subcommands the README
// names (sflow/sflowtool → flowrt decode, sflow/tcpdump → flowrt decode -t |
// tcpdump -r -, sflow/tshark → flowrt decode -t | tshark -r -), sudo is
// dropped (the test is root), capture.pcap is a shared capture, and a
// command that runs until Ctrl-C gets one.

// walkSite is the two namespaces: "host" runs the engine and the agents,
// "desktop" the collector the articles forward to.
type walkSite struct {
	t             *testing.T
	host, desktop string
	bin           string // flowrt's directory, first on PATH
	readme        map[string]bool
	walked        map[string]bool
}

const (
	walkHostIP    = "198.18.0.1"
	walkDesktopIP = "198.18.0.30"
)

func newWalkSite(t *testing.T) *walkSite {
	t.Helper()
	need(t, "ip", "curl", "sh")
	if os.Geteuid() != 0 {
		t.Skip("walks the command lines in network namespaces of its own: needs root")
	}
	s := &walkSite{t: t, host: fmt.Sprintf("frtwalkh%d", os.Getpid()%10000),
		desktop: fmt.Sprintf("frtwalkd%d", os.Getpid()%10000), bin: filepath.Dir(flowrt),
		readme: readmeCommands(t), walked: map[string]bool{}}
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	for _, ns := range []string{s.host, s.desktop} {
		exec.Command("ip", "netns", "del", ns).Run()
		sh("ip", "netns", "add", ns)
		sh("ip", "-n", ns, "link", "set", "lo", "up")
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", s.host).Run()
		exec.Command("ip", "netns", "del", s.desktop).Run()
	})
	sh("ip", "-n", s.host, "link", "add", "walk0", "type", "veth", "peer", "name", "walk1", "netns", s.desktop)
	sh("ip", "-n", s.host, "addr", "add", walkHostIP+"/24", "dev", "walk0")
	sh("ip", "-n", s.desktop, "addr", "add", walkDesktopIP+"/24", "dev", "walk1")
	sh("ip", "-n", s.host, "link", "set", "walk0", "up")
	sh("ip", "-n", s.desktop, "link", "set", "walk1", "up")
	return s
}

// readmeCommands returns every command line of the README's sh blocks, with
// its trailing comment and line continuations folded.
func readmeCommands(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[string]bool{}
	in, cont := false, ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		}
		if !in {
			continue
		}
		line = stripComment(line)
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSpace(strings.TrimSuffix(line, "\\")) + " "
			continue
		}
		if line = strings.TrimSpace(cont + strings.TrimSpace(line)); line != "" {
			cmds[line] = true
		}
		cont = ""
	}
	return cmds
}

// stripComment drops a shell comment: a # after a blank, outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' '):
			return strings.TrimRight(line[:i], " ")
		}
	}
	return strings.TrimRight(line, " ")
}

// fromReadme marks a README line walked and returns it; a line the README
// no longer prints fails the walk, so the two cannot drift apart.
func (s *walkSite) fromReadme(line string) string {
	s.t.Helper()
	if !s.readme[line] {
		s.t.Fatalf("the walk runs %q, which the README does not print (any more)", line)
	}
	s.walked[line] = true
	return line
}

// fromSeed checks that a seed article prints the line and returns it.
func (s *walkSite) fromSeed(file, line string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join("../../../shared/seeds", file))
	if err != nil {
		s.t.Skipf("seed articles not found beside the repository: %v", err)
	}
	if !bytes.Contains(b, []byte(line)) {
		s.t.Fatalf("seed %s does not print %q", file, line)
	}
	return line
}

// walkProc is a command line running in one of the namespaces.
type walkProc struct {
	line     string
	cmd      *exec.Cmd
	mu       sync.Mutex
	out, err bytes.Buffer
	done     chan struct{}
}

func (p *walkProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

type walkErr struct{ p *walkProc }

func (w walkErr) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.err.Write(b)
}

func (p *walkProc) stdout() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }
func (p *walkProc) stderr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.err.String() }

// start runs line with sh in namespace ns, in directory dir ("" for a
// temporary one), flowrt first on PATH.
func (s *walkSite) start(ns, dir, line string, env ...string) *walkProc {
	s.t.Helper()
	if dir == "" {
		dir = s.t.TempDir()
	}
	p := &walkProc{line: line, done: make(chan struct{})}
	p.cmd = exec.Command("ip", "netns", "exec", ns, "sh", "-c", line)
	p.cmd.Dir = dir
	p.cmd.Env = append(append(os.Environ(), "PATH="+s.bin+":"+os.Getenv("PATH"), "TZ=UTC"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, walkErr{p}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("%s: %v", line, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	s.t.Cleanup(p.stop)
	return p
}

// stop sends the process group Ctrl-C, as a user at the terminal would,
// and kills it if it has not gone in 5 s.
func (p *walkProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// exited waits up to d for the command to end by itself.
func (p *walkProc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// until waits up to d for cond on the output so far and returns it.
func (p *walkProc) until(t *testing.T, d time.Duration, what string, cond func(out string) bool) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out := p.stdout()
		if cond(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s in %v; stdout:\n%.3000s\nstderr:\n%.2000s", p.line, what, d, out, p.stderr())
		}
		select {
		case <-p.done:
			if out := p.stdout(); cond(out) {
				return out
			}
			t.Fatalf("%s: ended (%v) before %s; stdout:\n%.3000s\nstderr:\n%.2000s", p.line, p.cmd.ProcessState, what, p.stdout(), p.stderr())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run runs line to its end (at most d) and returns its standard output; it
// must succeed.
func (s *walkSite) run(ns, dir, line string, d time.Duration, env ...string) string {
	s.t.Helper()
	out, err := s.try(ns, dir, line, d, env...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// try runs line to its end (at most d) and returns its standard output, or
// an error saying how it ended.
func (s *walkSite) try(ns, dir, line string, d time.Duration, env ...string) (string, error) {
	s.t.Helper()
	p := s.start(ns, dir, line, env...)
	if !p.exited(d) {
		p.stop()
		return p.stdout(), fmt.Errorf("%s: still running after %v; stdout:\n%.2000s\nstderr:\n%.2000s", line, d, p.stdout(), p.stderr())
	}
	if !p.cmd.ProcessState.Success() {
		return p.stdout(), fmt.Errorf("%s: %v; stdout:\n%.2000s\nstderr:\n%.2000s", line, p.cmd.ProcessState, p.stdout(), p.stderr())
	}
	return p.stdout(), nil
}

// engine starts an engine line in the host namespace and waits until its
// REST API answers.
func (s *walkSite) engine(line string, env ...string) *walkProc {
	s.t.Helper()
	return s.engineIn("", line, env...)
}

// engineIn starts an engine line in directory dir ("": a new one).
func (s *walkSite) engineIn(dir, line string, env ...string) *walkProc {
	s.t.Helper()
	p := s.start(s.host, dir, line, env...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if out, err := exec.Command("ip", "netns", "exec", s.host, "curl", "-sf", "http://localhost:8008/analyzer/json").Output(); err == nil && len(out) > 0 {
			return p
		}
		if time.Now().After(deadline) || p.exited(0) {
			p.stop()
			s.t.Fatalf("%s: the REST API did not answer on localhost:8008; stderr:\n%s", line, p.stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// curl runs a curl line in the host namespace and returns the status and
// body (curl's -w adds the status on a last line, so that a 4xx is seen);
// status 0 when nothing answered.
func (s *walkSite) curl(line string) (int, string) {
	s.t.Helper()
	out, err := s.try(s.host, "", line+` -s -w '\n%{http_code}'`, 90*time.Second)
	if err != nil {
		return 0, err.Error()
	}
	i := strings.LastIndexByte(strings.TrimRight(out, "\n"), '\n')
	var code int
	fmt.Sscan(out[i+1:], &code)
	return code, out[:max(i, 0)]
}

// curlJSON runs a curl line that must answer 200 with JSON, decoded into v.
func (s *walkSite) curlJSON(line string, v any) string {
	s.t.Helper()
	code, body := s.curl(line)
	if code != 200 {
		s.t.Fatalf("%s: %d %s", line, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		s.t.Fatalf("%s: not JSON (%v): %.500s", line, err, body)
	}
	return body
}

// feed sends synthetic sFlow to the host namespace's 127.0.0.1:6343 until
// the step ends: agents with interface counters every second (and host
// counters with hosts).
func (s *walkSite) feed(t *testing.T, hosts bool, extra ...string) *walkProc {
	t.Helper()
	line := "flowrt send -rate 100 -duration 10m -counters 1s -mix tcp,udp,dns,unreachable,syn " + strings.Join(extra, " ")
	if hosts {
		line += " -hosts"
	}
	p := s.start(s.host, "", line)
	t.Cleanup(p.stop)
	return p
}

// near reports whether the times in s are all within d of now.
var isoTime = regexp.MustCompile(`\b(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[+-]\d{4}|Z)`)

func timesNear(t *testing.T, what, out string, d time.Duration) {
	t.Helper()
	found := isoTime.FindAllStringSubmatch(out, -1)
	if len(found) == 0 {
		t.Fatalf("%s: no time printed in %.500s", what, out)
	}
	for _, m := range found {
		at, err := time.Parse("2006-01-02T15:04:05", m[1])
		if err != nil {
			t.Fatalf("%s: %q: %v", what, m[0], err)
		}
		if off := time.Since(at); off > d+time.Second || off < -d {
			t.Fatalf("%s: printed time %s is %v from now (want within %v)", what, m[0], off.Round(time.Second), d)
		}
	}
}

// notWalked names the README lines this walk does not run, and why; every
// other README command line must be walked.
var notWalked = map[string]string{
	"bash scripts/test": "the walk is part of it",
	"sudo flowrt agent": "reads the machine's /etc/hsflowd.conf; the agent's own tests run it with test files, and the walk runs the environment form below",
}

func TestUserWalk(t *testing.T) {
	need(t, "tcpdump", "tshark", "python3", "chromium")
	s := newWalkSite(t)
	// The steps run one after another; each is the site's test while it
	// runs, so that a failure is reported where it happened.
	for _, step := range []struct {
		name string
		walk func(*testing.T)
	}{{"front door", s.walkFrontDoor}, {"engine", s.walkEngine}, {"replay", s.walkReplay},
		{"decode", s.walkDecode}, {"agent", s.walkAgent}, {"apps", s.walkApps}} {
		t.Run(step.name, func(t *testing.T) { s.t = t; step.walk(t) })
	}
	s.t = t

	for line := range s.readme {
		if !s.walked[line] {
			if why, ok := notWalked[line]; !ok || why == "" {
				t.Errorf("README prints %q, which the walk does not run: add a step to walk_test.go", line)
			}
		}
	}
}

// walkFrontDoor: the README's run and install commands on the machine as
// it is (the libraries scripts/test fetched are there; the namespace has no
// network, so nothing more can be fetched).
func (s *walkSite) walkFrontDoor(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	bindir := t.TempDir()
	out := s.run(s.host, repo, s.fromReadme("bash scripts/install"), 5*time.Minute, "BINDIR="+bindir)
	if !strings.Contains(out, "installed "+bindir+"/flowrt") {
		t.Fatalf("scripts/install did not say where flowrt went: %s", out)
	}
	if v, err := exec.Command(filepath.Join(bindir, "flowrt"), "version").Output(); err != nil || !strings.HasPrefix(string(v), "flowrt ") {
		t.Fatalf("installed flowrt version: %q %v", v, err)
	}

	p := s.start(s.host, repo, s.fromReadme("bash scripts/run"))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body := s.curl("curl http://localhost:8008/status")
		if code == 200 && strings.TrimSpace(body) == "OK" {
			break
		}
		if time.Now().After(deadline) || p.exited(0) {
			t.Fatalf("bash scripts/run: the engine did not answer /status on 8008 (%d %s); stderr:\n%s", code, body, p.stderr())
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.stop()
}

// walkEngine: the engine section of the README and the seeds' REST calls.
func (s *walkSite) walkEngine(t *testing.T) {
	e := s.engine(s.fromReadme("flowrt"))
	s.feed(t, true)

	code, body := s.curl(s.fromReadme(`curl -H "Content-Type:application/json" -X PUT --data "{keys:'icmpunreachableport', value:'frames', t:20}" http://localhost:8008/flow/uports/json`))
	if code/100 != 2 {
		t.Fatalf("defining uports: %d %s", code, body)
	}
	s.fromSeed("000_b8194f08cfb9eb1f.txt", `curl -H "Content-Type:application/json" -X PUT --data "{keys:'icmpunreachableport', value:'frames', t:20}" http://localhost:8008/flow/uports/json`)
	code, body = s.curl(s.fromSeed("001_1b12425c94ff4ff7.txt", `curl -H "Content-Type:application/json" -X PUT --data "{keys:'dnsqtypename', value:'frames', filter:'dnsqr=false',t:20}" http://localhost:8008/flow/dnsqueries/json`))
	if code/100 != 2 {
		t.Fatalf("defining dnsqueries: %d %s", code, body)
	}

	var top []struct {
		Key   string
		Value float64
		Agent string
	}
	topLine := s.fromReadme(`curl "http://localhost:8008/activeflows/ALL/uports/json?maxFlows=20&aggMode=sum"`)
	deadline := time.Now().Add(15 * time.Second)
	for len(top) == 0 && time.Now().Before(deadline) {
		s.curlJSON(topLine, &top)
		time.Sleep(250 * time.Millisecond)
	}
	if len(top) == 0 || len(top) > 20 {
		t.Fatalf("%s: %d flows", topLine, len(top))
	}
	for _, f := range top {
		if !strings.HasPrefix(f.Key, "udp_") || f.Value <= 0 {
			t.Fatalf("%s: flow %+v is not an unreachable UDP port with a rate", topLine, f)
		}
	}
	// The same URL with html, as two articles print it: a table with the
	// same keys.
	code, body = s.curl(`curl "http://localhost:8008/activeflows/ALL/uports/html?maxFlows=20&aggMode=sum"`)
	if code != 200 || !strings.Contains(body, "<table") || !strings.Contains(body, top[0].Key) {
		t.Fatalf("activeflows html: %d, want a table holding %s:\n%.1000s", code, top[0].Key, body)
	}

	var dns []struct{ Key string }
	deadline = time.Now().Add(10 * time.Second)
	for len(dns) == 0 && time.Now().Before(deadline) {
		s.curlJSON(`curl "http://localhost:8008/activeflows/ALL/dnsqueries/json"`, &dns)
		time.Sleep(250 * time.Millisecond)
	}
	if len(dns) == 0 || !regexp.MustCompile(`^[A-Z]+\(\d+\)$`).MatchString(dns[0].Key) {
		t.Fatalf("dnsqueries: %+v, want query types such as A(1)", dns)
	}

	var m []map[string]any
	metricLine := s.fromReadme("curl http://localhost:8008/metric/ALL/sum:ifinerrors,sum:ifindiscards,max:ifinerrors/json")
	deadline = time.Now().Add(10 * time.Second)
	for s.curlJSON(metricLine, &m); (len(m) == 0 || m[0]["metricN"] == 0.0) && time.Now().Before(deadline); s.curlJSON(metricLine, &m) {
		time.Sleep(250 * time.Millisecond) // the feed's first counters come a second in
	}
	if len(m) != 3 || m[0]["metricName"] != "sum:ifinerrors" {
		t.Fatalf("metric: %v", m)
	}
	if _, ok := m[0]["metricValue"].(float64); !ok {
		t.Fatalf("metric sum:ifinerrors has no value: %v", m)
	}
	seedMetric := s.fromSeed("001_1b12425c94ff4ff7.txt", "curl http://10.0.0.162:8008/metric/ALL/sum:ifinerrors,sum:ifindiscards,sum:ifouterrors,sum:ifoutdiscards,max:ifinerrors,max:ifindiscards,max:ifouterrors,max:ifoutdiscards/json")
	s.curlJSON(strings.Replace(seedMetric, "10.0.0.162", walkHostIP, 1), &m)
	if len(m) != 8 {
		t.Fatalf("%s: %d metrics, want 8", seedMetric, len(m))
	}

	// The flow log: records of a log:true definition, long-polled.
	if code, body := s.curl(s.fromReadme(`curl -X PUT --data "{keys:'ipsource,ipdestination', value:'bytes', log:true, activeTimeout:1}" http://localhost:8008/flow/pairs/json`)); code/100 != 2 {
		t.Fatalf("defining pairs: %d %s", code, body)
	}
	var flows []struct {
		FlowID   int
		Name     string
		FlowKeys string
		Value    float64
	}
	s.curlJSON(s.fromReadme(`curl "http://localhost:8008/flows/json?flowID=-1&maxFlows=100&timeout=60"`), &flows)
	if len(flows) == 0 || flows[0].Name != "pairs" || !strings.Contains(flows[0].FlowKeys, ",") || flows[0].Value <= 0 {
		t.Fatalf("flow log: %+v", flows)
	}

	if code, body := s.curl(s.fromReadme(`curl -X PUT --data "{metric:'uports', value:100, byFlow:true, timeout:5}" http://localhost:8008/threshold/uports/json`)); code/100 != 2 {
		t.Fatalf("threshold: %d %s", code, body)
	}
	var events []struct {
		EventID     int
		ThresholdID string
		FlowKey     string
		Value       float64
	}
	s.curlJSON(s.fromReadme(`curl "http://localhost:8008/events/json?eventID=-1&timeout=60"`), &events)
	if len(events) == 0 || events[0].ThresholdID != "uports" || events[0].Value <= 100 {
		t.Fatalf("events: %+v", events)
	}

	if code, body := s.curl(s.fromReadme(`curl -X PUT --data "{external:['0.0.0.0/0'], private:['10.0.0.0/8']}" http://localhost:8008/group/json`)); code/100 != 2 {
		t.Fatalf("group: %d %s", code, body)
	}

	// Forwarding, as the sflowtool article does it: sflowtool on the
	// desktop, a session from the engine to it.
	desk := s.start(s.desktop, "", "flowrt decode -l")
	fwd := s.fromReadme(`curl -H "Content-Type:application/json" -X PUT --data '{"address":"10.0.0.30"}' http://localhost:8008/forwarding/tcpdump/json`)
	if code, body := s.curl(strings.Replace(fwd, "10.0.0.30", walkDesktopIP, 1)); code/100 != 2 {
		t.Fatalf("forwarding: %d %s", code, body)
	}
	desk.until(t, 10*time.Second, "forwarded CNTR lines", func(out string) bool { return strings.Contains(out, "CNTR,") })
	// The same session aimed at the engine itself is refused, saying why.
	if code, body := s.curl(strings.Replace(fwd, "10.0.0.30", "127.0.0.1", 1)); code != 400 {
		t.Fatalf("forwarding to the engine's own socket: %d %s, want 400", code, body)
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "curl -X DELETE http://10.0.0.1:8008/forwarding/tcpdump/json")
	if code, body := s.curl("curl -X DELETE http://" + walkHostIP + ":8008/forwarding/tcpdump/json"); code/100 != 2 {
		t.Fatalf("forwarding delete: %d %s", code, body)
	}

	// Prometheus, as the README's web section says.
	code, body = s.curl("curl http://localhost:8008/prometheus/metrics/ALL/ifinoctets,ifoutoctets,load_one/txt")
	if code != 200 || !strings.Contains(body, "sflow_ifinoctets{") || !strings.Contains(body, "sflow_load_one{") {
		t.Fatalf("prometheus: %d %.1000s", code, body)
	}

	// The load generator, for 3 s instead of 30: every datagram it sent
	// was received or counted as dropped by the kernel, to the datagram.
	var before, after map[string]any
	s.curlJSON("curl http://localhost:8008/analyzer/json", &before)
	sendLine := s.fromReadme("flowrt send -rate 100000 -duration 30s")
	var rep sendReport
	if err := json.Unmarshal([]byte(s.run(s.host, "", strings.Replace(sendLine, "30s", "3s", 1), time.Minute)), &rep); err != nil || rep.Datagrams == 0 {
		t.Fatalf("%s: report %+v, %v", sendLine, rep, err)
	}
	time.Sleep(time.Second)
	s.curlJSON("curl http://localhost:8008/analyzer/json", &after)
	delta := func(k string) float64 { a, _ := after[k].(float64); b, _ := before[k].(float64); return a - b }
	got, dropped := delta("sFlowDatagramsReceived"), delta("sFlowKernelDrops")
	// The feed keeps sending 100/s meanwhile: allow for its datagrams.
	if lost := float64(rep.Datagrams) - got - dropped; lost > 0 || -lost > 500 {
		t.Fatalf("flowrt send sent %d datagrams at %.0f/s; the engine received %.0f and counted %.0f kernel drops",
			rep.Datagrams, float64(rep.Datagrams)/rep.Seconds, got, dropped)
	}
	t.Logf("flowrt send: %d datagrams at %.0f/s; received %.0f, kernel drops %.0f", rep.Datagrams, float64(rep.Datagrams)/rep.Seconds, got, dropped)

	// The web interface: the status page in Chromium lists the agents the
	// API lists.
	var agents map[string]any
	s.curlJSON("curl http://localhost:8008/agents/json", &agents)
	dom := s.run(s.host, "", "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "+
		"--disable-background-networking --disable-component-update --disable-sync --user-data-dir="+t.TempDir()+
		" --virtual-time-budget=5000 --dump-dom http://localhost:8008/", 60*time.Second)
	for a := range agents {
		if !strings.Contains(dom, a) {
			t.Fatalf("the status page does not list agent %s of /agents/json:\n%.3000s", a, dom)
		}
	}
	e.stop()
}

// walkReplay: a capture replayed as fast as possible leaves the engine in
// the state it describes.
func (s *walkSite) walkReplay(t *testing.T) {
	capture := filepathShared(t, "tcpdump_sflow-print-v6.pcap")
	dir := t.TempDir()
	s.run(s.host, dir, s.fromReadme(`echo "setFlow('pairs', {keys:'ipsource,ipdestination', value:'bytes'});" > flows.js`), 5*time.Second)
	line := s.fromReadme("flowrt -Dsflow.file=capture.pcap -Dsflow.file.realtime=no -Dscript.file=flows.js")
	e := s.engineIn(dir, strings.Replace(line, "capture.pcap", capture, 1))
	// The flows the capture holds, by the capture's clock, after the
	// replay: the same pairs flowrt decode finds in it.
	want := map[string]bool{}
	for _, l := range nonEmpty(s.run(s.host, "", "flowrt decode -r "+capture+" -l", 10*time.Second)) {
		if f := strings.Split(l, ","); f[0] == "FLOW" && len(f) > 10 && f[9] != "" && f[10] != "" {
			want[f[9]+","+f[10]] = true
		}
	}
	var top []struct {
		Key   string
		Value float64
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(top) == 0 && time.Now().Before(deadline) {
		s.curlJSON(`curl "http://localhost:8008/activeflows/ALL/pairs/json?maxFlows=100"`, &top)
		time.Sleep(200 * time.Millisecond)
	}
	if len(top) == 0 {
		t.Fatalf("after a fast replay of %s, /activeflows/ALL/pairs/json is empty", capture)
	}
	for _, f := range top {
		if !want[f.Key] || f.Value <= 0 {
			t.Fatalf("after the replay, flow %+v: not a pair of the capture (%d pairs) with a rate", f, len(want))
		}
	}
	var m []map[string]any
	s.curlJSON("curl http://localhost:8008/metric/ALL/sum:ifinoctets/json", &m)
	if len(m) != 1 || m[0]["metricValue"] == nil {
		t.Fatalf("after the replay, sum:ifinoctets: %v", m)
	}
	e.stop()
}

func filepathShared(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("../../../shared/testdata/sflow", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared capture %s not found beside the repository", name)
	}
	return p
}

// walkDecode: the flowrt decode lines of the README and the sflowtool,
// sflow/tcpdump and sflow/tshark articles, on live sFlow.
func (s *walkSite) walkDecode(t *testing.T) {
	s.feed(t, true)
	examples, _ := filepath.Abs("../../examples/sflow-to-json")

	live := func(line, what string, cond func(string) bool) string {
		t.Helper()
		p := s.start(s.host, "", line)
		out := p.until(t, 15*time.Second, what, cond)
		p.stop()
		// Only whole lines: a pipe's reader (grep) may have written part of one.
		out = out[:strings.LastIndexByte(out, '\n')+1]
		if strings.Contains(out, "pcapTimestamp") {
			t.Errorf("%s: live output carries pcapTimestamp", line)
		}
		return out
	}

	text := live(s.fromReadme("flowrt decode"), "a whole datagram", func(o string) bool { return strings.Contains(o, "endDatagram") })
	if !strings.Contains(text, "startDatagram") || !strings.Contains(text, "unixSecondsUTC") {
		t.Fatalf("flowrt decode text: %.1000s", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "unixSecondsUTC ") {
			var sec int64
			fmt.Sscan(strings.TrimPrefix(l, "unixSecondsUTC "), &sec)
			if d := time.Since(time.Unix(sec, 0)); d > 3*time.Second || d < -time.Second {
				t.Fatalf("flowrt decode: %s is %v from now", l, d)
			}
		}
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "docker run -p 6343:6343/udp sflow/sflowtool -g | grep ifInOctets")
	g := live(s.fromReadme("flowrt decode -g | grep ifInOctets"), "ifInOctets lines", func(o string) bool { return strings.Count(o, "\n") >= 3 })
	timesNear(t, "flowrt decode -g", g, 2*time.Second)
	for _, l := range nonEmpty(g) {
		if !strings.Contains(l, " ifInOctets ") {
			t.Fatalf("-g | grep ifInOctets: %q", l)
		}
	}
	csv := live(s.fromReadme("flowrt decode -L agent,ifIndex,ifInOctets"), "CSV lines", func(o string) bool { return strings.Count(o, "\n") >= 3 })
	for _, l := range nonEmpty(csv) {
		if f := strings.Split(l, ","); len(f) != 3 {
			t.Fatalf("-L agent,ifIndex,ifInOctets: %q", l)
		}
	}
	live(s.fromReadme("flowrt decode -l"), "FLOW and CNTR lines", func(o string) bool {
		return strings.Contains(o, "\nFLOW,") && strings.Contains(o, "\nCNTR,")
	})
	pretty := live(s.fromReadme("flowrt decode -J"), "a JSON datagram", func(o string) bool { return strings.Contains(o, "\n}") })
	dec := json.NewDecoder(strings.NewReader(pretty[:strings.Index(pretty, "\n}")+2]))
	var datagram map[string]any
	if err := dec.Decode(&datagram); err != nil || datagram["datagramSourceIP"] == nil {
		t.Fatalf("-J: %v %v", err, datagram)
	}

	// The destination seen most on the wire is the "compromised" one: the
	// feed's flows are many, so one seen once may not come back within the
	// scripts' wait on a busy machine; the commonest comes back at once.
	j := live("flowrt decode -j", "100 JSON lines with flow samples", func(o string) bool { return strings.Count(o, `"dstIP"`) >= 100 })
	seen := map[string]int{}
	dst := ""
	for _, m := range regexp.MustCompile(`"dstIP":"([0-9.]+)"`).FindAllStringSubmatch(j, -1) {
		if seen[m[1]]++; seen[m[1]] > seen[dst] {
			dst = m[1]
		}
	}
	// The list is served from the host namespace, where the scripts run.
	listDir := t.TempDir()
	os.WriteFile(filepath.Join(listDir, "compromised-ips.txt"), []byte("# compromised\n"+dst+"\n"), 0o644)
	srv := s.start(s.host, listDir, "python3 -u -m http.server 8099 --bind 127.0.0.1")
	defer srv.stop()
	srv.until(t, 10*time.Second, "the list being served", func(o string) bool { return strings.Contains(o, "Serving HTTP") })
	blacklist := "BLACKLIST_URL=http://127.0.0.1:8099/compromised-ips.txt"
	s.fromSeed("003_ba2cff24984cdc6a.txt", "docker run -p 6343:6343/udp sflow/sflowtool -j | ./emerging.py")
	p := s.start(s.host, examples, s.fromReadme("flowrt decode -j | ./emerging.py"), blacklist)
	out := p.until(t, 20*time.Second, "a flow to "+dst, func(o string) bool { return strings.Contains(o, " "+dst) })
	p.stop()
	timesNear(t, "emerging.py", out, 3*time.Second)
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp -p 8008:8008 sflow/tshark -T ek | ./tshark.py")
	p = s.start(s.host, examples, s.fromReadme("flowrt decode -t | tshark -r - -T ek | ./tshark.py"), blacklist)
	p.until(t, 20*time.Second, "a packet to "+dst, func(o string) bool { return strings.Contains(o, " "+dst) })
	p.stop()

	// tcpdump: the sflow/tcpdump lines.
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp -p 8008:8008 sflow/tcpdump -vv port 53")
	dnsOut := live(s.fromReadme("flowrt decode -t | tcpdump -r - -vv port 53"), "DNS packets", func(o string) bool { return strings.Count(o, ".53") >= 2 })
	if strings.Contains(dnsOut, "Error converting time") {
		t.Fatalf("tcpdump: %s", dnsOut)
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp sflow/tcpdump 'tcp[tcpflags] == tcp-syn'")
	syn := live(s.fromReadme("flowrt decode -t | tcpdump -r - 'tcp[tcpflags] == tcp-syn'"), "SYN packets", func(o string) bool { return strings.Count(o, "\n") >= 2 })
	for _, l := range nonEmpty(syn) {
		if !strings.Contains(l, "Flags [S]") {
			t.Fatalf("tcp-syn filter printed %q", l)
		}
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -v $PWD:/pcap -p 6343:6343/udp sflow/tcpdump -w /pcap/packets.pcap -c 10")
	dir := t.TempDir()
	p = s.start(s.host, dir, s.fromReadme("flowrt decode -t | tcpdump -r - -w packets.pcap -c 10"))
	if !p.exited(20 * time.Second) {
		p.stop()
		t.Fatalf("-t | tcpdump -w packets.pcap -c 10 did not end by itself; stderr: %s", p.stderr())
	}
	saved := s.run(s.host, dir, "tcpdump -tttt -n -r packets.pcap", 10*time.Second)
	if n := len(nonEmpty(saved)); n != 10 {
		t.Fatalf("packets.pcap holds %d packets, want 10", n)
	}
	if len(regexp.MustCompile(`(?m)^`+time.Now().UTC().Format("2006-01-02")).FindAllString(saved, -1)) != 10 {
		t.Fatalf("packets.pcap's packets are not dated today:\n%s", saved)
	}

	// tshark: the sflow/tshark lines.
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp -p 8008:8008 sflow/tshark -q -z io,phs -c 100")
	p = s.start(s.host, "", s.fromReadme("flowrt decode -t | tshark -r - -q -z io,phs -c 100"))
	if !p.exited(30 * time.Second) {
		p.stop()
		t.Fatalf("-t | tshark -q -z io,phs -c 100 did not end by itself; stderr: %s", p.stderr())
	}
	if phs := p.stdout(); !strings.Contains(phs, "Protocol Hierarchy Statistics") || !strings.Contains(phs, "frames:100") {
		t.Fatalf("tshark io,phs: %s", phs)
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp -p 8008:8008 sflow/tshark -T fields -e ip.src -e ip.dst -e ip.proto -e ip.len")
	p = s.start(s.host, "", "flowrt decode -t | tshark -r - -T fields -e frame.time_epoch -e ip.src -e ip.dst -e ip.proto -e ip.len -c 20")
	if !p.exited(30 * time.Second) {
		p.stop()
		t.Fatalf("tshark -T fields -c 20 did not end")
	}
	for _, l := range nonEmpty(p.stdout()) {
		f := strings.Split(l, "\t")
		var sec float64
		fmt.Sscan(f[0], &sec)
		if d := time.Since(time.Unix(int64(sec), 0)); d > 3*time.Second || d < -time.Second {
			t.Fatalf("tshark frame time %s is %v from now", f[0], d)
		}
	}
	s.fromSeed("003_ba2cff24984cdc6a.txt", "$ docker run -p 6343:6343/udp -p 8008:8008 sflow/tshark -Y 'dns'")
	p = s.start(s.host, "", "flowrt decode -t | tshark -r - -Y 'dns' -c 200")
	if !p.exited(30*time.Second) || !strings.Contains(p.stdout(), "DNS") {
		p.stop()
		t.Fatalf("tshark -Y dns: %s %s", p.stdout(), p.stderr())
	}

	// Capture input and other ports.
	golden := filepathShared(t, "gopacket_SFlowTestPacket1.pcap")
	want, err := os.ReadFile(filepath.Join(filepath.Dir(golden), "sflowtool-6.11", "gopacket_SFlowTestPacket1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := s.run(s.host, filepath.Dir(golden), strings.Replace(s.fromReadme("flowrt decode -r capture.pcap"), "capture.pcap", filepath.Base(golden), 1), 10*time.Second)
	if got != string(want) {
		t.Fatalf("flowrt decode -r differs from sflowtool 6.11's output of the same capture")
	}
	s.fromSeed("000_b8194f08cfb9eb1f.txt", "sflowtool -p 7343")
	p = s.start(s.host, "", s.fromReadme("flowrt decode -p 6344"))
	s.start(s.host, "", "flowrt send -to 127.0.0.1:6344 -rate 50 -duration 5s")
	p.until(t, 10*time.Second, "a datagram on 6344", func(o string) bool { return strings.Contains(o, "endDatagram") })
	p.stop()
	p = s.start(s.host, "", "flowrt decode -listen 127.0.0.1:6343") // the -p line's comment
	p.until(t, 10*time.Second, "a datagram on 127.0.0.1:6343", func(o string) bool { return strings.Contains(o, "endDatagram") })
	p.stop()
}

// walkAgent: the Host sFlow agent in the environment form of the
// sflow/host-sflow image, into the engine.
func (s *walkSite) walkAgent(t *testing.T) {
	e := s.engine("flowrt")
	a := s.start(s.host, "", strings.TrimPrefix(s.fromReadme("sudo COLLECTOR=127.0.0.1 NET=host flowrt agent"), "sudo "))
	var m []map[string]any
	line := s.fromReadme("curl http://localhost:8008/metric/ALL/max:load_one,max:mem_utilization/json")
	deadline := time.Now().Add(40 * time.Second)
	for {
		s.curlJSON(line, &m)
		if len(m) == 2 && m[0]["metricValue"] != nil && m[1]["metricValue"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v; agent stderr:\n%s", line, m, a.stderr())
		}
		time.Sleep(500 * time.Millisecond)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	var one float64
	fmt.Sscan(string(load), &one)
	if got := m[0]["metricValue"].(float64); got < one-1 || got > one+1 {
		t.Fatalf("max:load_one %v, /proc/loadavg says %v", got, one)
	}
	if u := m[1]["metricValue"].(float64); u <= 0 || u >= 100 {
		t.Fatalf("max:mem_utilization %v", u)
	}
	code, body := s.curl(s.fromReadme(`curl -X PUT --data "{keys:'host:macsource:host_name,ipdestination', value:'bytes'}" http://localhost:8008/flow/containers/json`))
	if code/100 != 2 {
		t.Fatalf("containers flow: %d %s", code, body)
	}
	a.stop()
	e.stop()
}
