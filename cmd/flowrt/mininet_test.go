package main_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mininetLab is a Mininet network started as the articles start it (`mn
// …` as root, driven through its CLI on standard input) on an Open vSwitch
// of the test's own: ovsdb-server and ovs-vswitchd run from a temporary
// directory named by OVS_RUNDIR, which mn and every ovs-vsctl/ovs-ofctl it
// runs inherit, so a system Open vSwitch (if any) is not touched. Switches
// use the userspace datapath (this kernel has no OVS module). The test's
// cleanup stops the network the way `mn -c` would, but only what this lab
// started: its mn, the host shells and programs it ran in them, its switch
// interfaces and its OVS daemons.
type mininetLab struct {
	t     *testing.T
	env   []string
	mn    *exec.Cmd
	done  chan struct{} // closed when mn has exited
	stdin io.WriteCloser
	out   *lockedBuf
	hosts map[string]int // host name → pid of its shell (namespace holder)
	seq   int

	mu    sync.Mutex
	procs []*exec.Cmd // programs run in hosts
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// extrasFile is a file of the repository's extras/ directory.
func extrasFile(name string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "extras", name)
}

// needRoot skips a test that must create namespaces and switches.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for Mininet (network namespaces, Open vSwitch)")
	}
	need(t, "unshare")
	if out, err := exec.Command("unshare", "--net", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here (Mininet's hosts are ones): %v %s", err, out)
	}
}

// needOsKen checks that os-ken imports under Debian's python3 (not a
// pyenv python3 earlier on PATH).
func needOsKen(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import os_ken.base.app_manager").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("os-ken does not import under /usr/bin/python3 (package python3-os-ken): %v %s", err, out)
		if os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
			t.Fatal(msg + "; .ci/run installs it")
		}
		t.Skip(msg)
	}
	need(t, "osken-manager")
}

// needTCPPort skips when a fixed port an article's script uses is taken.
func needTCPPort(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("the article's script uses 127.0.0.1:%d, which is taken: %v", port, err)
	}
	ln.Close()
}

var switchIntf = regexp.MustCompile(`^s[0-9]+-eth[0-9]+$`)

// switchIntfs lists the interfaces named as Mininet names switch ports.
func switchIntfs() []string {
	ents, _ := os.ReadDir("/sys/class/net")
	var names []string
	for _, e := range ents {
		if switchIntf.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// startMininet starts a private Open vSwitch, then `mn args...` with mnEnv
// added to its environment, and waits for the CLI.
func startMininet(t *testing.T, mnEnv []string, args ...string) *mininetLab {
	t.Helper()
	need(t, "mn", "mnexec", "ovs-vsctl", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-ofctl", "ovs-appctl",
		"ip", "tc", "ping", "hping3")
	needRoot(t)
	if stale := switchIntfs(); len(stale) > 0 {
		t.Fatalf("switch interfaces %v already exist: another Mininet runs, or one was left behind (sudo mn -c removes it)", stale)
	}
	_, ovsEnv := ovsDaemons(t)
	l := &mininetLab{t: t, out: &lockedBuf{}, hosts: map[string]int{}, env: ovsEnv}
	var err error
	l.mn = l.command(append([]string{"mn"}, args...)...)
	l.mn.Env = append(l.mn.Env, mnEnv...)
	l.mn.Stdout, l.mn.Stderr = l.out, l.out
	l.mn.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if l.stdin, err = l.mn.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.mn.Start(); err != nil {
		t.Fatal(err)
	}
	l.done = make(chan struct{})
	go func() { l.mn.Wait(); close(l.done) }()
	t.Cleanup(l.stop)
	if !l.waitOutput("*** Starting CLI:", 0, 60*time.Second) {
		t.Fatalf("mn %s did not reach its CLI in 60 s:\n%s", strings.Join(args, " "), l.out)
	}
	for _, m := range regexp.MustCompile(`\b(h[0-9]+)=([0-9]+)\b`).FindAllStringSubmatch(
		l.cli(`py ' '.join('%s=%d' % (h.name, h.pid) for h in net.hosts)`, 10*time.Second), -1) {
		l.hosts[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(l.hosts) == 0 {
		t.Fatalf("no host pids from the CLI:\n%s", l.out)
	}
	return l
}

// command is a program run with the lab's Open vSwitch environment.
func (l *mininetLab) command(args ...string) *exec.Cmd {
	c := exec.Command(args[0], args[1:]...)
	c.Env = l.env
	return c
}

// waitOutput waits for text in mn's output after offset.
func (l *mininetLab) waitOutput(text string, offset int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if s := l.out.String(); len(s) > offset && strings.Contains(s[offset:], text) {
			return true
		}
		select {
		case <-l.done:
			return false
		default:
		}
	}
	return false
}

// cli runs one Mininet CLI command and returns what it printed: a marker
// echoed by the root shell after it says where the command's output ends.
func (l *mininetLab) cli(cmd string, d time.Duration) string {
	l.t.Helper()
	l.seq++
	marker := fmt.Sprintf("@@frt-done-%d@@", l.seq)
	start := len(l.out.String())
	if _, err := fmt.Fprintf(l.stdin, "%s\nsh echo %s\n", cmd, marker); err != nil {
		l.t.Fatalf("mininet CLI: %v", err)
	}
	if !l.waitOutput(marker, start, d) {
		l.t.Fatalf("mininet CLI %q: no answer in %v:\n%s", cmd, d, l.out.String()[start:])
	}
	s := l.out.String()[start:]
	return s[:strings.Index(s, marker)]
}

// host is a program run in a Mininet host's network namespace (mnexec -a,
// what the CLI's "h1 cmd" amounts to), stopped by the test's cleanup if
// still running.
func (l *mininetLab) host(name string, args ...string) *exec.Cmd {
	l.t.Helper()
	pid, ok := l.hosts[name]
	if !ok {
		l.t.Fatalf("no Mininet host %s (hosts %v)", name, l.hosts)
	}
	c := l.command(append([]string{"mnexec", "-a", strconv.Itoa(pid)}, args...)...)
	l.mu.Lock()
	l.procs = append(l.procs, c)
	l.mu.Unlock()
	return c
}

// stop ends the network: the CLI's exit (Mininet stops its switches, links
// and hosts); if mn does not finish, its processes and interfaces are
// removed one by one.
func (l *mininetLab) stop() {
	l.mu.Lock()
	for _, c := range l.procs {
		if c.Process != nil && c.ProcessState == nil {
			c.Process.Kill()
		}
	}
	l.mu.Unlock()
	fmt.Fprintf(l.stdin, "exit\n")
	l.stdin.Close()
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		l.t.Errorf("mn did not exit 30 s after the CLI's exit; killing it and its node shells")
		for _, pid := range children(l.mn.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		syscall.Kill(-l.mn.Process.Pid, syscall.SIGKILL)
		<-l.done
	}
	for _, name := range switchIntfs() {
		l.t.Logf("removing %s, left by mn", name)
		exec.Command("ip", "link", "del", name).Run()
	}
	if l.t.Failed() {
		l.t.Logf("mn output:\n%s", tail(l.out.String(), 6000))
	}
}

// children lists the processes whose parent is pid (Mininet's node shells
// leave mn's process group, so a group kill misses them).
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(e.Name())
			kids = append(kids, n)
		}
	}
	return kids
}

// ofFlow is one rule of `ovs-ofctl dump-flows`.
type ofFlow struct {
	Priority int
	Match    string // e.g. "udp,in_port=1,nw_dst=10.0.0.3,tp_src=53"
	Actions  string
	Packets  int64
}

var flowLine = regexp.MustCompile(`n_packets=([0-9]+),.*?priority=([0-9]+)(?:,(\S+))? actions=(\S+)`)

// flows dumps a switch's rules (OpenFlow 1.3, ports as numbers).
func (l *mininetLab) flows(sw string) []ofFlow {
	l.t.Helper()
	out, err := l.command("ovs-ofctl", "-O", "OpenFlow13", "--no-names", "dump-flows", sw).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ovs-ofctl dump-flows %s: %v\n%s", sw, err, out)
	}
	var fs []ofFlow
	for _, line := range strings.Split(string(out), "\n") {
		if m := flowLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			p, _ := strconv.Atoi(m[2])
			fs = append(fs, ofFlow{Priority: p, Match: m[3], Actions: m[4], Packets: n})
		}
	}
	return fs
}

// rule finds the switch's rule at a priority.
func (l *mininetLab) rule(sw string, priority int) (ofFlow, bool) {
	for _, f := range l.flows(sw) {
		if f.Priority == priority {
			return f, true
		}
	}
	return ofFlow{}, false
}

// txPackets is how many packets a switch port has sent (towards its host).
func txPackets(t *testing.T, dev string) int64 {
	t.Helper()
	b, err := os.ReadFile("/sys/class/net/" + dev + "/statistics/tx_packets")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ping pings from a host and returns how many replies came back.
func (l *mininetLab) ping(from, to string, count int) int {
	l.t.Helper()
	out, _ := l.host(from, "ping", "-n", "-c", strconv.Itoa(count), "-i", "0.2", "-W", "2", to).CombinedOutput()
	m := regexp.MustCompile(`([0-9]+) received`).FindStringSubmatch(string(out))
	if m == nil {
		l.t.Fatalf("ping %s from %s: %s", to, from, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
