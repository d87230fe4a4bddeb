package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
)

const sendUsage = `Usage: flowrt send [flags]

Sends sFlow to a collector: the datagrams of a capture (-r), or a synthetic
mix of agents and flows (the default). Sequence numbers stay right, also when
a capture is looped. Prints what it sent, as JSON, at the end.

Flags:
  -to addr        collector (default 127.0.0.1:6343)
  -rate n         datagrams per second (0: as fast as possible; default 1000)
  -duration d     how long to send (default 10s)
  -count n        stop after n datagrams (0: no limit)
  -r file         send the UDP payloads of this pcap/pcapng capture, looped (from one socket)
  -sockets n      sending sockets, each its own source port (default 0: one per agent, up to 64;
                  1: every agent from one address and port, as one exporter or relay is)
  synthetic mix:
  -agents n       agents (default 4)      -ports n     ports per agent (default 8)
  -flows n        flows (default 1000)    -zipf s      flow-size exponent (default 1.1)
  -sampling n     sampling rate (default 1000)
  -samples n      flow samples per datagram (default 8)
  -mix list       protocols: tcp,udp,dns,unreachable (default all four);
                  reflection adds a DNS amplification flood (UDP from port 53),
                  syn a TCP SYN flood (64-byte SYNs to port 80),
                  roce RoCEv2 (UDP 4791: RDMA WRITEs, one flow in 8 CNPs),
                  dtn XRootD over IPv6 (TCP 1094, jumbo frames) with tcp_info records
  -counters d     counter-sample interval (default 20s; 0: none)
  -seed n         random seed (default 1)
  -hosts          each agent is also a Linux host: host_descr and host_cpu counters (load_one 0.25, 0.5, …)
  -drops          each datagram also carries a discarded-packet sample (reasons unknown_l3, ttl_exceeded,
                  acl, no_buffer_space in turn)
  -containers n   each agent also reports n containers (a k8s pod, a systemd service, a Swarm task,
                  a Docker container, in turn) with virt_cpu at 10%, 20%, … of a CPU

Examples:
  flowrt send -rate 100000 -duration 30s
  flowrt send -r capture.pcap -to 127.0.0.1:6344
`

// sendReport is what send prints.
type sendReport struct {
	Datagrams      int           `json:"datagrams"`
	Bytes          int           `json:"bytes"`
	FlowSamples    int           `json:"flowSamples"`
	CounterSamples int           `json:"counterSamples"`
	Seconds        float64       `json:"seconds"`
	Rate           float64       `json:"datagramsPerSecond"`
	SendErrors     int           `json:"sendErrors"`
	Sockets        int           `json:"sockets,omitempty"` // sending sockets (source ports)
	Flows          []sentFlow    `json:"topFlows,omitempty"`
	Agents         []string      `json:"agents,omitempty"`
	Config         *synth.Config `json:"config,omitempty"`
}

type sentFlow struct {
	Proto   string `json:"proto"`
	Key     string `json:"key"` // ipsource,ipdestination of the sampled packets
	DstPort uint16 `json:"dstPort"`
	Samples uint64 `json:"samples"`
	Frames  uint64 `json:"frames"` // samples × sampling rate
	Bytes   uint64 `json:"bytes"`
}

func runSend(args []string) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, sendUsage) }
	to := fs.String("to", "127.0.0.1:6343", "")
	rate := fs.Float64("rate", 1000, "")
	duration := fs.Duration("duration", 10*time.Second, "")
	count := fs.Int("count", 0, "")
	file := fs.String("r", "", "")
	sockets := fs.Int("sockets", 0, "")
	cfg := synth.DefaultConfig()
	fs.IntVar(&cfg.Agents, "agents", cfg.Agents, "")
	fs.IntVar(&cfg.Ports, "ports", cfg.Ports, "")
	fs.IntVar(&cfg.Flows, "flows", cfg.Flows, "")
	fs.Float64Var(&cfg.Zipf, "zipf", cfg.Zipf, "")
	sampling := fs.Uint("sampling", uint(cfg.SamplingRate), "")
	fs.IntVar(&cfg.SamplesPerDgram, "samples", cfg.SamplesPerDgram, "")
	mix := fs.String("mix", "tcp,udp,dns,unreachable", "")
	counters := fs.Duration("counters", 20*time.Second, "")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "")
	fs.BoolVar(&cfg.Hosts, "hosts", false, "")
	fs.BoolVar(&cfg.Discards, "drops", false, "")
	fs.IntVar(&cfg.Containers, "containers", 0, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.SamplingRate = uint32(*sampling)
	cfg.Mix = nil
	for _, m := range strings.Split(*mix, ",") {
		switch p := synth.Proto(strings.TrimSpace(m)); p {
		case synth.TCP, synth.UDP, synth.DNS, synth.Unreachable, synth.Reflection, synth.SYNFlood, synth.RoCE, synth.DTN:
			cfg.Mix = append(cfg.Mix, p)
		default:
			fmt.Fprintf(os.Stderr, "flowrt send: unknown protocol %q in -mix (tcp, udp, dns, unreachable, reflection, syn, roce, dtn)\n", m)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rep sendReport
	var err error
	if *file != "" {
		rep, err = sendCapture(ctx, *file, *to, *rate, *duration, *count)
	} else {
		rep, err = sendSynthetic(ctx, cfg, *to, *rate, *duration, *count, *counters, *sockets)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt send: %v\n", err)
		return 1
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(out))
	return 0
}

// pacer spaces sends to a rate, sleeping in ticks of at least a
// millisecond so that high rates do not cost a system call per datagram.
type pacer struct {
	rate     float64
	start    time.Time
	reported time.Time
}

// progress prints a line on standard error every 5 s of a long send.
func (p *pacer) progress(sent int) {
	if p.reported.IsZero() {
		p.reported = p.start
	}
	if time.Since(p.reported) >= 5*time.Second {
		p.reported = time.Now()
		el := time.Since(p.start).Seconds()
		fmt.Fprintf(os.Stderr, "flowrt send: %d datagrams in %.0f s (%.0f/s)\n", sent, el, float64(sent)/el)
	}
}

func (p *pacer) wait(ctx context.Context, sent int) bool {
	if sent%1024 == 0 {
		p.progress(sent)
	}
	if p.rate <= 0 {
		return ctx.Err() == nil
	}
	due := p.start.Add(time.Duration(float64(sent) / p.rate * float64(time.Second)))
	if d := time.Until(due); d > time.Millisecond {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

// senders are UDP sockets, by default one per agent up to a bound, so
// that a SO_REUSEPORT collector spreads agents over its sockets as it would
// real agents; agent i sends from socket i mod their number (-sockets 1:
// all from one).
type senders struct {
	conns []*net.UDPConn
}

func dialSenders(to string, n int) (*senders, error) {
	addr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		return nil, fmt.Errorf("collector address %q: %w", to, err)
	}
	s := &senders{}
	for range max(min(n, 64), 1) {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sending to %s: %w", to, err)
		}
		c.SetWriteBuffer(4 << 20)
		s.conns = append(s.conns, c)
	}
	return s, nil
}

func (s *senders) send(i int, b []byte) error {
	_, err := s.conns[i%len(s.conns)].Write(b)
	return err
}

func (s *senders) close() {
	for _, c := range s.conns {
		c.Close()
	}
}

func sendSynthetic(ctx context.Context, cfg synth.Config, to string, rate float64, duration time.Duration, count int, counterEvery time.Duration, sockets int) (sendReport, error) {
	g, err := synth.New(cfg)
	if err != nil {
		return sendReport{}, err
	}
	cfg = g.Config()
	if sockets <= 0 {
		sockets = cfg.Agents
	}
	conns, err := dialSenders(to, sockets)
	if err != nil {
		return sendReport{}, err
	}
	defer conns.close()
	var rep sendReport
	rep.Sockets = len(conns.conns)
	p := pacer{rate: rate, start: time.Now()}
	end := p.start.Add(duration)
	nextCounters := p.start
	buf := make([]byte, 0, 65536)
	for i := 0; (count == 0 || i < count) && time.Now().Before(end); i++ {
		if !p.wait(ctx, i) {
			break
		}
		uptime := uint32(time.Since(p.start).Milliseconds()) + 1000
		if counterEvery > 0 && !time.Now().Before(nextCounters) {
			dgs, err := g.Counters(nil, uptime)
			if err != nil {
				return rep, err
			}
			for j, d := range dgs {
				if conns.send(j, d) != nil {
					rep.SendErrors++
				}
				rep.Datagrams++
				rep.Bytes += len(d)
				rep.CounterSamples += cfg.Ports
				if cfg.Hosts {
					rep.CounterSamples++
				}
			}
			nextCounters = nextCounters.Add(counterEvery)
		}
		agent := i % cfg.Agents
		b, err := g.Datagram(buf[:0], uptime)
		if err != nil {
			return rep, err
		}
		if conns.send(agent, b) != nil {
			rep.SendErrors++
		}
		rep.Datagrams++
		rep.Bytes += len(b)
		rep.FlowSamples += cfg.SamplesPerDgram
	}
	rep.Seconds = time.Since(p.start).Seconds()
	rep.Rate = float64(rep.Datagrams) / rep.Seconds
	flows := g.Flows()
	for i := range min(len(flows), 20) {
		f := flows[i]
		rep.Flows = append(rep.Flows, sentFlow{Proto: string(f.Proto), Key: f.Key(), DstPort: f.DstPort,
			Samples: g.Sent[i], Frames: g.Sent[i] * uint64(cfg.SamplingRate), Bytes: g.Sent[i] * uint64(cfg.SamplingRate) * uint64(f.Size)})
	}
	for _, a := range g.Agents() {
		rep.Agents = append(rep.Agents, a.String())
	}
	rep.Config = &cfg
	return rep, nil
}

// sendCapture loops over a capture's sFlow datagrams, renumbering datagram
// and sample sequence numbers so that every loop continues the last.
func sendCapture(ctx context.Context, file, to string, rate float64, duration time.Duration, count int) (sendReport, error) {
	var dgs [][]byte
	f, err := os.Open(file)
	if err != nil {
		return sendReport{}, err
	}
	r, err := pcap.NewReader(f)
	if err != nil {
		f.Close()
		return sendReport{}, fmt.Errorf("%s: %w", file, err)
	}
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return sendReport{}, fmt.Errorf("%s: %w", file, err)
		}
		if u, ok := pcap.DecodeUDP(p.LinkType, p.Data); ok {
			dgs = append(dgs, append([]byte(nil), u.Payload...))
		}
	}
	f.Close()
	if len(dgs) == 0 {
		return sendReport{}, fmt.Errorf("%s has no UDP datagrams", file)
	}
	conns, err := dialSenders(to, 1)
	if err != nil {
		return sendReport{}, err
	}
	defer conns.close()
	type dsKey struct {
		agent  string
		sub    uint32
		format sflow.DataFormat
		class  uint32
		index  uint32
	}
	seqs := map[dsKey]uint32{}
	var rep sendReport
	var d sflow.Datagram
	p := pacer{rate: rate, start: time.Now()}
	end := p.start.Add(duration)
	out := make([]byte, 0, 65536)
	for i := 0; (count == 0 || i < count) && time.Now().Before(end); i++ {
		if !p.wait(ctx, i) {
			break
		}
		b := dgs[i%len(dgs)]
		if i >= len(dgs) { // a later loop: continue the sequence numbers
			if err := sflow.Decode(b, &d); err == nil {
				k := dsKey{agent: d.Agent.String(), sub: d.SubAgentID}
				seqs[k]++
				d.Sequence = seqs[k]
				for j := range d.Samples {
					s := &d.Samples[j]
					sk := dsKey{k.agent, k.sub, s.Format, s.SourceClass, s.SourceIndex}
					seqs[sk]++
					s.Sequence = seqs[sk]
					if s.Format.IsFlow() { // a looped capture's samples count each time they are sent
						rep.FlowSamples++
					} else if s.Format.IsCounter() {
						rep.CounterSamples++
					}
				}
				if enc, err := d.AppendBinary(out[:0]); err == nil {
					b = enc
				}
			}
		} else if err := sflow.Decode(b, &d); err == nil {
			k := dsKey{agent: d.Agent.String(), sub: d.SubAgentID}
			seqs[k] = max(seqs[k], d.Sequence)
			for j := range d.Samples {
				s := &d.Samples[j]
				sk := dsKey{k.agent, k.sub, s.Format, s.SourceClass, s.SourceIndex}
				seqs[sk] = max(seqs[sk], s.Sequence)
				if s.Format.IsFlow() {
					rep.FlowSamples++
				} else if s.Format.IsCounter() {
					rep.CounterSamples++
				}
			}
		}
		if conns.send(0, b) != nil {
			rep.SendErrors++
		}
		rep.Datagrams++
		rep.Bytes += len(b)
	}
	rep.Seconds = time.Since(p.start).Seconds()
	rep.Rate = float64(rep.Datagrams) / rep.Seconds
	return rep, nil
}
