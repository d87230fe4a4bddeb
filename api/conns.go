package api

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimit is a listener that holds at most Max connections, so that the
// HTTP server never runs out of file descriptors (at the limit, accept
// fails and Go's server retries once a second: the API stops answering).
//
// At the cap it makes room before accepting: it closes the connection
// idle longest (a keep-alive between requests, which any client reopens),
// else the one that has been sending its request header longest, else the
// one whose handler has waited longest for its body — the last two only
// after Grace, so that a client in the middle of a normal request is not
// cut. When every connection is a request being answered, new ones wait
// in the kernel's queue until one ends. A connection that holds its slot
// with nothing is what an attack does; a busy one is not.
type ConnLimit struct {
	net.Listener
	Max   int
	Grace time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	conns   map[*limitedConn]struct{}
	freed   chan struct{}
	closed  chan struct{}
	closing sync.Once

	evicted    atomic.Int64
	accepted   atomic.Int64
	lastLogged atomic.Int64
}

// LimitConns wraps ln. Use its ConnState and ConnContext in the
// http.Server, and TrackBody around the handler.
func LimitConns(ln net.Listener, max int, log *slog.Logger) *ConnLimit {
	if log == nil {
		log = slog.Default()
	}
	return &ConnLimit{Listener: ln, Max: max, Grace: time.Second, log: log, conns: map[*limitedConn]struct{}{},
		freed: make(chan struct{}, 1), closed: make(chan struct{})}
}

type limitedConn struct {
	net.Conn
	l       *ConnLimit
	release sync.Once
	// guarded by l.mu
	state     http.ConnState
	since     time.Time // when it entered state
	bodySince time.Time // while its handler waits for body bytes
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release.Do(func() { c.l.remove(c) })
	return err
}

func (l *ConnLimit) remove(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// Accept waits for a free slot, making one when it can, then accepts.
func (l *ConnLimit) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if len(l.conns) < l.Max {
			l.mu.Unlock()
			break
		}
		victim := l.victim(time.Now())
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
			l.noteEviction()
			continue
		}
		// Every connection is busy: look again when one closes, and now
		// and then, as states change without closing.
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		case <-l.freed:
		case <-time.After(100 * time.Millisecond):
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	lc := &limitedConn{Conn: c, l: l, state: http.StateNew, since: time.Now()}
	l.mu.Lock()
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// victim picks the connection to close (l.mu held), or nil.
func (l *ConnLimit) victim(now time.Time) *limitedConn {
	var idle, header, body *limitedConn
	for c := range l.conns {
		switch {
		case c.state == http.StateIdle:
			if idle == nil || c.since.Before(idle.since) {
				idle = c
			}
		case c.state == http.StateNew && now.Sub(c.since) >= l.Grace:
			if header == nil || c.since.Before(header.since) {
				header = c
			}
		case c.state == http.StateActive && !c.bodySince.IsZero() && now.Sub(c.bodySince) >= l.Grace:
			if body == nil || c.bodySince.Before(body.bodySince) {
				body = c
			}
		}
	}
	switch {
	case idle != nil:
		return idle
	case header != nil:
		return header
	}
	return body
}

func (l *ConnLimit) noteEviction() {
	n := l.evicted.Add(1)
	now := time.Now().UnixNano()
	if last := l.lastLogged.Load(); now-last > int64(10*time.Second) && l.lastLogged.CompareAndSwap(last, now) {
		l.log.Warn("HTTP connections at their cap: closing idle and slow ones to answer new ones (http.connections.max)",
			"max", l.Max, "closed_so_far", n)
	}
}

// Close stops accepting.
func (l *ConnLimit) Close() error {
	l.closing.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// Open is the number of connections held now; Evicted, how many were
// closed to make room since start.
func (l *ConnLimit) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Evicted is how many connections were closed to make room since start.
func (l *ConnLimit) Evicted() int64 { return l.evicted.Load() }

// Accepted is how many connections were accepted since start.
func (l *ConnLimit) Accepted() int64 { return l.accepted.Load() }

func own(c net.Conn) *limitedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, _ := c.(*limitedConn)
	return lc
}

// ConnState is the http.Server hook that tells the limiter what each
// connection is doing.
func (l *ConnLimit) ConnState(c net.Conn, s http.ConnState) {
	lc := own(c)
	if lc == nil {
		return
	}
	if s == http.StateClosed || s == http.StateHijacked {
		lc.release.Do(func() { l.remove(lc) })
		return
	}
	l.mu.Lock()
	lc.state, lc.since, lc.bodySince = s, time.Now(), time.Time{}
	l.mu.Unlock()
}

type connKey struct{}

// ConnContext is the http.Server hook that lets TrackBody find a
// request's connection.
func (l *ConnLimit) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc := own(c); lc != nil {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// TrackBody marks a connection while its handler waits for body bytes.
func (l *ConnLimit) TrackBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lc, ok := r.Context().Value(connKey{}).(*limitedConn); ok && r.Body != nil && r.Body != http.NoBody {
			r.Body = &trackedBody{ReadCloser: r.Body, c: lc}
		}
		h.ServeHTTP(w, r)
	})
}

type trackedBody struct {
	io.ReadCloser
	c *limitedConn
}

func (b *trackedBody) Read(p []byte) (int, error) {
	l := b.c.l
	l.mu.Lock()
	if b.c.bodySince.IsZero() {
		b.c.bodySince = time.Now()
	}
	l.mu.Unlock()
	n, err := b.ReadCloser.Read(p)
	if err != nil { // the whole body is in (or never will be)
		l.mu.Lock()
		b.c.bodySince = time.Time{}
		l.mu.Unlock()
	}
	return n, err
}
