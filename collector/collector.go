// Package collector receives sFlow datagrams: from UDP sockets built for
// rate (one SO_REUSEPORT socket per core, batched recvmmsg reads that
// allocate nothing, a large receive buffer, kernel drop counts from
// SO_RXQ_OVFL), or from a capture file replayed at its recorded pace or as
// fast as possible. It hands each datagram to a Handler owned by the
// receiving goroutine and does not look inside.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Handler takes datagrams. Each receiving goroutine has its own, so a
// Handler need not be safe for concurrent use. b is valid only during the
// call.
type Handler interface {
	Process(b []byte, src netip.AddrPort, now time.Time)
}

// Flusher is a Handler that gathers datagrams (to hand them on in
// batches): Flush is called after each batch of datagrams read, before the
// goroutine waits for more. full says the read took as many datagrams as
// it could (Config.Batch), so more are likely waiting: the handler is
// behind the traffic.
type Flusher interface {
	Flush(full bool)
}

// Config says where and how to listen.
type Config struct {
	Addr       string // host:port; an empty host listens on every IPv4 and IPv6 address
	Sockets    int    // SO_REUSEPORT sockets (and goroutines); default: one per CPU
	ReadBuffer int    // bytes of kernel receive buffer per socket; default 8 MiB
	Batch      int    // datagrams per recvmmsg; default 64
	Logger     *slog.Logger
}

// DefaultReadBuffer is the receive buffer asked for each socket. The
// kernel's default (about 208 KiB) loses half the datagrams at 230k/s on
// this class of machine; 8 MiB loses none at 200k/s.
const DefaultReadBuffer = 8 << 20

// Collector is a set of listening sockets.
type Collector struct {
	cfg     Config
	conns   []*net.UDPConn
	granted int // receive buffer the kernel granted (per socket)
	drops   []atomic.Uint64
	reads   atomic.Uint64 // reads (recvmmsg calls) that returned datagrams
	log     *slog.Logger
}

// Listen opens the sockets. A port in use is an error that says so.
func Listen(cfg Config) (*Collector, error) {
	if cfg.Sockets <= 0 {
		cfg.Sockets = runtime.NumCPU()
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = DefaultReadBuffer
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Collector{cfg: cfg, log: cfg.Logger, drops: make([]atomic.Uint64, cfg.Sockets)}
	addr := cfg.Addr
	// SO_REUSEPORT would let a second flowrt join the first one's port and
	// silently take half its datagrams: bind once without it to find out.
	if probe, _, err := listen(addr, 0, false); err == nil {
		probe.Close()
	} else if errors.Is(err, errAddrInUse) {
		return nil, fmt.Errorf("sFlow port %s is in use by another program: stop it or choose another port (-Dsflow.port=…)", cfg.Addr)
	}
	for i := range cfg.Sockets {
		conn, granted, err := listen(addr, cfg.ReadBuffer, cfg.Sockets > 1)
		if err != nil {
			c.Close()
			if errors.Is(err, errAddrInUse) {
				return nil, fmt.Errorf("sFlow port %s is in use by another program: stop it or choose another port (-Dsflow.port=…)", cfg.Addr)
			}
			return nil, fmt.Errorf("listening for sFlow on %s: %w", cfg.Addr, err)
		}
		if i == 0 {
			c.granted = granted
			// With port 0 the kernel chose one: the other sockets share it.
			if host, _, err := net.SplitHostPort(addr); err == nil {
				addr = net.JoinHostPort(host, fmt.Sprint(conn.LocalAddr().(*net.UDPAddr).Port))
			}
		}
		c.conns = append(c.conns, conn)
	}
	return c, nil
}

// Addr returns the address the sockets listen on (useful with port 0).
func (c *Collector) Addr() netip.AddrPort {
	return c.conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
}

// Sockets returns the number of sockets.
func (c *Collector) Sockets() int { return len(c.conns) }

// ReadBuffer returns the receive buffer the kernel granted each socket.
func (c *Collector) ReadBuffer() int { return c.granted }

// KernelDrops returns the datagrams the kernel dropped because a socket's
// buffer was full, over all sockets: each socket's own drop counter
// (SO_MEMINFO) where the kernel has it, else the last SO_RXQ_OVFL count a
// datagram carried (which lags: it comes with the next datagram received).
func (c *Collector) KernelDrops() uint64 {
	var n uint64
	for i := range c.drops {
		if i < len(c.conns) {
			if m, ok := socketDrops(c.conns[i]); ok {
				storeMax(&c.drops[i], m) // kept: a closed socket answers no more
			}
		}
		n += c.drops[i].Load()
	}
	return n
}

// Reads returns the number of reads (recvmmsg calls, or single reads where
// there is none) that returned datagrams: datagrams per read says how well
// reads are batched, and so how often the receiving goroutines wake.
func (c *Collector) Reads() uint64 { return c.reads.Load() }

// storeMax raises v to n; counts only grow.
func storeMax(v *atomic.Uint64, n uint64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// Close closes the sockets, keeping their last drop counts.
func (c *Collector) Close() {
	c.KernelDrops()
	for _, conn := range c.conns {
		conn.Close()
	}
}

// Run receives on every socket until ctx ends, each socket on its own
// goroutine with the Handler newHandler returns for it.
func (c *Collector) Run(ctx context.Context, newHandler func() Handler) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(c.conns))
	for i, conn := range c.conns {
		h := newHandler()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := receive(conn, h, c.cfg.Batch, &c.drops[i], &c.reads); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}()
	}
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	wg.Wait()
	close(errs)
	return <-errs
}

// receiveSimple is the portable receive loop: one datagram per system call.
func receiveSimple(conn *net.UDPConn, h Handler, reads *atomic.Uint64) error {
	buf := make([]byte, 65536)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		reads.Add(1)
		h.Process(buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), time.Now())
		if f, ok := h.(Flusher); ok {
			f.Flush(false) // one datagram a read: nothing says whether more wait
		}
	}
}
