package tenant

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

// BenchmarkLoopback is the collector with 1,000 tenants of 10 CIDRs each:
// synthetic sFlow from 16 agents over real UDP on 127.0.0.1 into the
// collector and the engine (two flow definitions), split for the tenants,
// whose streams go to a UDP socket on 127.0.0.1. At 100k datagrams/s it
// reports the loss the engine's counters show (datagrams missing, kernel
// drops) and what the tenants got: datagrams sent and dropped per second.
// owning says how many tenants own some of the traffic (benchSplitter).
//
//	go test ./tenant -run '^$' -bench Loopback -benchtime 1000000x
func BenchmarkLoopback(b *testing.B) {
	b.Run("no-tenants", func(b *testing.B) { tenantLoopback(b, -1) })
	b.Run("owning=0", func(b *testing.B) { tenantLoopback(b, 0) })
	b.Run("owning=30", func(b *testing.B) { tenantLoopback(b, 30) })
}

func tenantLoopback(b *testing.B, owning int) {
	const rate = 100_000
	cfg := engine.Config{Logger: slog.New(slog.DiscardHandler)}
	var s *Splitter
	if owning >= 0 {
		var done func()
		s, done = benchSplitter(b, owning)
		defer done()
		cfg.Split = s.Process
	}
	e := engine.New(cfg)
	for name, body := range map[string]string{"pairs": "{keys:'ipsource,ipdestination',value:'bytes'}", "total": "{value:'frames'}"} {
		spec, err := flow.ParseSpec([]byte(body))
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Define(name, spec); err != nil {
			b.Fatal(err)
		}
	}
	c, err := collector.Listen(collector.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- c.Run(ctx, func() collector.Handler { return e.NewWorker() }) }()
	g, _ := synth.New(synth.Config{Agents: 16, Ports: 16, Flows: 10_000, Seed: 4})
	var conns []net.Conn
	for range 16 {
		conn, err := net.Dial("udp", c.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
	}
	dgs := make([][]byte, 4096) // agent i%16 for datagram i
	for i := range dgs {
		dgs[i], _ = g.Datagram(nil, 1000)
	}
	seqs := make([]uint32, 16)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := range b.N {
		if i%100 == 0 { // pace in steps of 100 datagrams
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		d := dgs[i%len(dgs)]
		a := i % 16
		seqs[a]++
		binary.BigEndian.PutUint32(d[16:], seqs[a]) // after version, address type, agent, sub-agent
		conns[a].Write(d)
	}
	sent := time.Since(start)
	b.StopTimer()
	deadline := time.Now().Add(10 * time.Second)
	for e.Totals().Datagrams < uint64(b.N) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the sender's queue drains
	cpu := cpuTime() - cpu0
	cancel()
	<-stopped
	var out, dropped, samples uint64
	for _, t := range s.all() {
		out += t.DatagramsForwarded
		dropped += t.DatagramsDropped
		samples += t.SamplesForwarded
	}
	got := e.Totals().Datagrams
	b.ReportMetric(float64(b.N)/sent.Seconds(), "offered/s")
	b.ReportMetric(100*float64(uint64(b.N)-got)/float64(b.N), "%lost")
	b.ReportMetric(float64(c.KernelDrops()), "kernel-drops")
	b.ReportMetric(float64(out)/sent.Seconds(), "tenant-sent/s")
	b.ReportMetric(float64(dropped), "tenant-dropped")
	b.ReportMetric(100*float64(samples)/float64(8*b.N), "%samples-to-tenants")
	// The process's CPU (collector, engine, splitter, sender, the sink
	// and the sending loop alike) per datagram: 2 cores keep up with
	// 100k datagrams/s while this stays under 20 µs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/dgram")
}

// all is All of a splitter that may be nil.
func (s *Splitter) all() map[string]Status {
	if s == nil {
		return nil
	}
	return s.All()
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
