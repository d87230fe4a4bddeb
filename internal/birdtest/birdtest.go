// Package birdtest runs a BIRD 2 daemon (Debian's bird2) for tests: a
// real BGP peer for flowrt's speaker, on 127.0.0.2, with its control
// socket, log and configuration in the test's temporary directory.
package birdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Bird is a running BIRD daemon.
type Bird struct {
	Sock string // birdc's control socket
	cmd  *exec.Cmd
}

// Need skips the test when BIRD is not installed.
func Need(t testing.TB) {
	for _, p := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (Debian package bird2): %v", p, err)
		}
	}
}

// FreeTCP is a TCP port free on 127.0.0.1 now.
func FreeTCP(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Config peers AS 65001 at 127.0.0.2 with flowrt's AS 65000 on
// 127.0.0.1:port over eBGP, sends the static routes given (BIRD route
// statements, one per line), and keeps what flowrt announces: unicast in
// master4, Flowspec in flowtab4. BIRD listens on a port of its own (not
// 179): two tests' daemons on 127.0.0.2 would otherwise fight for one
// listening socket, and the loser never peers ("No listening socket").
func Config(port int, statics string) string {
	return fmt.Sprintf(`router id 127.0.0.2;
protocol device {}
ipv4 table master4;
flow4 table flowtab4;
protocol static s4 {
  ipv4;
%s
}
protocol bgp flowrt {
  local 127.0.0.2 port %d as 65001;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; next hop self; };
  flow4 { table flowtab4; import all; export none; };
}
`, statics, freePort(), port)
}

// freePort is FreeTCP for Config, which has no test to fail: a machine
// that cannot open a loopback socket fails every test anyway.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("no free TCP port on 127.0.0.1 for BIRD: %v", err))
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs BIRD with conf and waits for its control socket; the test's
// cleanup stops it.
func Start(t testing.TB, conf string) *Bird {
	t.Helper()
	Need(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &Bird{Sock: filepath.Join(dir, "bird.ctl")}
	b.cmd = exec.Command("bird", "-f", "-c", f, "-s", b.Sock, "-P", filepath.Join(dir, "bird.pid"))
	out, err := os.Create(filepath.Join(dir, "bird.log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("bird: %v", err)
	}
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		b.cmd.Wait()
		out.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(b.Sock); err == nil {
			return b
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("bird did not open its control socket: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Cli runs birdc; a failing command fails the test.
func (b *Bird) Cli(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("birdc", append([]string{"-s", b.Sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("birdc %v: %v: %s", args, err, out)
	}
	return string(out)
}

// Show is Cli for a query that may find nothing (birdc exits 1 then).
func (b *Bird) Show(args ...string) string {
	out, _ := exec.Command("birdc", append([]string{"-s", b.Sock}, args...)...).CombinedOutput()
	return string(out)
}
