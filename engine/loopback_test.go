package engine

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/internal/synth"
)

// BenchmarkLoopback is the load harness: synthetic sFlow from 16 agents (one
// sender socket each) over real UDP on 127.0.0.1 into the collector
// (SO_REUSEPORT sockets, recvmmsg) and the engine with the ten definitions,
// at 100k datagrams/s and as fast as the sender can go. It reports the rate
// offered and the loss the engine's own counters show: datagrams missing,
// sequence gaps and kernel drops.
//
//	go test ./engine -run '^$' -bench Loopback -benchtime 1000000x
func BenchmarkLoopback(b *testing.B) {
	b.Run("100k", func(b *testing.B) { loopback(b, 100_000) })
	b.Run("max", func(b *testing.B) { loopback(b, 0) })
}

func loopback(b *testing.B, rate float64) {
	e := New(Config{})
	defineAll(b, e, nil)
	c, err := collector.Listen(collector.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, func() collector.Handler { return e.NewWorker() }) }()
	g, _ := synth.New(synth.Config{Agents: 16, Ports: 16, Flows: 10_000, Seed: 4})
	var conns []net.Conn
	for range 16 {
		conn, err := net.Dial("udp", c.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
	}
	dgs := make([][]byte, 4096) // agent i%16 for datagram i: the generator takes agents in turn
	for i := range dgs {
		dgs[i], _ = g.Datagram(nil, 1000)
	}
	seqs := make([]uint32, 16)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if rate > 0 && i%100 == 0 { // pace in steps of 100 datagrams
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		d := dgs[i%len(dgs)]
		// The datagrams repeat: renumber each agent's (at byte 16, after
		// version, address type, IPv4 agent and sub-agent).
		a := i % 16
		seqs[a]++
		binary.BigEndian.PutUint32(d[16:], seqs[a])
		conns[a].Write(d)
	}
	sent := time.Since(start)
	b.StopTimer()
	deadline := time.Now().Add(10 * time.Second)
	for e.Totals().Datagrams < uint64(b.N) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	got := e.Totals().Datagrams
	var gaps uint64
	for _, a := range e.AgentsInfo(AllAgents, time.Now()) {
		gaps += a.DatagramsLost
	}
	b.ReportMetric(float64(b.N)/sent.Seconds(), "offered/s")
	b.ReportMetric(100*float64(uint64(b.N)-got)/float64(b.N), "%lost")
	b.ReportMetric(float64(gaps), "seq-gaps")
	b.ReportMetric(float64(c.KernelDrops()), "kernel-drops")
}
