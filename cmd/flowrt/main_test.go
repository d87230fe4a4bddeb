package main_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// flowrt is the binary under test, built once by TestMain.
var flowrt string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flowrt-test")
	if err != nil {
		panic(err)
	}
	flowrt = filepath.Join(dir, "flowrt")
	// Built as scripts/install and scripts/release build it (static,
	// -trimpath): the compiled packages are then shared with the release
	// test's and the README walk's builds, and -trimpath keys them without
	// the checkout's path, so a fresh clone reuses what the cache holds.
	b := exec.Command("go", "build", "-trimpath", "-o", flowrt, ".")
	b.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := b.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips the test when a peer program is missing (CI installs them all).
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
				t.Fatalf("%s is not installed; .ci/run installs it", p)
			}
			t.Skipf("%s is not installed", p)
		}
	}
}

// pipe runs "flowrt args... | peer peerArgs..." and returns the peer's
// standard output and error, and flowrt's exit error.
func pipe(t *testing.T, args []string, peer string, peerArgs ...string) (stdout, stderr string, flowrtErr error) {
	t.Helper()
	producer := exec.Command(flowrt, args...)
	consumer := exec.Command(peer, peerArgs...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	producer.Stdout = w
	var pErr bytes.Buffer
	producer.Stderr = &pErr
	consumer.Stdin = r
	var out, cErr bytes.Buffer
	consumer.Stdout, consumer.Stderr = &out, &cErr
	if err := consumer.Start(); err != nil {
		t.Fatal(err)
	}
	if err := producer.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.Close()
	flowrtErr = producer.Wait()
	if err := consumer.Wait(); err != nil {
		t.Fatalf("%s %s: %v\n%s", peer, strings.Join(peerArgs, " "), err, cErr.String())
	}
	if flowrtErr != nil {
		t.Logf("flowrt stderr: %s", pErr.String())
	}
	return out.String(), cErr.String(), flowrtErr
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(flowrt, args...).Output()
	if err != nil {
		t.Fatalf("flowrt %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// serveText serves body over HTTP on 127.0.0.1 and returns its URL.
func serveText(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/compromised-ips.txt"
}

// listener is a running "flowrt decode -listen 127.0.0.1:port args...".
type listener struct {
	addr   string
	cmd    *exec.Cmd
	lines  chan string    // its standard output, line by line
	stderr *bufio.Scanner // its standard error, after the "listening" line
}

// startDecode starts flowrt decode on a free UDP port of 127.0.0.1 and
// returns once it is listening.
func startDecode(t *testing.T, args ...string) *listener {
	t.Helper()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	l.Close()
	cmd := exec.Command(flowrt, append([]string{"decode", "-listen", addr}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	errs := bufio.NewScanner(stderr)
	if !errs.Scan() || !strings.Contains(errs.Text(), "listening") {
		t.Fatalf("flowrt decode did not start listening: %q", errs.Text())
	}
	lines := make(chan string, 100000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return &listener{addr: addr, cmd: cmd, lines: lines, stderr: errs}
}

// stop interrupts flowrt as Ctrl-C would and reports whether it exited
// cleanly.
func (l *listener) stop() error {
	l.cmd.Process.Signal(os.Interrupt)
	return l.cmd.Wait()
}

// Parallel tests: those marked t.Parallel spend their time waiting — on
// a BGP daemon's timers, a Kafka broker coming back, HTTP timeouts, a
// flood's duration — each with its own engine, ports and temporary
// directory on 127.0.0.1, nothing shared with another test. They run side
// by side (scripts/test runs four at a time) once the serial
// tests are done; tests that drive Mininet, Open vSwitch, network
// namespaces or Chromium, or measure memory or CPU, stay serial.
