package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/api"
	"github.com/flowrt/flowrt/collector"
	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/geo"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/script"
	"github.com/flowrt/flowrt/state"
	"github.com/flowrt/flowrt/tenant"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
	"github.com/flowrt/flowrt/web"
)

const serveUsage = `Usage: flowrt [serve] [-Dname=value | -name=value]...

Runs the analytics engine: sFlow in on UDP 6343, REST and web on TCP 8008.
Properties are sFlow-RT's: as -Dname=value arguments, in the RTPROP
environment variable, or as flags of the same name (-http.port=8080).
A value out of range stops start-up with the allowed range; a property
flowrt does not read is warned about at start-up (and kept for scripts);
sFlow-RT's JVM options (-Xmx2000m, -XX:…) are accepted and do nothing.

Properties:
%s
Examples:
  flowrt
  flowrt -Dhttp.port=8080 -Dsflow.port=6344
  RTPROP="-Dhttp.readonly=yes" flowrt
  flowrt -Dhttp.auth.file=/etc/flowrt/auth -Dhttp.tls.cert=cert.pem -Dhttp.tls.key=key.pem
  flowrt -Dsflow.file=capture.pcap -Dsflow.file.realtime=no -Dscript.file=flows.js
`

func runServe(args []string) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintf(os.Stderr, serveUsage, propertiesUsage())
			return 0
		}
	}
	props, jvm, rest, err := parseProperties(args, os.Getenv("RTPROP"))
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q (properties are -Dname=value)", rest[0])
	}
	if err == nil {
		err = props.check()
	}
	if err != nil {
		printError(err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, props, jvm, nil); err != nil {
		printError(err)
		return 1
	}
	return 0
}

// printError writes an error to stderr, one "flowrt: " line per problem.
func printError(err error) {
	fmt.Fprintf(os.Stderr, "flowrt: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nflowrt: "))
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	if err != nil {
		return 0, fmt.Errorf("is not a log level")
	}
	return l, nil
}

// serve runs the engine until ctx ends. ready, when not nil, is told the
// addresses once everything listens.
func serve(ctx context.Context, p properties, jvm []string, ready func(sflow, http string)) error {
	if err := p.check(); err != nil {
		return err
	}
	level, err := logLevel(p.str("log.level"))
	if err != nil {
		return err
	}
	// A capture to replay is opened first: a missing file is one line and
	// a non-zero exit before anything listens.
	var capture *collector.Capture
	file := p.str("sflow.file")
	if file != "" {
		if capture, err = collector.OpenCapture(file); err != nil {
			return err
		}
		defer capture.Close()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	logPropertyNotes(log, p, jvm, os.Getenv("RTMEM"))
	if files, _ := confFiles(p.str("conf.dir")); len(files) > 0 { // read (or refused) by parseProperties already
		log.Info("properties read from conf.dir", "files", strings.Join(files, ","))
	}
	if p.str("sflow.rcvpktsbuffer") != "" && p.str("sflow.rcvpktsbuffer") != p.str("sflow.rcvbuf") {
		log.Warn("sflow.rcvpktsbuffer and sflow.rcvbuf both given: sflow.rcvbuf wins", "sflow.rcvbuf", p.str("sflow.rcvbuf"),
			"sflow.rcvpktsbuffer", p.str("sflow.rcvpktsbuffer"))
	}
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
	errs = append(errs, err, capsConfig(p, &cfg))
	readonly, err := p.bool("http.readonly")
	errs = append(errs, err)
	realtime, err := p.bool("sflow.file.realtime")
	errs = append(errs, err)
	rcvbuf, err := p.int("sflow.rcvbuf")
	errs = append(errs, err)
	sockets, err := p.int("sflow.sockets")
	errs = append(errs, err)
	workers, err := p.int("sflow.workers")
	errs = append(errs, err)
	sflowPort, err := p.int("sflow.port")
	errs = append(errs, err)
	httpPort, err := p.int("http.port")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	forwarder := forward.New(log)
	tenants, err := tenant.New(log)
	if err != nil {
		return err
	}
	defer tenants.Close()
	var rawKafka atomic.Pointer[export.Kafka] // kafka.topic.raw: the datagrams as they came, once the exporters exist
	cfg.Tap = func(b []byte, agent netip.Addr, subAgent, seq, uptime uint32, from netip.Addr) bool {
		// A tenant datagram coming back is neither forwarded nor applied.
		looped := tenants.IsReturned(agent, subAgent, seq, uptime, len(b)) ||
			forwarder.Send(b, forward.ID{Agent: agent, SubAgent: subAgent, Sequence: seq, Uptime: uptime}, from)
		if k := rawKafka.Load(); k != nil && !looped {
			k.Datagram(b, agent, netip.AddrPortFrom(from, 0))
		}
		return looped
	}
	cfg.Split = tenants.Process
	e := engine.New(cfg)
	maxEvents, err := p.int("events.max")
	if err != nil {
		return err
	}
	thresholds := threshold.New(e, maxEvents)
	limits, err := limitConfig(p, thresholds, forwarder)
	if err != nil {
		return err
	}
	groups, maps := &group.Groups{}, &group.Maps{}
	group.Register(e.Compiler(), groups, maps)
	sources, err := openGeo(p, log)
	if err != nil {
		return err
	}
	geo.Register(e.Compiler(), sources)
	if servers := strings.TrimSpace(p.str("dns.servers")); servers != "" { // else dns: asks the system's resolver
		lookup, err := flow.ServersLookup(strings.Split(servers, ","))
		if err != nil {
			return err
		}
		e.Compiler().Register("dns", flow.DNSFunc(flow.NewDNSNames(lookup, flow.DNSMax)))
		log.Info("dns: asks", "servers", servers)
	}
	topo := &topology.Store{}
	topo.SetNamer(e) // links-only topologies: nodes and ports by the agents' own names
	topology.Register(e.Compiler(), topo)
	e.SetTopology(topo)
	var col *collector.Collector
	fromKafka := p.str("sflow.source") == "kafka"
	switch src := p.str("sflow.source"); {
	case src != "udp" && src != "kafka":
		return fmt.Errorf("sflow.source %q: want udp or kafka", src)
	case fromKafka && capture != nil:
		return errors.New("sflow.file and sflow.source=kafka: replay a capture or consume Kafka, not both")
	}
	if capture == nil && !fromKafka {
		col, err = collector.Listen(collector.Config{Addr: net.JoinHostPort(p.str("sflow.hostname"), fmt.Sprint(sflowPort)),
			Sockets: sockets, ReadBuffer: rcvbuf, Logger: log})
		if err != nil {
			return err
		}
		defer col.Close()
		// Known before any session is restored or set: a session to our
		// own socket is refused.
		forwarder.SetOwn(col.Addr())
		tenants.SetOwn(col.Addr())
	}
	var saved *persisted
	if dir := p.str("state.dir"); dir != "" && dir != "none" {
		retry, err := p.seconds("state.retry")
		if err != nil {
			return err
		}
		store, err := state.Open(dir, log)
		if err != nil {
			return err
		}
		store.Retry = retry
		saved = newPersisted(store, log, e, thresholds, groups, maps, forwarder, tenants, topo)
		saved.restore()
	}

	exports, err := newExporters(p, e, log)
	if err != nil {
		return err
	}
	if err := exports.setup(ctx); err != nil {
		return err
	}
	e.SetSampleHook(exports.samples())
	if exports.kafka != nil && exports.kafka.Raw != "" && !exports.inlet {
		rawKafka.Store(exports.kafka)
	}

	speaker, err := startBGP(p, log)
	if err != nil {
		return err
	}
	if speaker != nil {
		defer speaker.Close() // after the scripts stopped and withdrew theirs
	}
	scripts, err := startScripts(p, log, script.Deps{Engine: e, Thresholds: thresholds, Groups: groups, Maps: maps,
		Topology: topo, BGP: speaker, Forwarder: forwarder, Properties: p.forScripts(), Version: version, Logger: log,
		Self: selfURL(p.str("http.hostname"), httpPort), Changed: func(kind string) {
			if saved != nil {
				saved.changedByScript(kind)
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
	bodies, err := bodyLimits(p)
	if err != nil {
		return err
	}
	var hs *httpServer
	cpu := newCPULoad()
	h := api.New(e, api.Config{Version: version, ReadOnly: readonly, Logger: log, Thresholds: thresholds,
		PromPrefix: p.str("prometheus.metric.prefix"), PromTypes: promTypes, UI: web.Handler("/api-docs", p.str("http.html.redirect")),
		Groups: groups, Maps: maps, Forwarder: forwarder, Tenants: tenants, Topology: topo, BGP: speaker, Scripts: scripts, AppsDir: p.str("app.dir"), Bodies: bodies, Changed: func(kind, name string) error {
			if saved == nil {
				return nil
			}
			return saved.changed(kind, name)
		}, Extra: func() map[string]any {
			out := hs.extra()
			cpu.fields(out)
			if exports.consumer != nil {
				out["sFlowKafkaRecords"], out["sFlowKafkaBad"] = exports.consumer.Records.Load(), exports.consumer.Bad.Load()
			} else if col == nil {
				out["sFlowFile"] = file
			} else {
				out["sFlowKernelDrops"], out["sFlowReceiveBuffer"], out["sFlowSockets"] = col.KernelDrops(), col.ReadBuffer(), col.Sockets()
			}
			if saved != nil {
				out["state"] = saved.status()
			}
			if st := exports.stats(); len(st) > 0 {
				out["exports"] = st
			}
			return out
		}})
	h.SetLimits(limits)
	defer scripts.Stop()
	if hs, err = newHTTPServer(p, ln, h, log); err != nil {
		ln.Close()
		return err
	}

	sflowAddr := file
	if col != nil {
		sflowAddr = col.Addr().String()
		log.Info("sFlow collector listening", "udp", sflowAddr, "sockets", col.Sockets(),
			"receive_buffer", col.ReadBuffer(), "asked", rcvbuf)
		if col.ReadBuffer() < rcvbuf {
			log.Warn("the kernel granted a smaller receive buffer than asked: bursts may be lost; raise net.core.rmem_max or run with CAP_NET_ADMIN",
				"granted", col.ReadBuffer(), "asked", rcvbuf)
		}
		if exports.inlet {
			log.Info("inlet only: every datagram goes to Kafka as it came, and nothing else is done with it",
				"topic", exports.kafka.Raw)
		}
	} else if capture != nil {
		log.Info("replaying sFlow from a capture", "file", file, "realtime", realtime)
	}
	log.Info("REST and web listening", append([]any{"http", ln.Addr().String(), "readonly", readonly}, hs.attrs...)...)
	hs.warnOpen(ln.Addr())
	log.Info("limits", "engine", cfg.String())
	if missing := web.IncMissing(); len(missing) > 0 {
		log.Warn("built without the npm libraries sFlow-RT application pages load from /inc/: those pages say what is missing; run scripts/assets (needs npm) and rebuild", "missing", strings.Join(missing, ", "))
	}
	if ready != nil {
		ready(sflowAddr, ln.Addr().String())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 4)
	consumed := make(chan struct{}) // closed when the Kafka consumer has stopped
	exports.run(ctx)
	go func() { done <- e.Run(ctx) }()
	go func() { done <- thresholds.Run(ctx, threshold.DefaultInterval) }()
	go func() { done <- hs.serve(ctx) }()
	// flowrt app install/remove (or a copy into app.dir) take effect
	// without a restart.
	go scripts.WatchApps(ctx, p.str("app.dir"), appRescan)
	go func() {
		switch {
		case exports.consumer != nil:
			err := exports.consumer.Run(ctx, func() collector.Handler { return e.NewWorker() })
			close(consumed)
			done <- err
			return
		case col != nil && exports.inlet:
			done <- col.Run(ctx, func() collector.Handler {
				return inletHandler{k: exports.kafka, bad: &exports.inletBad}
			})
			return
		case col != nil && workers < 0:
			done <- col.Run(ctx, func() collector.Handler { return e.NewWorker() })
			return
		case col != nil:
			// One exporter is one socket's: the fan-out spreads its flow
			// samples over the cores (engine/fanout.go).
			f := e.NewFanout(cmp.Or(workers, runtime.NumCPU()))
			go f.Run(ctx)
			done <- col.Run(ctx, func() collector.Handler { return f.NewReader() })
			return
		}
		w := e.NewWorker()
		if !realtime {
			w = e.NewReplayWorker()
		}
		st, err := capture.Replay(ctx, realtime, w)
		if err != nil {
			log.Error("replay stopped", "file", file, "datagrams", st.Datagrams, "err", err)
			done <- err
			return
		}
		if ms, ok := e.CaptureClock(); ok {
			log.Info("replay finished; still serving, the engine's clock stays at the capture's last timestamp",
				"datagrams", st.Datagrams, "not_udp", st.Skipped, "clock", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
		} else {
			log.Info("replay finished; still serving", "datagrams", st.Datagrams, "not_udp", st.Skipped)
		}
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-done:
	}
	cancel()
	if exports.consumer != nil { // it leaves the Kafka group as it stops
		select {
		case <-consumed:
		case <-time.After(3 * time.Second):
		}
	}
	shut, cancelShut := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShut()
	hs.srv.Shutdown(shut)
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

// Unwrap lets http.ResponseController reach the connection (the
// long-polls move its deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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

// selfURL is the engine's own REST address for scripts' http() of a path:
// the listening address, or loopback when it listens on every address.
func selfURL(host string, port int) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(port))
}
