package bgp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bird is a BIRD 2 daemon (Debian's bird2) on 127.0.0.2 that peers with
// the speaker under test on 127.0.0.1.
type bird struct {
	sock string
	cmd  *exec.Cmd
}

func needBird(t testing.TB) {
	for _, p := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (Debian package bird2): %v", p, err)
		}
	}
}

func freeTCP(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// birdConfig peers AS 65001 at 127.0.0.2 with flowrt's AS 65000 at
// 127.0.0.1:port over eBGP, sends the static routes given (BIRD route
// statements), and keeps what flowrt announces: unicast in master4,
// Flowspec in flowtab4.
func birdConfig(port int, statics string) string {
	return fmt.Sprintf(`router id 127.0.0.2;
protocol device {}
ipv4 table master4;
flow4 table flowtab4;
protocol static s4 {
  ipv4;
%s
}
protocol bgp flowrt {
  local 127.0.0.2 as 65001;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; next hop self; };
  flow4 { table flowtab4; import all; export none; };
}
`, statics, port)
}

func startBird(t testing.TB, conf string) *bird {
	needBird(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &bird{sock: filepath.Join(dir, "bird.ctl")}
	b.cmd = exec.Command("bird", "-f", "-c", f, "-s", b.sock, "-P", filepath.Join(dir, "bird.pid"))
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
		if _, err := os.Stat(b.sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("bird did not open its control socket: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b
}

func (b *bird) cli(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("birdc", append([]string{"-s", b.sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("birdc %v: %v: %s", args, err, out)
	}
	return string(out)
}

// show is cli for a query that may find nothing (birdc exits 1).
func (b *bird) show(args ...string) string {
	out, _ := exec.Command("birdc", append([]string{"-s", b.sock}, args...)...).CombinedOutput()
	return string(out)
}

func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s within %v", what, d)
	return 0
}

// generatedStatics is a table of n /24s, 10.a.b.0/24 for the i-th, whose
// AS path (after BIRD's own 65001) is 64600+i%50 then 64700+i%7, with
// community 65001:i%100.
func generatedStatics(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  route 10.%d.%d.0/24 blackhole { bgp_path.prepend(%d); bgp_path.prepend(%d); bgp_community.add((65001,%d)); };\n",
			i>>8, i&255, 64700+i%7, 64600+i%50, i%100)
	}
	return b.String()
}

func generatedAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 77}) }
