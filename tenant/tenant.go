// Package tenant streams per-tenant views of the received sFlow: sFlow-RT's
// multi-tenant sFlow (/tenant/{name}/json). A tenant names a collector and
// filters — interfaces by ifIndex or by name, CIDRs, MACs — and, for each
// datagram received, gets a datagram of its own holding only its samples:
// the flow and discard samples of its interfaces or addresses, and the
// counter samples of its interfaces. The agent address, sub-agent, uptime,
// sampling rates and sample pools are the agent's, so the tenant's tools
// scale as they would on the agent's own stream; the datagram sequence
// numbers are the tenant stream's own, contiguous per agent and sub-agent.
//
// Each datagram is re-encoded from the decoded samples (sflow's encoder),
// never copied: nothing of another tenant's — no sample, no byte after a
// declared length, no padding — reaches a tenant. Matching reads an index
// built when a definition changes (index.go) and re-encoding reuses pooled
// buffers, so the receive path allocates nothing in steady state. Sending
// is behind a bounded queue, as forwarding is: a datagram that finds it
// full is dropped for its tenant, and counted.
package tenant

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/sflow"
)

// QueueLength is how many tenant datagrams may wait for the sender.
const QueueLength = 4096

// spareBuffers are the datagram buffers kept beyond those queued, and
// spareScratch the matching states (one per collector goroutine at work).
const (
	spareBuffers = 256
	spareScratch = 64
)

// Status is a tenant and its counters, as GET /tenant/json shows it.
type Status struct {
	Spec
	DatagramsForwarded uint64 `json:"datagramsForwarded"`
	DatagramsDropped   uint64 `json:"datagramsDropped"`  // the queue was full, or the send failed
	DatagramsFiltered  uint64 `json:"datagramsFiltered"` // received datagrams that held nothing of this tenant's
	SamplesForwarded   uint64 `json:"samplesForwarded"`
	SamplesDropped     uint64 `json:"samplesDropped"`
	SamplesFiltered    uint64 `json:"samplesFiltered"` // received samples that were not this tenant's
	SendErrors         uint64 `json:"sendErrors"`
}

type tenant struct {
	name string
	spec Spec
	c    compiled
	st   *stream
}

// stream is what a tenant keeps when its definition is replaced: its
// sequence numbers and counters.
type stream struct {
	mu   sync.Mutex
	seqs map[streamKey]uint32 // last sequence number sent, per agent and sub-agent
	// Received datagrams and samples when the tenant was defined: what it
	// did not get since is what was filtered.
	baseDatagrams, baseSamples uint64
	built, builtSamples        atomic.Uint64 // datagrams (and their samples) made for the tenant
	sent, sentSamples          atomic.Uint64
	dropped, droppedSamples    atomic.Uint64
	errors                     atomic.Uint64
}

type streamKey struct {
	agent    netip.Addr
	subAgent uint32
}

type item struct {
	st      *stream
	dest    netip.AddrPort
	buf     *[]byte
	samples int
}

// Splitter holds the tenants and makes their streams.
type Splitter struct {
	mu     sync.Mutex
	byName map[string]*tenant
	own    []netip.AddrPort
	idx    atomic.Pointer[index]

	namesMu sync.Mutex
	names   map[ifKey]string // port names learned from counter samples

	datagrams, samples atomic.Uint64 // received, for the filtered counts
	returned           atomic.Uint64 // tenant datagrams that came back to the engine
	recent             recent

	conn  *net.UDPConn
	queue chan item
	quit  chan struct{}
	wg    sync.WaitGroup
	// Free lists rather than sync.Pools: a pool is emptied by the garbage
	// collector, and refilling it is an allocation on the receive path.
	scratch chan *scratch
	bufs    chan *[]byte
	log     *slog.Logger
}

// New returns a splitter with no tenant, its sender running (one, so that
// each stream leaves in the order its sequence numbers were given); Close stops
// it.
func New(log *slog.Logger) (*Splitter, error) {
	if log == nil {
		log = slog.Default()
	}
	conn, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, fmt.Errorf("tenant streams: opening the sending socket: %w", err)
	}
	s := &Splitter{byName: map[string]*tenant{}, names: map[ifKey]string{}, conn: conn,
		queue: make(chan item, QueueLength), quit: make(chan struct{}), log: log}
	s.scratch = make(chan *scratch, spareScratch)
	s.bufs = make(chan *[]byte, QueueLength+spareBuffers)
	s.idx.Store(build(nil, nil))
	b, err := newBatcher(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tenant streams: the sending socket: %w", err)
	}
	s.wg.Add(1)
	go s.send(b)
	return s, nil
}

// Close stops the sender; datagrams still queued are dropped.
func (s *Splitter) Close() {
	close(s.quit)
	s.conn.Close()
	s.wg.Wait()
}

// SetOwn tells the splitter where the engine receives sFlow, so that a
// tenant whose collector is the engine itself is refused.
func (s *Splitter) SetOwn(addrs ...netip.AddrPort) {
	s.mu.Lock()
	s.own = addrs
	s.mu.Unlock()
}

// Set creates or replaces a tenant. A replaced tenant keeps its sequence
// numbers and counters: its collector sees one stream.
func (s *Splitter) Set(name string, spec Spec) error {
	if err := flow.ValidName(name); err != nil {
		return fmt.Errorf("tenant %v", err)
	}
	c, err := compile(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := forward.ReachesSelf(c.dest, s.own); ok {
		return &FieldError{Field: "collectorAddress", Msg: fmt.Sprintf("%s would send the tenant's stream back to this engine (it receives sFlow on %s), "+
			"and each datagram would be split again: give the tenant's collector", c.dest, at)}
	}
	t := &tenant{name: name, spec: spec, c: c}
	if old := s.byName[name]; old != nil {
		t.st = old.st
	} else {
		t.st = &stream{seqs: map[streamKey]uint32{}, baseDatagrams: s.datagrams.Load(), baseSamples: s.samples.Load()}
	}
	s.byName[name] = t
	s.publish()
	return nil
}

// Delete removes a tenant; false when there was none.
func (s *Splitter) Delete(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byName[name]; !ok {
		return false
	}
	delete(s.byName, name)
	s.publish()
	return true
}

// publish rebuilds the index (s.mu held).
func (s *Splitter) publish() {
	list := make([]*tenant, 0, len(s.byName))
	for _, t := range s.byName {
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b *tenant) int {
		if a.name < b.name {
			return -1
		}
		return 1
	})
	s.namesMu.Lock()
	x := build(list, s.names)
	s.namesMu.Unlock()
	s.idx.Store(x)
}

// Get returns a tenant and its counters.
func (s *Splitter) Get(name string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byName[name]
	if !ok {
		return Status{}, false
	}
	return s.status(t), true
}

// All returns every tenant by name.
func (s *Splitter) All() map[string]Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Status, len(s.byName))
	for k, t := range s.byName {
		out[k] = s.status(t)
	}
	return out
}

// Specs returns every tenant's definition (for saving).
func (s *Splitter) Specs() map[string]Spec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Spec, len(s.byName))
	for k, t := range s.byName {
		out[k] = t.spec
	}
	return out
}

// Returned counts tenant datagrams that came back to the engine.
func (s *Splitter) Returned() uint64 { return s.returned.Load() }

func (s *Splitter) status(t *tenant) Status {
	st := t.st
	built, builtSamples := st.built.Load(), st.builtSamples.Load()
	return Status{Spec: t.spec, DatagramsForwarded: st.sent.Load(), DatagramsDropped: st.dropped.Load(),
		DatagramsFiltered: sub(s.datagrams.Load()-st.baseDatagrams, built),
		SamplesForwarded:  st.sentSamples.Load(), SamplesDropped: st.droppedSamples.Load(),
		SamplesFiltered: sub(s.samples.Load()-st.baseSamples, builtSamples), SendErrors: st.errors.Load()}
}

// sub is a-b, 0 while a racing reader sees b ahead of a.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// Process splits one decoded datagram into its tenants' streams. It never
// blocks and keeps nothing of d.
func (s *Splitter) Process(d *sflow.Datagram) {
	for i := range d.Samples {
		if f := d.Samples[i].Format; f == sflow.CounterSample || f == sflow.ExpandedCounterSample {
			s.learn(d.Agent, &d.Samples[i])
		}
	}
	x := s.idx.Load() // after learning: a name just learned may have rebuilt it
	if len(x.tenants) == 0 {
		return
	}
	s.datagrams.Add(1)
	s.samples.Add(uint64(len(d.Samples)))
	var sc *scratch
	select {
	case sc = <-s.scratch:
	default:
		sc = &scratch{}
	}
	sc.reset(len(x.tenants))
	for i := range d.Samples {
		smp := &d.Samples[i]
		sc.at(i)
		switch smp.Format {
		case sflow.FlowSample, sflow.ExpandedFlowSample, sflow.DiscardedPacketSample:
			x.matchFlow(sc, d.Agent, smp)
		case sflow.CounterSample, sflow.ExpandedCounterSample:
			x.matchCounters(sc, d.Agent, smp)
		}
	}
	for _, id := range sc.touched {
		s.emit(x.tenants[id], d, sc.picks[id], sc)
	}
	select {
	case s.scratch <- sc:
	default:
	}
}

// learn notes a counter sample's port name; a name that is new or changed
// and that an ifname filter names rebuilds the index.
func (s *Splitter) learn(agent netip.Addr, smp *sflow.Sample) {
	if smp.SourceClass != 0 {
		return
	}
	name, ok := portName(smp)
	if !ok {
		return
	}
	k := ifKey{agent, smp.SourceIndex}
	s.namesMu.Lock()
	old, known := s.names[k]
	if known && old == string(name) {
		s.namesMu.Unlock()
		return
	}
	if len(s.names) >= maxNames && !known {
		s.namesMu.Unlock()
		return
	}
	n := string(name)
	s.names[k] = n
	s.namesMu.Unlock()
	x := s.idx.Load()
	_, wanted := x.ifnames[nameKey{agent, n}]
	_, was := x.ifnames[nameKey{agent, old}]
	if wanted || (known && was) {
		s.mu.Lock()
		s.publish()
		s.mu.Unlock()
	}
}

// maxNames bounds the port names remembered (a flood of spoofed agents
// must not grow the table without end): beyond it, interfaces not yet
// named stay unnamed, and ifname filters do not select them. The engine's
// own bound on data sources (datasources.max) is 100,000 by default.
const maxNames = 1 << 17

// emit encodes the samples picked for t as one datagram of t's stream and
// queues it.
func (s *Splitter) emit(t *tenant, d *sflow.Datagram, picks []int32, sc *scratch) {
	st := t.st
	out := &sc.out
	out.Version, out.Agent, out.SubAgentID, out.Sequence, out.Uptime = 5, d.Agent, d.SubAgentID, 0, d.Uptime
	out.Samples = out.Samples[:0]
	sc.recs = sc.recs[:0]
	for _, i := range picks {
		smp := d.Samples[i]
		counter := smp.Format == sflow.CounterSample || smp.Format == sflow.ExpandedCounterSample
		start := len(sc.recs)
		for _, r := range smp.Records {
			sc.recs = append(sc.recs, trimmed(r, counter))
		}
		smp.Records = sc.recs[start:len(sc.recs):len(sc.recs)]
		out.Samples = append(out.Samples, smp)
	}
	buf := s.buffer()
	b, err := out.AppendBinary((*buf)[:0])
	*buf = b
	st.built.Add(1)
	st.builtSamples.Add(uint64(len(picks)))
	if err != nil { // the agent address decoded, so this cannot happen; counted if it does
		st.errors.Add(1)
		st.dropped.Add(1)
		st.droppedSamples.Add(uint64(len(picks)))
		s.free(buf)
		return
	}
	// The sequence number is given and the datagram queued under the
	// stream's lock, so that the stream leaves in sequence even when two
	// collector goroutines split datagrams of one agent.
	k := streamKey{d.Agent, d.SubAgentID}
	st.mu.Lock()
	seq := st.seqs[k] + 1
	st.seqs[k] = seq
	binary.BigEndian.PutUint32(b[seqOffset(d.Agent):], seq)
	s.recent.add(d.Agent, d.SubAgentID, seq, d.Uptime, len(b))
	select {
	case s.queue <- item{st: st, dest: t.c.dest, buf: buf, samples: len(picks)}:
	default:
		st.dropped.Add(1)
		st.droppedSamples.Add(uint64(len(picks)))
		s.free(buf)
	}
	st.mu.Unlock()
}

// seqOffset is where a datagram's sequence number is: after the version,
// the agent's address type and address, and the sub-agent.
func seqOffset(agent netip.Addr) int {
	if agent.Is4() {
		return 4 + 4 + 4 + 4
	}
	return 4 + 4 + 16 + 4
}

// buffer returns a datagram buffer from the free list, or a new one.
func (s *Splitter) buffer() *[]byte {
	select {
	case b := <-s.bufs:
		return b
	default:
		b := make([]byte, 0, 2048)
		return &b
	}
}

// free puts a buffer back on the free list (unless the list is full).
func (s *Splitter) free(b *[]byte) {
	select {
	case s.bufs <- b:
	default:
	}
}

// IsReturned reports whether a received datagram is one of the tenant
// datagrams sent lately coming back (a loop through another collector),
// and counts it: the engine should neither apply nor split it again.
func (s *Splitter) IsReturned(agent netip.Addr, subAgent, seq, uptime uint32, length int) bool {
	if len(s.idx.Load().tenants) == 0 && s.recent.empty() {
		return false
	}
	if s.recent.has(agent, subAgent, seq, uptime, length) {
		s.returned.Add(1)
		return true
	}
	return false
}

// maxBatch is how many queued datagrams one send hands the kernel.
const maxBatch = 64

// send takes the queued datagrams, as many as are waiting up to maxBatch,
// and sends them together (send_linux.go: one sendmmsg).
func (s *Splitter) send(b *batcher) {
	defer s.wg.Done()
	warned := false
	items := make([]item, 0, maxBatch)
	for {
		items = items[:0]
		select {
		case it := <-s.queue:
			items = append(items, it)
		case <-s.quit:
			return
		}
	more:
		for len(items) < maxBatch {
			select {
			case it := <-s.queue:
				items = append(items, it)
			default:
				break more
			}
		}
		ok := b.send(items)
		if len(ok) < len(items) { // the socket is closed: Close
			return
		}
		for i, it := range items {
			if ok[i] {
				it.st.sent.Add(1)
				it.st.sentSamples.Add(uint64(it.samples))
			} else {
				it.st.errors.Add(1)
				it.st.dropped.Add(1)
				it.st.droppedSamples.Add(uint64(it.samples))
				if !warned {
					s.log.Warn("tenant streams: the kernel refused a datagram (is the tenant's collector reachable?)", "to", it.dest)
					warned = true
				}
			}
			s.free(it.buf)
		}
	}
}
