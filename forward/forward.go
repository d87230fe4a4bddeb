// Package forward copies received sFlow datagrams, byte for byte, to other
// collectors: sFlow-RT's forwarding sessions (/forwarding/{name}/json). A
// session can be limited to some agents. Sending happens on a goroutine per
// session behind a bounded queue, so a slow or dead destination costs the
// collector a copy and a channel send, never a wait: when the queue is full
// the datagram is dropped for that session, and counted.
//
// Forwarding must not loop. A session whose destination is the engine's
// own sFlow socket is refused (Set). A loop through other collectors (this
// engine forwards to B, B forwards back) cannot be seen in the
// configuration, so each session remembers the datagrams it sent recently
// (see recent.go); one that arrives again is counted as returned, logged at
// most once a minute, and neither forwarded again nor, by the engine,
// applied twice.
package forward

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/jsobj"
)

// Spec is a forwarding session as PUT to /forwarding/{name}/json.
type Spec struct {
	Address string   `json:"address"`
	Port    int      `json:"port"`
	Agents  []string `json:"agents,omitempty"`
}

// DefaultPort is the destination port when a session names none.
const DefaultPort = 6343

// QueueLength is how many datagrams may wait for one session's sender.
const QueueLength = 4096

// ParseSpec reads a session in strict JSON or JavaScript object form; a
// session that gives no port forwards to 6343.
func ParseSpec(body []byte) (Spec, error) {
	var s Spec
	present, err := jsobj.DecodeObject(body, &s, "forwarding session", "address", "port", "agents")
	if err != nil {
		return Spec{}, err
	}
	if !present["port"] {
		s.Port = DefaultPort
	}
	if s.Address == "" {
		return Spec{}, errors.New("forwarding session needs an address (the collector to copy datagrams to)")
	}
	return s, nil
}

// Status is a session and its counters, as GET /forwarding/json shows it.
type Status struct {
	Spec
	DatagramsSent    uint64 `json:"datagramsSent"`
	DatagramsDropped uint64 `json:"datagramsDropped"` // the queue was full
	SendErrors       uint64 `json:"sendErrors"`       // the destination refused or the send failed
	// DatagramsReturned are datagrams this session forwarded that came
	// back to the engine: a forwarding loop through another collector.
	DatagramsReturned uint64 `json:"datagramsReturned"`
}

type session struct {
	name     string
	spec     Spec
	dest     netip.Addr
	conn     *net.UDPConn
	agents   map[netip.Addr]bool // nil: every agent
	queue    chan *[]byte
	sent     atomic.Uint64
	dropped  atomic.Uint64
	errors   atomic.Uint64
	returned atomic.Uint64
	recent   recent        // datagrams sent lately, to recognise one coming back
	loggedAt atomic.Int64  // Unix ns of the last loop warning
	quit     chan struct{} // closed to stop the sender (the queue never is: Send may still hold it)
	done     chan struct{}
}

// Forwarder holds the sessions.
type Forwarder struct {
	mu       sync.Mutex
	byName   map[string]*session
	sessions atomic.Pointer[[]*session] // what Send reads, without locking
	own      []netip.AddrPort           // the engine's own sFlow sockets
	max      int                        // sessions at most (forwarding.sessions.max; 0: no bound)
	log      *slog.Logger
	buffers  sync.Pool
}

// ID identifies a datagram, from its header: the agent, the sub-agent,
// the datagram sequence number and the agent's uptime.
type ID struct {
	Agent                      netip.Addr
	SubAgent, Sequence, Uptime uint32
}

// New returns a forwarder with no session.
func New(log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.Default()
	}
	f := &Forwarder{byName: map[string]*session{}, log: log}
	f.buffers.New = func() any { b := make([]byte, 0, 2048); return &b }
	f.sessions.Store(&[]*session{})
	return f
}

// SetOwn tells the forwarder where the engine receives sFlow, so that a
// session to itself is refused.
func (f *Forwarder) SetOwn(addrs ...netip.AddrPort) {
	f.mu.Lock()
	f.own = addrs
	f.mu.Unlock()
}

// SetLimit bounds the sessions: past n, a new one is refused with a
// *LimitError (each session costs a copy and a send of every datagram:
// docs/performance.md).
func (f *Forwarder) SetLimit(n int) {
	f.mu.Lock()
	f.max = n
	f.mu.Unlock()
}

// LimitError is a new session refused at forwarding.sessions.max.
type LimitError struct{ Max int }

func (e *LimitError) Error() string {
	return fmt.Sprintf("%d forwarding sessions are defined, the most forwarding.sessions.max allows: "+
		"delete one (DELETE /forwarding/{name}/json), or raise the limit (-Dforwarding.sessions.max=…)", e.Max)
}

// LimitProperty names the property of the limit (the REST API answers
// such errors 409, rather than 400).
func (e *LimitError) LimitProperty() string { return "forwarding.sessions.max" }

// full reports whether a session named name would be one too many.
func (f *Forwarder) full(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byName[name]; !ok && f.max > 0 && len(f.byName) >= f.max {
		return &LimitError{f.max}
	}
	return nil
}

// Set creates or replaces a session.
func (f *Forwarder) Set(name string, s Spec) error {
	if err := flow.ValidName(name); err != nil {
		return fmt.Errorf("forwarding session %v", err)
	}
	if err := f.full(name); err != nil {
		return err
	}
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("port %d is not a UDP port", s.Port)
	}
	addr, err := netip.ParseAddr(s.Address)
	if err != nil {
		return fmt.Errorf("address %q is not an IP address", s.Address)
	}
	addr = addr.Unmap()
	if addr.IsUnspecified() {
		return fmt.Errorf("address %s is not a destination: give the address of the collector to forward to", s.Address)
	}
	f.mu.Lock()
	own := f.own
	f.mu.Unlock()
	if at, ok := reachesSelf(netip.AddrPortFrom(addr, uint16(s.Port)), own, localAddrs()); ok {
		return fmt.Errorf("forwarding to %s would send this engine's datagrams back to itself (it receives sFlow on %s), "+
			"and each copy would be forwarded again: give another collector's address, or its port if it runs on this host",
			net.JoinHostPort(s.Address, strconv.Itoa(s.Port)), at)
	}
	ss := &session{name: name, spec: s, dest: addr, queue: make(chan *[]byte, QueueLength), quit: make(chan struct{}), done: make(chan struct{})}
	for _, a := range s.Agents {
		ag, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("agent %q is not an IP address", a)
		}
		if ss.agents == nil {
			ss.agents = map[netip.Addr]bool{}
		}
		ss.agents[ag.Unmap()] = true
	}
	ss.conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(s.Port))))
	if err != nil {
		return fmt.Errorf("forwarding to %s: %w", net.JoinHostPort(s.Address, strconv.Itoa(s.Port)), err)
	}
	f.mu.Lock()
	old := f.byName[name]
	if old == nil && f.max > 0 && len(f.byName) >= f.max { // another Set took the last place meanwhile
		f.mu.Unlock()
		ss.conn.Close()
		return &LimitError{f.max}
	}
	go f.send(ss)
	f.byName[name] = ss
	f.publish()
	f.mu.Unlock()
	if old != nil {
		old.stop()
	}
	return nil
}

// Delete removes a session; false when there was none.
func (f *Forwarder) Delete(name string) bool {
	f.mu.Lock()
	old := f.byName[name]
	delete(f.byName, name)
	f.publish()
	f.mu.Unlock()
	if old == nil {
		return false
	}
	old.stop()
	return true
}

func (f *Forwarder) publish() {
	list := slices.Collect(maps.Values(f.byName))
	f.sessions.Store(&list)
}

// Get returns a session and its counters.
func (f *Forwarder) Get(name string) (Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byName[name]
	if !ok {
		return Status{}, false
	}
	return s.status(), true
}

// All returns every session by name.
func (f *Forwarder) All() map[string]Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Status{}
	for k, s := range f.byName {
		out[k] = s.status()
	}
	return out
}

// Specs returns every session's definition (for saving).
func (f *Forwarder) Specs() map[string]Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Spec{}
	for k, s := range f.byName {
		out[k] = s.spec
	}
	return out
}

func (s *session) status() Status {
	return Status{Spec: s.spec, DatagramsSent: s.sent.Load(), DatagramsDropped: s.dropped.Load(), SendErrors: s.errors.Load(),
		DatagramsReturned: s.returned.Load()}
}

// Send queues a copy of datagram b (identified by id, received from the
// address from) for every session that wants it. It never blocks. It
// returns true, and forwards nothing, when the datagram is one a session
// forwarded lately coming back: a loop, whose copy the engine should not
// apply either.
func (f *Forwarder) Send(b []byte, id ID, from netip.Addr) (returned bool) {
	sessions := *f.sessions.Load()
	if len(sessions) == 0 {
		return false
	}
	slot, key := datagramKey(id, len(b))
	if f.returned(sessions, slot, key, from) {
		return true
	}
	for _, s := range sessions {
		if s.agents != nil && !s.agents[id.Agent] {
			continue
		}
		// Remembered before it is queued: the copy may come back before
		// the channel send returns.
		s.recent.add(slot, key)
		buf := f.buffers.Get().(*[]byte)
		*buf = append((*buf)[:0], b...)
		select {
		case s.queue <- buf:
		default:
			s.dropped.Add(1)
			f.buffers.Put(buf)
		}
	}
	return false
}

// returned reports whether a session sent this datagram lately, and counts
// it for the sessions that did: when some of them forward to the address
// it came back from, only those (the loop runs through their destination).
func (f *Forwarder) returned(sessions []*session, slot uint64, key uint64, from netip.Addr) bool {
	n, direct := 0, 0
	for _, s := range sessions {
		if s.recent.has(slot, key) {
			n++
			if s.dest == from {
				direct++
			}
		}
	}
	if n == 0 {
		return false
	}
	for _, s := range sessions {
		if s.recent.has(slot, key) && (direct == 0 || s.dest == from) {
			s.returned.Add(1)
			f.warnLoop(s)
		}
	}
	return true
}

// loopWarnEvery spaces the warnings about one session's loop.
const loopWarnEvery = time.Minute

func (f *Forwarder) warnLoop(s *session) {
	now := time.Now().UnixNano()
	last := s.loggedAt.Load()
	if now-last < int64(loopWarnEvery) || !s.loggedAt.CompareAndSwap(last, now) {
		return
	}
	f.log.Warn("forwarding loop: datagrams this session forwarded come back to this engine; "+
		"they are counted (datagramsReturned) and neither applied nor forwarded again: does the destination forward to us?",
		"session", s.name, "to", s.conn.RemoteAddr(), "returned", s.returned.Load())
}

func (f *Forwarder) send(s *session) {
	defer close(s.done)
	warned := false
	for {
		var buf *[]byte
		select {
		case buf = <-s.queue:
		case <-s.quit:
			return
		}
		if _, err := s.conn.Write(*buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				f.buffers.Put(buf)
				return
			}
			s.errors.Add(1)
			if !warned {
				f.log.Warn("forwarding: the destination refuses datagrams (is a collector listening there?)",
					"to", s.conn.RemoteAddr(), "err", err)
				warned = true
			}
		} else {
			s.sent.Add(1)
		}
		if cap(*buf) <= 65536 {
			f.buffers.Put(buf)
		}
	}
}

// stop ends the session's sender; datagrams still queued are dropped.
func (s *session) stop() {
	close(s.quit)
	<-s.done
	s.conn.Close()
}
