package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/internal/pcap"
)

// decodeNetFlow is flowrt decode -c host [-d port] [-N 9|10]: like
// sflowtool's NetFlow output, every flow sample received (or read from a
// capture) goes to the collector as one record, scaled by the sampling
// rate. The samples are decoded by an engine of no definitions, the same
// path (and export.Samples conversion) as the engine's netflow.collectors.
func decodeNetFlow(ctx context.Context, host string, port, version int, addr, file string) error {
	if version != 9 && version != 10 {
		return fmt.Errorf("-N %d: flowrt sends NetFlow v9 (-N 9) or IPFIX (-N 10); NetFlow v5 is not built", version)
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("-d %d: the collector's UDP port is 1 to 65535", port)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := engine.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler) // agents coming and going are not this command's output
	e := engine.New(cfg)
	conv, err := export.NewSamples(e.Compiler(), uint16(version), []string{net.JoinHostPort(host, strconv.Itoa(port))}, time.Minute, log)
	if err != nil {
		return err
	}
	e.SetSampleHook(conv.Add)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { conv.Run(runCtx); close(done) }()
	defer func() {
		stop()
		<-done // the last records flushed
		st := conv.Stats()
		log.Info("records sent", "collector", st.Destination, "records", st.Sent, "messages", st.Batches, "dropped", st.Dropped)
	}()
	if file != "" {
		return netflowFile(ctx, file, e.NewReplayWorker())
	}
	w := e.NewWorker()
	return eachDatagram(ctx, addr, func(*net.UDPAddr) {}, func(b []byte, src netip.AddrPort, _ *net.UDPAddr) error {
		w.Process(b, src, time.Now())
		return nil
	})
}

// netflowFile converts the sFlow in a capture, at the capture's times.
func netflowFile(ctx context.Context, name string, w *engine.Worker) error {
	return eachPacket(ctx, name, func(p pcap.Packet) error {
		if u, ok := pcap.DecodeUDP(p.LinkType, p.Data); ok {
			w.Process(u.Payload, u.Src, p.Time)
		}
		return nil
	})
}

// runDecodeNetFlow checks the NetFlow flags and runs decodeNetFlow.
func runDecodeNetFlow(fs *flag.FlagSet, host string, nfPort, version int, listen string, port int, file string) int {
	if host == "" {
		fmt.Fprintln(os.Stderr, "flowrt decode: -d and -N need -c host, the NetFlow collector")
		return 2
	}
	for _, f := range []string{"g", "j", "J", "l", "L", "t"} {
		if v := fs.Lookup(f).Value.String(); v != "false" && v != "" {
			fmt.Fprintf(os.Stderr, "flowrt decode: -c sends NetFlow instead of printing; -%s cannot go with it\n", f)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr := listen
	if addr == "" {
		addr = fmt.Sprintf(":%d", port)
	}
	if err := decodeNetFlow(ctx, host, nfPort, version, addr, file); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "flowrt decode: %v\n", err)
		return 1
	}
	return 0
}
