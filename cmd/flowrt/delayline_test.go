package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// delayLine joins this network namespace to a new one, ns, through two TAP
// devices and this process in between, which holds every frame for delay
// in each direction: a path with a known round-trip time (2 × delay) on a
// kernel without netem (this machine's has no sch_netem). tap is here with
// <net>.1/24, the namespace's end has <net>.2/24; frames are Ethernet, so
// an agent can sample tap as it samples a NIC.
func delayLine(t *testing.T, ns, tap, net string, delay time.Duration) {
	t.Helper()
	need(t, "ip")
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace and TAP devices")
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "link", "del", tap).Run()
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run(); exec.Command("ip", "link", "del", tap).Run() })
	here, err := openTAP(tap, "")
	if err != nil {
		t.Skipf("TAP device: %v", err)
	}
	there, err := openTAP(tap+"p", ns)
	if err != nil {
		here.Close()
		t.Fatalf("TAP device in %s: %v", ns, err)
	}
	t.Cleanup(func() { here.Close(); there.Close() })
	run("ip", "addr", "add", net+".1/24", "dev", tap)
	run("ip", "link", "set", tap, "up")
	run("ip", "-n", ns, "addr", "add", net+".2/24", "dev", tap+"p")
	run("ip", "-n", ns, "link", "set", tap+"p", "up")
	run("ip", "-n", ns, "link", "set", "lo", "up")
	go forwardDelayed(here, there, delay)
	go forwardDelayed(there, here, delay)
}

// openTAP makes a TAP device, in the network namespace ns when it is given,
// and returns its queue (non-blocking, so that Close ends a pending read).
func openTAP(name, ns string) (*os.File, error) {
	if ns != "" {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			return nil, err
		}
		defer self.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			return nil, err
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			return nil, fmt.Errorf("setns %s: %w", ns, err)
		}
		defer unix.Setns(int(self.Fd()), unix.CLONE_NEWNET)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	var req struct {
		name  [unix.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = unix.IFF_TAP | unix.IFF_NO_PI
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, e)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// forwardDelayed copies frames from one TAP to the other, each leaving
// delay after it arrived, in order.
func forwardDelayed(from, to *os.File, delay time.Duration) {
	type frame struct {
		due time.Time
		b   []byte
	}
	q := make(chan frame, 8192)
	go func() {
		for f := range q {
			time.Sleep(time.Until(f.due))
			to.Write(f.b)
		}
	}()
	defer close(q)
	buf := make([]byte, 65536)
	for {
		n, err := from.Read(buf)
		if err != nil {
			return
		}
		select {
		case q <- frame{time.Now().Add(delay), append([]byte(nil), buf[:n]...)}:
		default: // a full line drops, as a full queue would
		}
	}
}
