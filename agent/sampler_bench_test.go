package agent

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkSamplerVeth measures what packet sampling costs the host: a
// sender writes 64-byte UDP datagrams through a veth pair, from a network
// namespace of its own to a socket on the host (in: the host end receives)
// or from the host into the namespace (out: the host end sends), the
// receiving socket never read (the kernel drops them there); the host end
// is sampled 1 in N by
//
//   - none: no sampler (the path's own cost);
//   - cbpf: the agent's Sampler, classic BPF on an AF_PACKET socket;
//   - ebpf-socket: the same program in eBPF (SO_ATTACH_BPF);
//   - ebpf-tc: an eBPF classifier on the device's tc ingress (egress) hook
//     that copies sampled headers into a BPF ring buffer
//     (BPF_MAP_TYPE_RINGBUF) read from user space, with no packet socket.
//
// The veth delivers each frame in the sender's own system call (softirq
// run on the sender's thread; this kernel charges it to the task, as
// CONFIG_IRQ_TIME_ACCOUNTING is off), so the process's CPU time, sampler
// reader included, is the whole cost. The b.N datagrams are sent in rounds
// of equal chunks, one per sampler in turn, so that a machine shared with
// other work weighs on all alike; each sampler's median over the rounds is
// reported as <sampler>-ns/pkt, and its samples per million packets.
//
//	sudo go test ./agent -run '^$' -bench SamplerVeth -benchtime 4000000x
func BenchmarkSamplerVeth(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: a network namespace, a veth pair, packet sockets and BPF")
	}
	v := newVethPair(b)
	kinds := []string{"none", "cbpf", "ebpf-socket", "ebpf-tc"}
	const rounds = 12
	for _, dir := range []string{"in", "out"} {
		for _, n := range []uint32{400, 1} {
			b.Run(fmt.Sprintf("%s/N=%d", dir, n), func(b *testing.B) {
				v.sendOut = dir == "out"
				chunk := max(b.N/(rounds*len(kinds)), 1)
				cpu := map[string][]float64{}
				got := map[string]uint64{}
				for range rounds {
					for _, kind := range kinds {
						stop, samples := v.sampler(b, kind, n)
						v.send(b, 1000) // warm: ARP, caches
						var before, after unix.Rusage
						unix.Getrusage(unix.RUSAGE_SELF, &before)
						start := samples.Load()
						v.send(b, chunk)
						time.Sleep(20 * time.Millisecond) // the reader drains its queue
						unix.Getrusage(unix.RUSAGE_SELF, &after)
						got[kind] += samples.Load() - start
						stop()
						ns := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
						cpu[kind] = append(cpu[kind], float64(ns)/float64(chunk))
					}
				}
				for _, kind := range kinds {
					b.ReportMetric(median(cpu[kind]), kind+"-ns/pkt")
					if kind != "none" {
						b.ReportMetric(float64(got[kind])*1e6/float64(chunk*rounds), kind+"-samples/1e6pkt")
					}
				}
			})
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

type vethPair struct {
	ns, host, peer string
	dev            Iface
	// in, the sender's UDP socket in the namespace, to the host's sink;
	// out, the host's, to the namespace's sink (sinks are never read).
	in, out  int
	sendOut  bool
	sinkHost int
	sinkPeer int
}

func newVethPair(b *testing.B) *vethPair {
	id := os.Getpid() % 100000
	v := &vethPair{ns: fmt.Sprintf("flowrt-bench-%d", id), host: fmt.Sprintf("fbh%d", id), peer: fmt.Sprintf("fbn%d", id)}
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v %s", args, err, out)
		}
	}
	run("ip", "netns", "add", v.ns)
	b.Cleanup(func() {
		exec.Command("ip", "link", "del", v.host).Run()
		exec.Command("ip", "netns", "del", v.ns).Run()
	})
	run("ip", "link", "add", v.host, "type", "veth", "peer", "name", v.peer, "netns", v.ns)
	run("ip", "addr", "add", "10.213.0.1/24", "dev", v.host)
	run("ip", "link", "set", v.host, "up")
	run("ip", "-n", v.ns, "addr", "add", "10.213.0.2/24", "dev", v.peer)
	run("ip", "-n", v.ns, "link", "set", v.peer, "up")
	var ok bool
	if v.dev, ok = interfaceByName("/sys", v.host); !ok {
		b.Fatal("no " + v.host)
	}
	host, peer := [4]byte{10, 213, 0, 1}, [4]byte{10, 213, 0, 2}
	var err error
	if v.sinkHost, v.out, err = udpPair(host, peer); err != nil {
		b.Fatal(err)
	}
	// The namespace's sockets are made there; they stay there.
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is retired
		f, err := os.Open(filepath.Join("/run/netns", v.ns))
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
		}
		if err == nil {
			v.sinkPeer, v.in, err = udpPair(peer, host)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, fd := range []int{v.in, v.out, v.sinkHost, v.sinkPeer} {
			unix.Close(fd)
		}
	})
	return v
}

// udpPair is a sink bound to local:9999 (a 4 kB buffer, never read) and a
// socket connected to remote:9999.
func udpPair(local, remote [4]byte) (sink, conn int, err error) {
	if sink, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return
	}
	unix.SetsockoptInt(sink, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	if err = unix.Bind(sink, &unix.SockaddrInet4{Port: 9999, Addr: local}); err != nil {
		return
	}
	if conn, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return
	}
	err = unix.Connect(conn, &unix.SockaddrInet4{Port: 9999, Addr: remote})
	return
}

// send writes n datagrams of 64 bytes.
func (v *vethPair) send(b *testing.B, n int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd := v.in
	if v.sendOut {
		fd = v.out
	}
	msg := make([]byte, 64)
	for i := range n {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := unix.Write(fd, msg); err != nil && err != unix.ENOBUFS && err != unix.ECONNREFUSED {
			b.Fatal(err)
		}
	}
}

// sampler starts one kind of sampler on the host end; it counts the
// samples it reads.
func (v *vethPair) sampler(b *testing.B, kind string, n uint32) (stop func(), samples *atomic.Uint64) {
	samples = new(atomic.Uint64)
	var quit atomic.Bool
	var wg sync.WaitGroup
	switch kind {
	case "none":
		return func() {}, samples
	case "cbpf", "ebpf-socket":
		s, err := NewSampler(v.dev, n, 128)
		if err != nil {
			b.Fatal(err)
		}
		if kind == "ebpf-socket" {
			prog := loadProg(b, unix.BPF_PROG_TYPE_SOCKET_FILTER, socketSamplingProgram(n, 128))
			defer unix.Close(prog) // the socket holds it
			if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog); err != nil {
				b.Fatalf("SO_ATTACH_BPF: %v", err)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !quit.Load() {
				if _, ok, err := s.Read(); err != nil {
					return
				} else if ok {
					samples.Add(1)
				}
			}
		}()
		return func() { quit.Store(true); wg.Wait(); s.Close() }, samples
	case "ebpf-tc":
		rb := newRingbuf(b, 1<<22)
		prog := loadProg(b, unix.BPF_PROG_TYPE_SCHED_CLS, tcSamplingProgram(n, rb.fd))
		hook := "ingress"
		if v.sendOut {
			hook = "egress"
		}
		pin := tcAttach(b, v.host, hook, prog)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !quit.Load() {
				samples.Add(uint64(rb.read(200)))
			}
		}()
		return func() {
			exec.Command("tc", "qdisc", "del", "dev", v.host, "clsact").Run()
			quit.Store(true)
			wg.Wait()
			os.Remove(pin)
			unix.Close(prog)
			rb.close()
		}, samples
	}
	b.Fatalf("unknown sampler %s", kind)
	return nil, nil
}

// eBPF instructions, as the kernel takes them (include/uapi/linux/bpf.h).
type insn struct {
	code uint8
	regs uint8 // dst | src<<4
	off  int16
	imm  int32
}

const (
	bpfALU64 = 0x07
	bpfJLE   = 0xb0
	bpfJLT   = 0xa0
	bpfJNE   = 0x50
	bpfMOV   = 0xb0
	bpfDW    = 0x18

	fnGetPrandomU32 = 7
	fnSkbLoadBytes  = 26
	fnRingbufRsv    = 131
	fnRingbufSubmit = 132
)

func mov(dst uint8, imm int32) insn {
	return insn{code: bpfALU64 | bpfMOV | unix.BPF_K, regs: dst, imm: imm}
}
func movReg(dst, src uint8) insn {
	return insn{code: bpfALU64 | bpfMOV | unix.BPF_X, regs: dst | src<<4}
}
func call(fn int32) insn { return insn{code: unix.BPF_JMP | unix.BPF_CALL, imm: fn} }
func exit() insn         { return insn{code: unix.BPF_JMP | unix.BPF_EXIT} }
func jmp(op, dst uint8, imm int32, off int16) insn {
	return insn{code: unix.BPF_JMP | op | unix.BPF_K, regs: dst, off: off, imm: imm}
}

// sample: r0 = random % n; r0 != 0 → not sampled (32-bit modulo, as the
// classic program's).
func randomModN(n uint32, skip int16) []insn {
	return []insn{call(fnGetPrandomU32), {code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, imm: int32(n)}, jmp(bpfJNE, 0, 0, skip)}
}

// socketSamplingProgram is the classic program in eBPF: keep snaplen bytes
// of one packet in n.
func socketSamplingProgram(n, snaplen uint32) []insn {
	p := randomModN(n, 2)
	return append(p, mov(0, int32(snaplen)), exit(), mov(0, 0), exit())
}

// tcSamplingProgram, on tc ingress (direct action): one packet in n has
// its length and first 128 bytes put in the ring buffer
// ([u32 length][u32 captured][128 bytes]); every packet goes on (TC_ACT_OK).
func tcSamplingProgram(n uint32, ringbuf int) []insn {
	var p []insn
	p = append(p, movReg(6, 1))        // r6 = skb
	p = append(p, randomModN(n, 0)...) // patched below: → out
	skipAt := len(p) - 1
	p = append(p,
		insn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, regs: 7 | 6<<4, off: 0}, // r7 = skb->len
		jmp(bpfJLT, 7, 14, 0), // patched: len < 14 → out
	)
	shortAt := len(p) - 1
	p = append(p,
		jmp(bpfJLE, 7, 128, 1),
		mov(7, 128), // r7 = min(len, 128)
		insn{code: unix.BPF_LD | bpfDW | unix.BPF_IMM, regs: 1 | 1<<4, imm: int32(ringbuf)}, insn{}, // r1 = map (BPF_PSEUDO_MAP_FD)
		mov(2, 8+128), mov(3, 0), call(fnRingbufRsv),
		jmp(unix.BPF_JEQ, 0, 0, 0), // patched: no room → out
	)
	fullAt := len(p) - 1
	p = append(p,
		movReg(8, 0),
		insn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, regs: 1 | 6<<4, off: 0}, // r1 = skb->len
		insn{code: unix.BPF_STX | unix.BPF_MEM | unix.BPF_W, regs: 8 | 1<<4, off: 0}, // rec.length = r1
		insn{code: unix.BPF_STX | unix.BPF_MEM | unix.BPF_W, regs: 8 | 7<<4, off: 4}, // rec.captured = r7
		movReg(1, 6), mov(2, 0), movReg(3, 8), insn{code: bpfALU64 | unix.BPF_ADD | unix.BPF_K, regs: 3, imm: 8}, movReg(4, 7),
		call(fnSkbLoadBytes),
		movReg(1, 8), mov(2, 0), call(fnRingbufSubmit),
	)
	out := len(p)
	p = append(p, mov(0, 0), exit())
	for _, at := range []int{skipAt, shortAt, fullAt} {
		p[at].off = int16(out - at - 1)
	}
	return p
}

func loadProg(b *testing.B, typ uint32, prog []insn) int {
	license := []byte("GPL\x00")
	logBuf := make([]byte, 1<<16)
	var attr [128]byte
	ne := binary.NativeEndian
	ne.PutUint32(attr[0:], typ)
	ne.PutUint32(attr[4:], uint32(len(prog)))
	ne.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&prog[0]))))
	ne.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	ne.PutUint32(attr[24:], 1) // log level
	ne.PutUint32(attr[28:], uint32(len(logBuf)))
	ne.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&logBuf[0]))))
	// The verifier gives up with EAGAIN when a signal is pending (Go's
	// preemption signals): asked again, as libbpf does.
	var fd uintptr
	var errno unix.Errno
	for range 10 {
		if fd, _, errno = unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr)); errno != unix.EAGAIN {
			break
		}
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if errno != 0 {
		b.Fatalf("BPF_PROG_LOAD: %v\n%s", errno, strings.TrimRight(string(logBuf), "\x00"))
	}
	return int(fd)
}

// tcAttach attaches prog to dev's tc ingress hook (clsact, direct action)
// with tc, through a pin in a bpf file system of the benchmark's own.
func tcAttach(b *testing.B, dev, hook string, prog int) string {
	dir := b.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, ""); err != nil {
		b.Fatalf("mounting a bpf file system: %v", err)
	}
	b.Cleanup(func() { unix.Unmount(dir, 0) })
	pin := filepath.Join(dir, "sampler")
	path := append([]byte(pin), 0)
	var attr [16]byte
	binary.NativeEndian.PutUint64(attr[0:], uint64(uintptr(unsafe.Pointer(&path[0]))))
	binary.NativeEndian.PutUint32(attr[8:], uint32(prog))
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_PIN, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr)); errno != 0 {
		b.Fatalf("BPF_OBJ_PIN: %v", errno)
	}
	runtime.KeepAlive(path)
	for _, args := range [][]string{{"qdisc", "add", "dev", dev, "clsact"}, {"filter", "add", "dev", dev, hook, "bpf", "da", "pinned", pin}} {
		if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
			b.Fatalf("tc %v: %v %s", args, err, out)
		}
	}
	return pin
}

// ringbuf is a BPF_MAP_TYPE_RINGBUF read from user space.
type ringbuf struct {
	fd         int
	cons, data []byte
	mask       uint64
}

func newRingbuf(b *testing.B, size int) *ringbuf {
	var attr [64]byte
	binary.NativeEndian.PutUint32(attr[0:], unix.BPF_MAP_TYPE_RINGBUF)
	binary.NativeEndian.PutUint32(attr[12:], uint32(size))
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	if errno != 0 {
		b.Fatalf("BPF_MAP_CREATE ringbuf: %v", errno)
	}
	page := os.Getpagesize()
	cons, err := unix.Mmap(int(fd), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	data, err := unix.Mmap(int(fd), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	return &ringbuf{fd: int(fd), cons: cons, data: data, mask: uint64(size - 1)}
}

// read takes every record there, waiting up to ms for one; it returns how
// many it read.
func (r *ringbuf) read(ms int) int {
	page := os.Getpagesize()
	consPos := (*uint64)(unsafe.Pointer(&r.cons[0]))
	prodPos := (*uint64)(unsafe.Pointer(&r.data[0]))
	ring := r.data[page:]
	n := 0
	for {
		cons, prod := atomic.LoadUint64(consPos), atomic.LoadUint64(prodPos)
		if cons == prod {
			if n > 0 {
				return n
			}
			unix.Poll([]unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}, ms)
			if atomic.LoadUint64(prodPos) == cons {
				return 0
			}
			continue
		}
		for cons < prod {
			hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&ring[cons&r.mask])))
			if hdr&(1<<31) != 0 { // busy: being written
				break
			}
			l := uint64(hdr &^ (3 << 30))
			if hdr&(1<<30) == 0 { // not discarded: [length][captured][header]
				rec := ring[(cons+8)&r.mask:]
				_ = binary.NativeEndian.Uint32(rec[4:]) // captured bytes follow
				n++
			}
			cons += (l + 8 + 7) &^ 7
		}
		atomic.StoreUint64(consPos, cons)
	}
}

func (r *ringbuf) close() {
	unix.Munmap(r.cons)
	unix.Munmap(r.data)
	unix.Close(r.fd)
}
