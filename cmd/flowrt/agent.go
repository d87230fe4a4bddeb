package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/agent"
)

const agentUsage = `Usage: flowrt agent [-c /etc/hsflowd.conf] [-v]

A Host sFlow agent, like hsflowd: this host's counters (CPU, memory, disk,
network, MIB-2, every interface; containers with docker { }, Kubernetes
pods with k8s { } or containerd { }) every polling interval, and packets
sampled 1-in-N in the kernel on each pcap { dev=… }.

  -c file   hsflowd-style configuration (default /etc/hsflowd.conf):
              sflow {
                collector { ip=10.0.0.70 udpport=6343 }   # one or more
                polling=20  sampling=400  headerBytes=128  agentIP=…  agent=eth0
                pcap { dev=eth0 }  pcap { dev=docker0 sampling=100 }
                docker { }        # or k8s { containerdState=/run/containerd }
                systemd { markTraffic=on }  tcp { }
              }
  -v        log each datagram's counts every polling interval

The sflow/host-sflow image's environment works too: COLLECTOR (addresses,
optionally :port), SAMPLING, POLLING, NET (host: every physical interface
and docker0; none; or a device list). With COLLECTOR set, the file may be
absent.
`

func runAgent(args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, agentUsage) }
	file := fs.String("c", "/etc/hsflowd.conf", "")
	verbose := fs.Bool("v", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "c" })
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := agent.LoadConfig(*file, explicit)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt agent: %v\n", err)
		return 2
	}
	a, err := agent.New(cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt agent: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	counts := func() []any {
		return []any{"datagrams", a.Datagrams.Load(), "flow_samples", a.FlowSamples.Load(),
			"counter_samples", a.CounterSamples.Load(), "send_errors", a.SendErrors.Load()}
	}
	if *verbose {
		go func() {
			t := time.NewTicker(cfg.Polling)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					log.Info("agent", counts()...)
				}
			}
		}()
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "flowrt agent: %v\n", err)
		return 1
	}
	log.Info("agent stopped", counts()...)
	return 0
}
