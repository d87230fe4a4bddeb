package engine

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/internal/synth"
)

// BenchmarkE2E is the collector end to end, costed by the engine process's
// own CPU counters (getrusage: user + system time of every thread, GC and
// receive system calls included) so that the figure does not depend on the
// sender, which runs in a process of its own (this test binary, re-run as
// TestE2ESender). Each case sends b.N datagrams of the synthetic mix (8
// flow samples each) into the collector and the ten definitions, then puts
// the same datagrams through a Worker in-process (BenchmarkPipeline's
// path) and reports both as CPU ms per million samples, with their ratio,
// the rate offered, and the loss as the engine counts it.
//
// Each case runs twice: "direct", each receiving goroutine applying its
// datagrams (a Worker per socket), and "fanout", through Fanout (a Reader
// per socket, a worker per core).
//
// Cases: 16 agents over 16 sending sockets (each its own source port), 16
// agents over one socket, and one agent over one socket (one exporter: one
// source address and port, which SO_REUSEPORT hashes to one socket). The
// rates are E2E_RATES (datagrams/s, comma-separated; 0 = as fast as the
// sender goes; default 100000,0).
//
//	go test ./engine -run '^$' -bench E2E -benchtime 500000x
//	E2E_RATES=50000,75000,100000,125000 go test ./engine -run '^$' -bench 'E2E/1agent' -benchtime 500000x
func BenchmarkE2E(b *testing.B) {
	rates := []float64{100_000, 0}
	if s := os.Getenv("E2E_RATES"); s != "" {
		rates = nil
		for _, f := range strings.Split(s, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				b.Fatalf("E2E_RATES: %v", err)
			}
			rates = append(rates, r)
		}
	}
	for _, c := range []struct {
		name            string
		agents, sockets int
	}{{"16agents-16sockets", 16, 16}, {"16agents-1socket", 16, 1}, {"1agent-1socket", 1, 1}} {
		for _, r := range rates {
			for _, fan := range []bool{false, true} {
				name := c.name + "/direct"
				if fan {
					name = c.name + "/fanout"
				}
				if r > 0 {
					name = fmt.Sprintf("%s/%gk", name, r/1000)
				} else {
					name += "/max"
				}
				b.Run(name, func(b *testing.B) { e2e(b, c.agents, c.sockets, r, fan) })
			}
		}
	}
}

// e2eDatagrams is the traffic both halves of BenchmarkE2E use.
func e2eDatagrams(agents int) [][]byte {
	g, _ := synth.New(synth.Config{Agents: agents, Ports: 16, Flows: 10_000, Seed: 4})
	dgs := make([][]byte, 4096)
	for i := range dgs {
		dgs[i], _ = g.Datagram(nil, 1000)
	}
	return dgs
}

func cpuTime() time.Duration {
	u, s := cpuTimes()
	return u + s
}

// cpuTimes returns the process's user and system CPU time.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

type e2eSent struct {
	Datagrams int     `json:"datagrams"`
	Seconds   float64 `json:"seconds"`
	CPU       float64 `json:"cpuSeconds"`
}

func e2e(b *testing.B, agents, sockets int, rate float64, fan bool) {
	quiet := slog.New(slog.DiscardHandler)
	e := New(Config{Logger: quiet})
	defineAll(b, e, nil)
	c, err := collector.Listen(collector.Config{Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	handler := func() collector.Handler { return e.NewWorker() }
	var f *Fanout
	if fan {
		f = e.NewFanout(runtime.NumCPU())
		go f.Run(ctx)
		handler = func() collector.Handler { return f.NewReader() }
	}
	go func() { done <- c.Run(ctx, handler) }()

	cmd := exec.Command(os.Args[0], "-test.run", "^TestE2ESender$")
	cmd.Env = append(os.Environ(), "E2E_SEND="+strings.Join([]string{c.Addr().String(),
		strconv.Itoa(b.N), strconv.Itoa(agents), strconv.Itoa(sockets), strconv.FormatFloat(rate, 'f', -1, 64)}, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	b.ResetTimer()
	user0, sys0 := cpuTimes()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var sent e2eSent
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "E2E-SENT "); ok {
			json.Unmarshal([]byte(s), &sent)
		}
	}
	if err := cmd.Wait(); err != nil || sent.Datagrams != b.N {
		b.Fatalf("sender: %v (sent %d of %d)", err, sent.Datagrams, b.N)
	}
	// Wait for what is still queued: until all arrived, or nothing more
	// for 200 ms.
	last, lastAt := e.Totals().Datagrams, time.Now()
	for last < uint64(b.N) && time.Since(lastAt) < 200*time.Millisecond {
		time.Sleep(5 * time.Millisecond)
		if n := e.Totals().Datagrams; n != last {
			last, lastAt = n, time.Now()
		}
	}
	user1, sys1 := cpuTimes()
	cpu, sys := user1-user0+sys1-sys0, sys1-sys0
	b.StopTimer()
	cancel()
	<-done
	tot := e.Totals()
	var gaps uint64
	for _, a := range e.AgentsInfo(AllAgents, time.Now()) {
		gaps += a.DatagramsLost
	}

	// The same datagrams in-process, on this goroutine, costed the same way.
	in := New(Config{Logger: quiet})
	defineAll(b, in, nil)
	w := in.NewWorker()
	dgs := e2eDatagrams(agents)
	now := time.Now()
	for _, d := range dgs { // tables warm, as the loopback's are by now
		w.Process(d, src, now)
	}
	n := min(b.N, 200_000)
	samples0 := w.stats.Samples.Load()
	cpuIn0 := cpuTime()
	for i := range n {
		w.Process(dgs[i%len(dgs)], src, now)
	}
	cpuIn := cpuTime() - cpuIn0
	samplesIn := w.stats.Samples.Load() - samples0

	perM := func(d time.Duration, samples uint64) float64 { return d.Seconds() * 1e3 / (float64(samples) / 1e6) }
	e2eMs, inMs := perM(cpu, tot.Samples), perM(cpuIn, samplesIn)
	b.ReportMetric(float64(b.N)/sent.Seconds, "offered/s")
	b.ReportMetric(100*float64(uint64(b.N)-tot.Datagrams)/float64(b.N), "%lost")
	b.ReportMetric(float64(gaps), "seq-gaps")
	b.ReportMetric(float64(c.KernelDrops()), "kernel-drops")
	b.ReportMetric(e2eMs, "e2e-cpu-ms/Msample")
	b.ReportMetric(inMs, "inproc-cpu-ms/Msample")
	b.ReportMetric(e2eMs/inMs, "e2e/inproc")
	b.ReportMetric(cpu.Seconds()/sent.Seconds, "cores")
	b.ReportMetric(100*sys.Seconds()/cpu.Seconds(), "%sys")
	b.ReportMetric(sent.CPU/sent.Seconds, "sender-cores")
	b.ReportMetric(float64(tot.Datagrams)/float64(max(c.Reads(), 1)), "dgrams/read")
	if f != nil {
		handed, inline := f.Handed()
		b.ReportMetric(100*float64(handed)/float64(max(handed+inline, 1)), "%to-workers")
	}
}

// TestE2ESender is BenchmarkE2E's sender, run in a process of its own; it
// does nothing otherwise. E2E_SEND is addr,datagrams,agents,sockets,rate.
func TestE2ESender(t *testing.T) {
	spec := os.Getenv("E2E_SEND")
	if spec == "" {
		t.Skip("BenchmarkE2E's sender: runs only as its child process")
	}
	f := strings.Split(spec, ",")
	n, _ := strconv.Atoi(f[1])
	agents, _ := strconv.Atoi(f[2])
	sockets, _ := strconv.Atoi(f[3])
	rate, _ := strconv.ParseFloat(f[4], 64)
	var conns []net.Conn
	for range sockets {
		conn, err := net.Dial("udp", f[0])
		if err != nil {
			t.Fatal(err)
		}
		conn.(*net.UDPConn).SetWriteBuffer(4 << 20)
		conns = append(conns, conn)
	}
	dgs := e2eDatagrams(agents) // agent i%agents for datagram i
	seqs := make([]uint32, agents)
	cpu0 := cpuTime()
	start := time.Now()
	for i := range n {
		if rate > 0 && i%100 == 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		d := dgs[i%len(dgs)]
		a := i % agents
		seqs[a]++
		binary.BigEndian.PutUint32(d[16:], seqs[a]) // the datagram sequence number
		for {
			if _, err := conns[a%sockets].Write(d); err == nil {
				break
			}
			// ECONNREFUSED from an ICMP of an earlier send: send again.
		}
	}
	el := time.Since(start)
	out, _ := json.Marshal(e2eSent{Datagrams: n, Seconds: el.Seconds(), CPU: (cpuTime() - cpu0).Seconds()})
	fmt.Printf("E2E-SENT %s\n", out)
}
