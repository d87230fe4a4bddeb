package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
	"github.com/flowrt/flowrt/sflow"
	"github.com/flowrt/flowrt/sflowtool"
)

const decodeUsage = `Usage: flowrt decode [-p port | -r file] [output flag]

Decodes sFlow version 5 and prints it in sflowtool's formats, so that
sflowtool's scripts and habits work unchanged.

Input (default: UDP port 6343 on all addresses):
  -p port       listen for sFlow on this UDP port
  -listen addr  listen on this address:port instead (e.g. 127.0.0.1:6343, [::]:6343)
  -r file       read a pcap or pcapng capture ("-" for standard input)

Output (default: sflowtool's startDatagram ... endDatagram text):
  -g            one grep-able line per field, with its context
  -j            one JSON object per datagram per line
  -J            indented JSON, a blank line between datagrams
  -l            FLOW and CNTR lines (CSV)
  -L fields     chosen fields as CSV, one line per sample (e.g. -L agent,ifIndex,ifInOctets)
  -t            libpcap stream of the sampled packet headers, for tcpdump -r - or tshark -r -

NetFlow output (instead of text; as sflowtool -c/-d, records scaled by the sampling rate):
  -c host       send every flow sample as a record to this collector
  -d port       the collector's UDP port (default 2055)
  -N version    9 (NetFlow v9, the default here) or 10 (IPFIX); sflowtool's v5 is not built

Examples:
  flowrt decode -p 6343
  flowrt decode -j | ./emerging.py
  flowrt decode -t | tcpdump -r - -vv port 53
  flowrt decode -r capture.pcap -L agent,ifIndex,ifInOctets
`

func runDecode(args []string) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, decodeUsage) }
	port := fs.Int("p", 6343, "")
	listen := fs.String("listen", "", "")
	file := fs.String("r", "", "")
	grep := fs.Bool("g", false, "")
	jsonl := fs.Bool("j", false, "")
	jsonPretty := fs.Bool("J", false, "")
	line := fs.Bool("l", false, "")
	custom := fs.String("L", "", "")
	pcapOut := fs.Bool("t", false, "")
	nfHost := fs.String("c", "", "")
	nfPort := fs.Int("d", 2055, "")
	nfVersion := fs.Int("N", 9, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *nfHost != "" || fs.Lookup("d").Value.String() != "2055" || fs.Lookup("N").Value.String() != "9" {
		return runDecodeNetFlow(fs, *nfHost, *nfPort, *nfVersion, *listen, *port, *file)
	}
	mode, chosen := sflowtool.Text, 0
	opts := sflowtool.Options{Stderr: os.Stderr}
	for _, m := range []struct {
		on   bool
		mode sflowtool.Mode
	}{{*grep, sflowtool.Grep}, {*jsonl, sflowtool.JSONLines}, {*jsonPretty, sflowtool.JSON},
		{*line, sflowtool.Line}, {*custom != "", sflowtool.CustomLine}, {*pcapOut, sflowtool.Pcap}} {
		if m.on {
			mode, chosen = m.mode, chosen+1
		}
	}
	if chosen > 1 {
		fmt.Fprintln(os.Stderr, "flowrt decode: choose one output format (-g, -j, -J, -l, -L or -t)")
		return 2
	}
	if mode == sflowtool.CustomLine {
		opts.Fields = strings.Split(*custom, ",")
	}
	// A named file is read as fast as it can be: no reader waits for each
	// datagram, so output goes out in 512 KiB writes. Standard input may be
	// a live stream (tcpdump -w - | flowrt decode -r - -l) and, like a
	// socket, gets each datagram as it is decoded.
	opts.Batch = *file != "" && *file != "-"
	if mode == sflowtool.Pcap && isTerminal(os.Stdout) {
		fmt.Fprintln(os.Stderr, "flowrt decode: -t writes binary pcap; pipe it into tcpdump -r - or tshark -r -, or redirect it to a file")
		return 2
	}

	// A reader that goes away (tcpdump -c 10, head) ends the stream
	// cleanly: take EPIPE as an error instead of dying on SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	w, err := sflowtool.NewWriter(os.Stdout, mode, opts)
	if err != nil {
		return outputFailed(err)
	}
	st := &decodeStats{errors: map[string]int{}, found: newCensus()}
	if *file != "" {
		err = decodeFile(ctx, *file, w, st)
	} else {
		addr := *listen
		if addr == "" {
			addr = fmt.Sprintf(":%d", *port)
		}
		err = decodeUDP(ctx, addr, w, st)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	st.report()
	if msg := st.found.empty(st.where, *file == ""); msg != "" && (err == nil || errors.Is(err, context.Canceled)) {
		fmt.Fprintf(os.Stderr, "flowrt decode: %s\n", msg)
	}
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, syscall.EPIPE):
		return 0
	default:
		fmt.Fprintf(os.Stderr, "flowrt decode: %v\n", err)
		return 1
	}
}

func outputFailed(err error) int {
	if errors.Is(err, syscall.EPIPE) {
		return 0
	}
	fmt.Fprintf(os.Stderr, "flowrt decode: writing output: %v\n", err)
	return 1
}

// decodeStats counts datagrams and problems, and keeps stderr readable when
// a port receives junk at a high rate: at most 10 problem lines a second.
type decodeStats struct {
	datagrams  int
	errors     map[string]int
	window     time.Time
	inWindow   int
	suppressed int
	found      *census
	where      string // "in FILE", "on UDP ADDR": for the census report
}

func (s *decodeStats) problem(from string, err error) {
	s.errors[sflow.Reason(err)]++
	now := time.Now()
	if now.Sub(s.window) > time.Second {
		if s.suppressed > 0 {
			fmt.Fprintf(os.Stderr, "flowrt decode: %d more problems not shown\n", s.suppressed)
		}
		s.window, s.inWindow, s.suppressed = now, 0, 0
	}
	if s.inWindow++; s.inWindow > 10 {
		s.suppressed++
		return
	}
	fmt.Fprintf(os.Stderr, "flowrt decode: datagram %s skipped: %v\n", from, err)
}

func (s *decodeStats) report() {
	if len(s.errors) == 0 {
		return
	}
	var parts []string
	total := 0
	for k, v := range s.errors {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
		total += v
	}
	sort.Strings(parts)
	fmt.Fprintf(os.Stderr, "flowrt decode: %d datagrams, %d with problems (%s)\n", s.datagrams, total, strings.Join(parts, ", "))
}

// datagramIn is one UDP datagram to decode and where it came from.
type datagramIn struct {
	payload  []byte
	src      netip.AddrPort // printed as datagramSourceIP: the sender when live, none for a capture (as sflowtool)
	from     netip.AddrPort // the sender, for messages (also for a capture)
	dstPort  uint16
	received time.Time // zero for a capture
	captured time.Time // zero when live
}

func (s *decodeStats) write(w *sflowtool.Writer, in datagramIn) error {
	s.datagrams++
	err := w.Datagram(in.payload, in.src.Addr(), in.received, in.captured)
	var e *sflow.Error
	if err != nil && !errors.As(err, &e) {
		return err // an output error
	}
	if e == nil || e.Sample > 0 {
		s.found.sflow++
	} else {
		s.found.datagram(in.payload, in.from.Addr(), in.dstPort)
	}
	if err == nil {
		return nil
	}
	from := fmt.Sprintf("#%d", s.datagrams)
	if in.from.IsValid() {
		from += " from " + in.from.String()
	}
	if e.Sample == 0 {
		if l := looksLike(in.payload); l != notFlow && l != tooShort {
			err = fmt.Errorf("%w; it looks like %s", err, l)
		}
	}
	s.problem(from, err)
	return nil
}

func decodeFile(ctx context.Context, name string, w *sflowtool.Writer, st *decodeStats) error {
	st.where = "on standard input"
	if name != "-" {
		st.where = "in " + name
	}
	return eachPacket(ctx, name, func(p pcap.Packet) error {
		st.found.frames++
		u, ok := pcap.DecodeUDP(p.LinkType, p.Data)
		if !ok {
			st.found.frame(pcap.IPProtocol(p.LinkType, p.Data))
			return nil
		}
		return st.write(w, datagramIn{payload: u.Payload, from: u.Src, dstPort: u.Dst.Port(), captured: p.Time})
	})
}

// eachPacket gives fn every packet of a pcap or pcapng capture ("-":
// standard input) until the end, an error of fn's, or ctx ends.
func eachPacket(ctx context.Context, name string, fn func(p pcap.Packet) error) error {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	r, err := pcap.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for ctx.Err() == nil {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func decodeUDP(ctx context.Context, addr string, w *sflowtool.Writer, st *decodeStats) error {
	return eachDatagram(ctx, addr, func(local *net.UDPAddr) {
		st.where = "on UDP " + local.String()
	}, func(b []byte, src netip.AddrPort, local *net.UDPAddr) error {
		in := datagramIn{payload: b, src: src, from: src, dstPort: uint16(local.Port), received: time.Now()}
		if err := st.write(w, in); err != nil {
			return err
		}
		// Live: each datagram goes out as it arrives, as sflowtool's do, so
		// that a pipe (flowrt decode -j | ./emerging.py) sees it at once.
		return w.Flush()
	})
}

// eachDatagram listens on UDP addr and gives fn each datagram (valid
// until fn returns) with its sender, until ctx ends or fn fails; started
// is told the address listened on first.
func eachDatagram(ctx context.Context, addr string, started func(local *net.UDPAddr), fn func(b []byte, src netip.AddrPort, local *net.UDPAddr) error) error {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen for sFlow on UDP %s: %w (is another collector running? choose another port with -p)", addr, err)
	}
	defer conn.Close()
	uc := conn.(*net.UDPConn)
	_ = uc.SetReadBuffer(8 << 20)
	local := uc.LocalAddr().(*net.UDPAddr)
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info("listening for sFlow", "udp", local.String())
	started(local)
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, sflow.MaxDatagramSize)
	for {
		n, src, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := fn(buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), local); err != nil {
			return err
		}
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
