package agent

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSockDiagLookup asks the kernel about both ends of a real TCP
// connection on 127.0.0.1: each is found with its tcp_info (an MSS that
// fits loopback's MTU) and the cgroup this test runs in; a connection that
// does not exist is not found and is no error.
func TestSockDiagLookup(t *testing.T) {
	d, err := NewSockDiag()
	if err != nil {
		t.Skipf("no sock_diag here: %v", err)
	}
	defer d.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := ln.Accept()
	defer s.Close()
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	s.Read(buf)

	client := netip.MustParseAddrPort(c.LocalAddr().String())
	server := netip.MustParseAddrPort(c.RemoteAddr().String())
	want := ownCgroupID(t)
	for _, conn := range []Conn{{unix.IPPROTO_TCP, client, server}, {unix.IPPROTO_TCP, server, client}} {
		info := d.Lookup(conn, time.Now())
		if !info.Found || !info.HasTCP {
			t.Fatalf("%v: not found (%+v)", conn, info)
		}
		// The kernel keeps a path MTU of at most 65535 (loopback's is 65536).
		if mtu := min(u64(readTrim("/sys/class/net/lo/mtu")), 65535); info.TCP.SendMSS == 0 || uint64(info.TCP.SendMSS) >= mtu ||
			uint64(info.TCP.PathMTU) != mtu || info.TCP.RTT == 0 || info.TCP.RTT > 100_000 {
			t.Errorf("%v: tcp_info %+v: want an MSS under loopback's path MTU %d and a loopback RTT", conn, info.TCP, mtu)
		}
		if want != 0 && info.CgroupID != want {
			t.Errorf("%v: cgroup ID %d, this process's cgroup is %d", conn, info.CgroupID, want)
		}
	}
	gone := Conn{unix.IPPROTO_TCP, netip.MustParseAddrPort("127.0.0.1:1"), server}
	if info := d.Lookup(gone, time.Now()); info.Found {
		t.Errorf("a connection that does not exist was found: %+v", info)
	}
	if d.Errors != 0 || d.Misses != 1 || d.Lookups != 3 {
		t.Errorf("lookups %d, misses %d, errors %d; want 3, 1, 0", d.Lookups, d.Misses, d.Errors)
	}
	// Asked again within the second: from the cache, no new round trip.
	d.Lookup(Conn{unix.IPPROTO_TCP, client, server}, time.Now())
	if d.Lookups != 3 {
		t.Errorf("a repeated lookup went to the kernel (%d lookups)", d.Lookups)
	}
}

// ownCgroupID is the inode of this process's cgroup v2 directory (0 when
// it cannot be found).
func ownCgroupID(t *testing.T) uint64 {
	root, ok := CgroupRoot()
	if !ok {
		return 0
	}
	for _, l := range readLines("/proc/self/cgroup") {
		if rest, ok := strings.CutPrefix(l, "0::"); ok {
			fi, err := os.Stat(filepath.Join(root, rest))
			if err != nil {
				return 0
			}
			return fi.Sys().(*syscall.Stat_t).Ino
		}
	}
	return 0
}

// TestConnOf reads the local and remote ends of sampled frames.
func TestConnOf(t *testing.T) {
	frame := func(et uint16, ip []byte) []byte {
		b := make([]byte, 14, 14+len(ip))
		b[12], b[13] = byte(et>>8), byte(et)
		return append(b, ip...)
	}
	v4 := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x14, 0x51}
	c, ok := connOf(frame(0x0800, v4), true)
	if !ok || c.Proto != 6 || c.Local.String() != "10.0.0.1:12345" || c.Remote.String() != "10.0.0.2:5201" {
		t.Errorf("sent IPv4/TCP: %v %v", c, ok)
	}
	c, ok = connOf(frame(0x0800, v4), false)
	if !ok || c.Local.String() != "10.0.0.2:5201" || c.Remote.String() != "10.0.0.1:12345" {
		t.Errorf("received IPv4/TCP: %v %v", c, ok)
	}
	frag := append([]byte(nil), v4...)
	frag[7] = 10 // a later fragment: no ports in it
	if _, ok := connOf(frame(0x0800, frag), true); ok {
		t.Errorf("a later fragment was read as a connection")
	}
	v6 := make([]byte, 44)
	v6[0], v6[6] = 0x60, 17
	v6[23], v6[39] = 1, 2
	v6[40], v6[41], v6[42], v6[43] = 0, 53, 0x10, 0
	c, ok = connOf(frame(0x86dd, v6), false)
	if !ok || c.Proto != 17 || c.Local.String() != "[::2]:4096" || c.Remote.String() != "[::1]:53" {
		t.Errorf("received IPv6/UDP: %v %v", c, ok)
	}
	if _, ok := connOf(frame(0x0806, make([]byte, 28)), true); ok {
		t.Errorf("ARP was read as a connection")
	}
	if _, ok := connOf([]byte{1, 2, 3}, true); ok {
		t.Errorf("a runt frame was read as a connection")
	}
}

// BenchmarkSocketLookup is the per-sample cost of tcp { } and markTraffic:
// reading the frame's connection and asking the kernel about its socket,
// "cached" for a connection sampled again within the second (the usual
// case: a busy connection is sampled often), "kernel" for a new one each
// time (a netlink round trip). ns/op × 100,000 is the CPU share of one
// core at 100k sampled packets/s.
func BenchmarkSocketLookup(b *testing.B) {
	d, err := NewSockDiag()
	if err != nil {
		b.Skipf("no sock_diag here: %v", err)
	}
	defer d.Close()
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	defer ln.Close()
	c, _ := net.Dial("tcp4", ln.Addr().String())
	defer c.Close()
	s, _ := ln.Accept()
	defer s.Close()
	lp := netip.MustParseAddrPort(c.LocalAddr().String())
	rp := netip.MustParseAddrPort(c.RemoteAddr().String())
	frame := make([]byte, 14+40)
	frame[12], frame[13] = 0x08, 0x00
	ip := frame[14:]
	ip[0], ip[9] = 0x45, 6
	copy(ip[12:16], lp.Addr().AsSlice())
	copy(ip[16:20], rp.Addr().AsSlice())
	ip[20], ip[21], ip[22], ip[23] = byte(lp.Port()>>8), byte(lp.Port()), byte(rp.Port()>>8), byte(rp.Port())
	b.Run("cached", func(b *testing.B) {
		now := time.Now()
		for b.Loop() {
			conn, _ := connOf(frame, true)
			if !d.Lookup(conn, now).Found {
				b.Fatal("not found")
			}
		}
	})
	b.Run("kernel", func(b *testing.B) {
		now := time.Now()
		for b.Loop() {
			conn, _ := connOf(frame, true)
			now = now.Add(2 * time.Second) // past the cache's second
			if !d.Lookup(conn, now).Found {
				b.Fatal("not found")
			}
		}
	})
}
