package engine

import (
	"net/netip"
	"strconv"
	"sync"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// Agent is the state of one sFlow agent: its data sources and its
// accounting. mu guards everything in it.
type Agent struct {
	e        *Engine
	mu       sync.Mutex
	removed  bool // aged out or evicted: workers that cached it must look again
	addr     netip.Addr
	name     string
	first    int64 // ms
	lastSeen int64 // ms
	uptime   uint32
	sources  map[uint64]*source
	subs     map[uint32]*seqTracker // datagram sequence per sub-agent
	named    map[string]uint64      // custom-metric data sources ("app1") → their key in sources
	nextName uint64                 // the next custom-metric data source's key (with namedBit)
	senders  []netip.Addr           // source addresses datagrams came from
	hostName string                 // host_descr's hostname at its class 2 data source (names.go)

	// Accounting, in sFlow-RT's terms (see AgentInfo).
	datagrams, bytes, lostDatagrams, dupDatagrams, oooDatagrams, restarts, decodeErrors uint64
	samples                                                                             [3]sampleCounts
	// What the caps did to it (caps.go), and its records that did not
	// decode inside datagrams that did, by reason.
	sourcesEvicted, samplesRefused, unsequenced uint64
	recordErrors                                [numReasons]uint64
}

// Sample kinds, for accounting.
const (
	kindFlow = iota
	kindCounter
	kindDiscard
)

type sampleCounts struct {
	received, lost, duplicate, outOfOrder, drops uint64
}

func newAgent(e *Engine, addr netip.Addr, now int64) *Agent {
	return &Agent{e: e, addr: addr, name: addr.String(), first: now, lastSeen: now,
		sources: map[uint64]*source{}, subs: map[uint32]*seqTracker{}}
}

// source is one data source of an agent: its flow tables (indexed by
// definition slot) and its counter metrics.
type source struct {
	id       string
	class    uint32
	index    uint32
	tables   []*flow.Table
	metrics  *metric.Set
	seq      [3]seqTracker
	lastSeen int64 // ms
	// counters: when the previous counter sample arrived, by wall clock and
	// by the agent's uptime, to turn counters into rates.
	counterAt     int64
	counterUptime uint32
	// datasourceInfo(): the configured sampling rate, the packets the
	// sample pools say went by per sample received (higher when samples
	// are lost), and the measured gap between counter samples.
	samplingRate   uint32
	pool           uint32 // last sample_pool
	poolSamples    uint64 // flow samples since the first pool seen
	poolPackets    uint64 // their pool increase
	flowSamples    uint64
	counterSamples uint64
	lastCounterMs  int64
	pollMs         float64 // smoothed gap between counter samples
	ifname         string  // the interface's port_name, as last learned (names.go)
	// dropped: forgotten by its agent (evicted, or the agent aged out);
	// a worker holding it from admit skips it (apply.go). Agent.mu.
	dropped bool
}

func sourceKey(class, index uint32) uint64 { return uint64(class)<<32 | uint64(index) }

// DataSourceName is how sFlow-RT names a data source: the ifIndex for
// interfaces ("3"), class.index for the others ("2.1").
func DataSourceName(class, index uint32) string {
	if class == 0 {
		return strconv.FormatUint(uint64(index), 10)
	}
	return strconv.FormatUint(uint64(class), 10) + "." + strconv.FormatUint(uint64(index), 10)
}

// source returns a data source, adding it if it is new; nil when there is
// no room for it (see addSource).
func (a *Agent) source(class, index uint32, now int64) *source {
	k := sourceKey(class, index)
	ds := a.sources[k]
	if ds == nil {
		ds = &source{id: DataSourceName(class, index), class: class, index: index, metrics: metric.NewSet()}
		if !a.addSource(k, ds) {
			return nil
		}
	}
	ds.lastSeen = now
	return ds
}

// namedBit marks the keys of custom-metric data sources, which are named
// by a string rather than numbered.
const namedBit = 1 << 63

// namedSource returns the data source of a custom-metric sample, as
// source does.
func (a *Agent) namedSource(name []byte, now int64) *source {
	k, ok := a.named[string(name)]
	if !ok {
		ds := &source{id: string(name), metrics: metric.NewSet()}
		k = namedBit | a.nextName
		if !a.addSource(k, ds) {
			return nil
		}
		a.nextName++
		if a.named == nil {
			a.named = map[string]uint64{}
		}
		a.named[ds.id] = k
	}
	ds := a.sources[k]
	ds.lastSeen = now
	return ds
}

func (ds *source) release() {
	ds.dropped = true
	for _, t := range ds.tables {
		if t != nil {
			t.Clear()
		}
	}
	ds.tables = nil
}

// seqTracker follows one sequence number (of datagrams from a sub-agent,
// or of one kind of sample from a data source).
type seqTracker struct {
	last uint32
	seen bool
}

// restartGap is how far back a sequence number must jump to be taken for a
// restart of the agent rather than a datagram overtaken in the network.
const restartGap = 1000

type seqResult int

const (
	seqOK seqResult = iota
	seqLost
	seqDuplicate
	seqOutOfOrder
	seqRestart
)

// next accounts for sequence number seq; lost is the gap when it is seqLost.
func (t *seqTracker) next(seq uint32) (r seqResult, lost uint32) {
	if !t.seen {
		t.last, t.seen = seq, true
		return seqOK, 0
	}
	d := int64(seq) - int64(t.last)
	switch {
	case d == 1:
		t.last = seq
		return seqOK, 0
	case d > 1 && d < 1<<31:
		t.last = seq
		return seqLost, uint32(d - 1)
	case d == 0:
		return seqDuplicate, 0
	case d < -restartGap || seq <= 1:
		t.last = seq
		return seqRestart, 0
	default:
		return seqOutOfOrder, 0
	}
}

func (t *seqTracker) reset() { *t = seqTracker{} }
