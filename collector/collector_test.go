package collector

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
)

type recorder struct {
	mu   sync.Mutex
	got  map[string]int // source address → datagrams
	size int
}

func (r *recorder) Process(b []byte, src netip.AddrPort, _ time.Time) {
	r.mu.Lock()
	r.got[src.Addr().String()]++
	r.size += len(b)
	r.mu.Unlock()
}

func (r *recorder) count() (n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.got {
		n += c
	}
	return n
}

// TestReceiveIPv4AndIPv6 sends real datagrams over loopback, from IPv4 and
// IPv6, to a dual-stack collector with several SO_REUSEPORT sockets read
// with recvmmsg, and checks every one arrives with its source address.
func TestReceiveIPv4AndIPv6(t *testing.T) {
	c, err := Listen(Config{Addr: "[::]:0", Sockets: 3, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sockets() != 3 || c.ReadBuffer() <= 0 {
		t.Fatalf("sockets %d, buffer %d", c.Sockets(), c.ReadBuffer())
	}
	rec := &recorder{got: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, func() Handler { return rec }) }()
	port := c.Addr().Port()
	const n = 500
	payload := make([]byte, 1400)
	for _, dst := range []string{"127.0.0.1", "::1"} {
		for range 4 { // four sender sockets: SO_REUSEPORT spreads them
			conn, err := net.Dial("udp", net.JoinHostPort(dst, strconv.Itoa(int(port))))
			if err != nil {
				t.Fatal(err)
			}
			for range n / 4 {
				if _, err := conn.Write(payload); err != nil {
					t.Fatal(err)
				}
			}
			conn.Close()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.count() < 2*n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec.got["127.0.0.1"] != n || rec.got["::1"] != n || rec.size != 2*n*1400 {
		t.Errorf("received %v (%d bytes), want %d from each", rec.got, rec.size, n)
	}
	if c.KernelDrops() != 0 {
		t.Errorf("%d kernel drops", c.KernelDrops())
	}
}

// TestKernelDropsExact overflows a socket nobody reads yet (a small buffer,
// a burst larger than it holds), then reads it: what was received and what
// KernelDrops reports add up to what was sent, to the datagram, although no
// datagram arrived after the burst to carry an SO_RXQ_OVFL count.
func TestKernelDropsExact(t *testing.T) {
	c, err := Listen(Config{Addr: "127.0.0.1:0", Sockets: 1, ReadBuffer: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	payload := make([]byte, 1000)
	for range n {
		if _, err := conn.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	drops := c.KernelDrops()
	if drops == 0 {
		t.Fatalf("%d datagrams of 1000 bytes into a 64 KiB buffer: no drop counted", n)
	}
	rec := &recorder{got: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, func() Handler { return rec }) }()
	deadline := time.Now().Add(5 * time.Second)
	for uint64(rec.count())+c.KernelDrops() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := uint64(rec.count()) + c.KernelDrops(); got != n || c.KernelDrops() != drops {
		t.Errorf("received %d + dropped %d (%d before reading) = %d, want %d sent", rec.count(), c.KernelDrops(), drops, got, n)
	}
	t.Logf("%d sent: %d received, %d dropped by the kernel", n, rec.count(), drops)
}

func TestPortInUse(t *testing.T) {
	c, err := Listen(Config{Addr: "127.0.0.1:0", Sockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = Listen(Config{Addr: c.Addr().String(), Sockets: 2})
	if err == nil {
		t.Fatal("a second collector joined the first one's port")
	}
	t.Log(err)
}

func TestReplayCapture(t *testing.T) {
	dir := testdata.Dir(t)
	rec := &recorder{got: map[string]int{}}
	st, err := Replay(context.Background(), filepath.Join(dir, "tcpdump_sflow_multiple_counter_30_pdus.pcap"), false, rec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Datagrams != 30 || rec.count() != 30 {
		t.Errorf("replayed %d datagrams (%d handled), want 30", st.Datagrams, rec.count())
	}
	if _, err := Replay(context.Background(), filepath.Join(dir, "missing.pcap"), false, rec); err == nil {
		t.Error("no error for a missing capture")
	}
}

// flushRecorder counts datagrams and the datagrams seen at each Flush,
// and checks that Flush says a read was full when it took batch
// datagrams.
type flushRecorder struct {
	mu               sync.Mutex
	pending, flushed int
	flushes, full    int
	batch, wrong     int
}

func (r *flushRecorder) Process([]byte, netip.AddrPort, time.Time) {
	r.mu.Lock()
	r.pending++
	r.mu.Unlock()
}

func (r *flushRecorder) Flush(full bool) {
	r.mu.Lock()
	if r.batch > 0 && full != (r.pending == r.batch) {
		r.wrong++
	}
	if full {
		r.full++
	}
	r.flushed += r.pending
	r.pending = 0
	r.flushes++
	r.mu.Unlock()
}

// TestFlushAfterEachRead: a Handler that is a Flusher is flushed after
// every read, so that nothing it gathers waits for more traffic; Reads
// counts the reads that returned datagrams, no more of them than
// datagrams, and no more flushes than reads. Flush says whether the read
// filled its batch: the datagrams queued before the first read fill
// several, the last ones, sent one at a time, none.
func TestFlushAfterEachRead(t *testing.T) {
	c, err := Listen(Config{Addr: "127.0.0.1:0", Sockets: 1, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	rec := &flushRecorder{batch: 16}
	conn, err := net.Dial("udp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const queued, n = 290, 300
	for range queued { // waiting before the collector reads
		conn.Write(make([]byte, 200))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, func() Handler { return rec }) }()
	for i := queued; i < n; i++ {
		time.Sleep(20 * time.Millisecond)
		conn.Write(make([]byte, 200))
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		f := rec.flushed
		rec.mu.Unlock()
		if f == n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	reads := c.Reads()
	if rec.flushed != n || rec.pending != 0 {
		t.Errorf("%d datagrams flushed, %d not; want all %d flushed", rec.flushed, rec.pending, n)
	}
	if reads == 0 || reads > n || uint64(rec.flushes) != reads {
		t.Errorf("%d reads, %d flushes for %d datagrams", reads, rec.flushes, n)
	}
	if rec.wrong > 0 || rec.full < 2 || rec.full > queued/16 {
		t.Errorf("%d flushes said full wrongly; %d full reads of 16 for %d datagrams queued before the first read", rec.wrong, rec.full, queued)
	}
}
