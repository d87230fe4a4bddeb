package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/api"
	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/geo"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/script"
	"github.com/flowrt/flowrt/state"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
	"github.com/flowrt/flowrt/web"
)

const serveUsage = `Usage: flowrt [serve] [-Dname=value | -name=value]...

Runs the analytics engine: sFlow in on UDP 6343, REST and web on TCP 8008.
Properties are sFlow-RT's: as -Dname=value arguments, in the RTPROP
environment variable, or as flags of the same name (-http.port=8080).

Properties:
%s
Examples:
  flowrt
  flowrt -Dhttp.port=8080 -Dsflow.port=6344
  RTPROP="-Dhttp.readonly=yes" flowrt
  flowrt -Dsflow.file=capture.pcap -Dsflow.file.realtime=no
`

func runServe(args []string) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintf(os.Stderr, serveUsage, propertiesUsage())
			return 0
		}
	}
	props, rest, err := parseProperties(args, os.Getenv("RTPROP"))
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q (properties are -Dname=value)", rest[0])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, props, nil); err != nil {
		fmt.Fprintf(os.Stderr, "flowrt: %v\n", err)
		return 1
	}
	return 0
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	if err != nil {
		return 0, fmt.Errorf("log.level=%q: use debug, info, warn or error", s)
	}
	return l, nil
}

// serve runs the engine until ctx ends. ready, when not nil, is told the
// addresses once everything listens.
func serve(ctx context.Context, p properties, ready func(sflow, http string)) error {
	level, err := logLevel(p.str("log.level"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := engine.DefaultConfig()
	cfg.Logger = log
	var errs []error
	var n int
	if n, err = p.int("flow.max"); err == nil {
		cfg.MaxFlows = int64(n)
	}
	errs = append(errs, err)
	if n, err = p.int("flows.max"); err == nil {
		cfg.FlowLogSize = n
	}
	errs = append(errs, err)
	cfg.DataSourceTimeout, err = p.seconds("datasource.timeout")
	errs = append(errs, err)
	cfg.AgentTimeout, err = p.seconds("agent.timeout")
	errs = append(errs, err)
	readonly, err := p.bool("http.readonly")
	errs = append(errs, err)
	realtime, err := p.bool("sflow.file.realtime")
	errs = append(errs, err)
	rcvbuf, err := p.int("sflow.rcvbuf")
	errs = append(errs, err)
	sockets, err := p.int("sflow.sockets")
	errs = append(errs, err)
	sflowPort, err := p.int("sflow.port")
	errs = append(errs, err)
	httpPort, err := p.int("http.port")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	forwarder := forward.New(log)
	cfg.Tap = forwarder.Send
	e := engine.New(cfg)
	maxEvents, err := p.int("events.max")
	if err != nil {
		return err
	}
	thresholds := threshold.New(e, maxEvents)
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	sources, err := openGeo(p, log)
	if err != nil {
		return err
	}
	geo.Register(e.Compiler(), sources)
	topo := &topology.Store{}
	topology.Register(e.Compiler(), topo)
	e.SetTopology(topo)
	var saved *persisted
	if dir := p.str("state.dir"); dir != "" && dir != "none" {
		store, err := state.Open(dir)
		if err != nil {
			return err
		}
		saved = &persisted{store: store, log: log, engine: e, thresholds: thresholds, groups: groups, maps: maps,
			forwarder: forwarder, topology: topo}
		saved.restore()
	}

	var col *collector.Collector
	file := p.str("sflow.file")
	if file == "" {
		col, err = collector.Listen(collector.Config{Addr: net.JoinHostPort(p.str("sflow.hostname"), fmt.Sprint(sflowPort)),
			Sockets: sockets, ReadBuffer: rcvbuf, Logger: log})
		if err != nil {
			return err
		}
		defer col.Close()
	}
	scripts, err := startScripts(p, log, script.Deps{Engine: e, Thresholds: thresholds, Groups: groups, Maps: maps,
		Topology: topo, Forwarder: forwarder, Properties: p, Version: version, Logger: log, Changed: func(kind string) {
			if saved != nil {
				saved.save(kind)
			}
		}})
	if err != nil {
		return err
	}
	httpAddr := net.JoinHostPort(p.str("http.hostname"), fmt.Sprint(httpPort))
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("HTTP port %s is in use by another program: stop it or choose another (-Dhttp.port=…)", httpAddr)
		}
		return fmt.Errorf("listening for HTTP on %s: %w", httpAddr, err)
	}
	promTypes, err := p.bool("prometheus.type")
	if err != nil {
		return err
	}
	h := api.New(e, api.Config{Version: version, ReadOnly: readonly, Logger: log, Thresholds: thresholds,
		PromPrefix: p.str("prometheus.metric.prefix"), PromTypes: promTypes, UI: web.Handler("/api-docs"),
		Groups: groups, Maps: maps, Forwarder: forwarder, Topology: topo, Scripts: scripts, AppsDir: p.str("app.dir"), Changed: func(kind string) {
			if saved != nil {
				saved.save(kind)
			}
		}, Extra: func() map[string]any {
			if col == nil {
				return map[string]any{"sFlowFile": file}
			}
			return map[string]any{"sFlowKernelDrops": col.KernelDrops(), "sFlowReceiveBuffer": col.ReadBuffer(),
				"sFlowSockets": col.Sockets()}
		}})
	var handler http.Handler = h
	defer scripts.Stop()
	if logRequests, err := p.bool("http.log"); err != nil {
		return err
	} else if logRequests {
		handler = logged(h, log)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	sflowAddr := file
	if col != nil {
		sflowAddr = col.Addr().String()
		log.Info("sFlow collector listening", "udp", sflowAddr, "sockets", col.Sockets(),
			"receive_buffer", col.ReadBuffer(), "asked", rcvbuf)
		if col.ReadBuffer() < rcvbuf {
			log.Warn("the kernel granted a smaller receive buffer than asked: bursts may be lost; raise net.core.rmem_max or run with CAP_NET_ADMIN",
				"granted", col.ReadBuffer(), "asked", rcvbuf)
		}
	} else {
		log.Info("replaying sFlow from a capture", "file", file, "realtime", realtime)
	}
	log.Info("REST and web listening", "http", ln.Addr().String(), "readonly", readonly)
	log.Info("limits", "engine", cfg.String())
	if u := p.unknown(); len(u) > 0 {
		log.Info("other properties (kept for scripts)", "properties", strings.Join(u, " "))
	}
	if ready != nil {
		ready(sflowAddr, ln.Addr().String())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 4)
	go func() { done <- e.Run(ctx) }()
	go func() { done <- thresholds.Run(ctx, threshold.DefaultInterval) }()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			done <- err
			return
		}
		done <- nil
	}()
	go func() {
		if col != nil {
			done <- col.Run(ctx, func() collector.Handler { return e.NewWorker() })
			return
		}
		st, err := collector.Replay(ctx, file, realtime, e.NewWorker())
		log.Info("replay finished; still serving", "datagrams", st.Datagrams, "not_udp", st.Skipped)
		if err != nil {
			done <- err
		}
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-done:
	}
	cancel()
	shut, cancelShut := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShut()
	srv.Shutdown(shut)
	log.Info("stopped")
	return runErr
}

// logged logs each request (http.log=yes).
func logged(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		log.Info("http", "method", r.Method, "path", r.URL.RequestURI(), "status", sw.status,
			"ms", time.Since(start).Milliseconds(), "from", r.RemoteAddr)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// openGeo opens the databases the properties name. A database that was
// asked for and cannot be opened stops start-up; the default OUI list is
// used only when present.
func openGeo(p properties, log *slog.Logger) (geo.Sources, error) {
	var s geo.Sources
	var err error
	if f := p.str("geo.country"); f != "" {
		if s.Country, err = geo.Open(f); err != nil {
			return s, err
		}
		log.Info("GeoIP country database", "file", f, "type", s.Country.Type())
	}
	if f := p.str("geo.asn"); f != "" {
		if s.ASN, err = geo.Open(f); err != nil {
			return s, err
		}
		log.Info("GeoIP ASN database", "file", f, "type", s.ASN.Type())
	}
	if f := p.str("oui.names"); f != "" {
		o, err := geo.OpenOUI(f)
		switch {
		case err == nil:
			s.OUI = o
			log.Info("OUI list", "file", f, "vendors", o.Len())
		case f != geo.DebianOUI:
			return s, err
		default:
			log.Info("no OUI list: oui: is unavailable (install ieee-data or set -Doui.names)", "err", err)
		}
	}
	return s, nil
}

// startScripts runs the applications under app.dir and the files of
// script.file. A script that fails to load is reported and the others run.
func startScripts(p properties, log *slog.Logger, d script.Deps) (*script.Manager, error) {
	var err error
	if d.CallTimeout, err = p.seconds("script.timeout"); err != nil {
		return nil, err
	}
	if d.RunCmd, err = p.bool("script.runcmd"); err != nil {
		return nil, err
	}
	if d.HTTPTimeout, err = p.seconds("script.http.timeout"); err != nil {
		return nil, err
	}
	if d.AsyncMax, err = p.int("script.httpasync.max"); err != nil {
		return nil, err
	}
	mem, err := p.int("script.memory")
	if err != nil {
		return nil, err
	}
	if mem < 0 {
		return nil, fmt.Errorf("property script.memory=%d: megabytes, 0 for no limit", mem)
	}
	d.Memory = int64(mem) << 20
	if d.FlowQueue, err = p.int("script.flowqueue"); err != nil {
		return nil, err
	}
	if d.FlowQueue < 1 {
		return nil, fmt.Errorf("property script.flowqueue=%d: a script needs room for at least 1 record", d.FlowQueue)
	}
	if d.AsyncMax < 1 {
		return nil, fmt.Errorf("property script.httpasync.max=%d: a script needs at least 1 request in flight", d.AsyncMax)
	}
	d.StoreDir = p.str("script.store")
	m := script.NewManager(d)
	if err := m.LoadApps(p.str("app.dir")); err != nil {
		log.Error("applications not loaded", "err", err)
	}
	for _, f := range strings.Split(p.str("script.file"), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		m.Load(f) // the manager logs a failure; /scripts/json and /status show it
	}
	return m, nil
}
