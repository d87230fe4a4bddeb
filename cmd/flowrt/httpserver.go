package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flowrt/flowrt/api"
)

// httpServer serves REST and the web pages: over TLS when http.tls.cert
// is set, behind authentication when http.auth.file or http.auth is,
// with read, write and idle timeouts and at most http.connections.max
// connections.
type httpServer struct {
	srv  *http.Server
	ln   *api.ConnLimit
	cert *api.Certificate
	auth *api.Auth
	// authFile: the users come from a file, which SIGHUP reads again.
	authFile bool
	log      *slog.Logger
	attrs    []any // for the "listening" line
}

// autoConnsMax is the cap when http.connections.max=0: half the open-file
// limit (the rest is for sockets, files and scripts), within these bounds.
const (
	autoConnsMin = 16
	autoConnsMax = 4096
)

func openFilesLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}

func newHTTPServer(p properties, ln net.Listener, h http.Handler, log *slog.Logger) (*httpServer, error) {
	var errs []error
	read, err := p.seconds("http.read.timeout")
	errs = append(errs, err)
	write, err := p.seconds("http.write.timeout")
	errs = append(errs, err)
	idle, err := p.seconds("http.idle.timeout")
	errs = append(errs, err)
	maxConns, err := p.int("http.connections.max")
	errs = append(errs, err)
	logRequests, err := p.bool("http.log")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if write < read {
		return nil, fmt.Errorf("http.write.timeout=%v is shorter than http.read.timeout=%v: it runs from the end of a request's header, so a body read until the read timeout could not be answered; make it at least as long",
			write.Seconds(), read.Seconds())
	}
	files := openFilesLimit()
	if maxConns == 0 {
		maxConns = int(min(max(files/2, autoConnsMin), autoConnsMax))
	} else if files > 0 && uint64(maxConns) > files {
		log.Warn("http.connections.max is above the open-files limit: connections past the limit fail and the API stops answering; raise the limit (ulimit -n, LimitNOFILE=) or lower the cap",
			"max", maxConns, "open_files", files)
	}
	s := &httpServer{log: log}
	if file, inline := p.str("http.auth.file"), p.str("http.auth"); file != "" || inline != "" {
		s.authFile = file != ""
		if s.auth, err = api.NewAuth(file, inline, log); err != nil {
			return nil, err
		}
	}
	certFile, keyFile := p.str("http.tls.cert"), p.str("http.tls.key")
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("http.tls.cert and http.tls.key go together: give both (HTTPS) or neither (HTTP)")
	}
	if certFile != "" {
		if s.cert, err = api.LoadCertificate(certFile, keyFile, log); err != nil {
			return nil, err
		}
	}
	var hosts []string
	for _, name := range strings.Split(p.str("http.hosts"), ",") {
		if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
			hosts = append(hosts, strings.TrimSuffix(name, "."))
		}
	}
	s.ln = api.LimitConns(ln, maxConns, log)
	handler := api.LongPolls(api.Guard(h, api.GuardConfig{Auth: s.auth, Hosts: hosts, Logger: log}), write, log)
	if logRequests {
		handler = logged(handler, log) // refusals are logged too
	}
	s.srv = &http.Server{
		Handler:           s.ln.TrackBody(handler),
		ReadHeaderTimeout: min(10*time.Second, read),
		ReadTimeout:       read,
		WriteTimeout:      write,
		IdleTimeout:       idle,
		ConnState:         s.ln.ConnState,
		ConnContext:       s.ln.ConnContext,
		ErrorLog:          stdlog.New(serverLog{log}, "", 0),
	}
	scheme := "http"
	if s.cert != nil {
		s.srv.TLSConfig = s.cert.Config()
		scheme = "https"
	}
	s.attrs = []any{"scheme", scheme, "auth", s.auth != nil, "connections_max", maxConns, "open_files", files,
		"read_timeout", read.String(), "write_timeout", write.String(), "idle_timeout", idle.String()}
	if len(hosts) > 0 {
		s.attrs = append(s.attrs, "hosts", strings.Join(hosts, ","))
	}
	return s, nil
}

// serve answers until Shutdown. With an authentication file or a
// certificate, SIGHUP reads them again; without, SIGHUP keeps its usual
// meaning (a closed terminal ends flowrt).
func (s *httpServer) serve(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	if s.cert != nil || s.auth != nil && s.authFile {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				s.reload()
			}
		}
	}()
	var err error
	if s.cert != nil {
		err = s.srv.ServeTLS(s.ln, "", "")
	} else {
		err = s.srv.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *httpServer) reload() {
	s.log.Info("SIGHUP: reading the authentication file and the TLS certificate again")
	if s.auth != nil {
		if err := s.auth.Reload(); err != nil {
			s.log.Error("authentication not reloaded: the previous users and tokens stay", "err", err)
		}
	}
	if s.cert != nil {
		if err := s.cert.Reload(); err != nil {
			s.log.Error("TLS certificate not reloaded: the previous one is served", "err", err)
		}
	}
}

// warnOpen says, once at start, when anyone who can reach the port may
// change the engine.
func (s *httpServer) warnOpen(addr net.Addr) {
	if s.auth != nil {
		return
	}
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsLoopback() {
		return
	}
	s.log.Warn("REST listens beyond this host without authentication, as sFlow-RT does: whoever reaches it can define flows and forwarding; set http.auth.file, or -Dhttp.hostname=127.0.0.1 (docs/security.md)",
		"http", addr.String())
}

// serverLog turns the HTTP server's own log lines into structured ones: a
// failed TLS handshake (a scanner, a client that does not trust the
// certificate) at debug level, anything else as a warning.
type serverLog struct{ log *slog.Logger }

func (l serverLog) Write(b []byte) (int, error) {
	msg := string(bytes.TrimSpace(b))
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		l.log.Debug(msg)
	} else {
		l.log.Warn(msg)
	}
	return len(b), nil
}

// extra is what /analyzer/json says of the HTTP server.
func (s *httpServer) extra() map[string]any {
	out := map[string]any{}
	if s == nil {
		return out
	}
	out["httpConnections"], out["httpConnectionsMax"], out["httpConnectionsClosed"] = s.ln.Open(), s.ln.Max, s.ln.Evicted()
	// sFlow-RT's names, which its status page reads.
	out["httpConnectionsCurrent"], out["httpConnectionsTotal"] = s.ln.Open(), s.ln.Accepted()
	if s.auth != nil {
		out["httpAuthRefused"] = s.auth.Failures()
	}
	return out
}
