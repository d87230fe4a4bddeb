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
	mu       sync.Mutex
	removed  bool // aged out: workers that cached it must look again
	addr     netip.Addr
	name     string
	first    int64 // ms
	lastSeen int64 // ms
	uptime   uint32
	sources  map[uint64]*source
	subs     map[uint32]*seqTracker // datagram sequence per sub-agent
	named    map[string]uint64      // custom-metric data sources ("app1") → their key in sources
	senders  []netip.Addr           // source addresses datagrams came from

	// Accounting, in sFlow-RT's terms (see AgentInfo).
	datagrams, bytes, lostDatagrams, dupDatagrams, oooDatagrams, restarts, decodeErrors uint64
	samples                                                                             [3]sampleCounts
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

func newAgent(addr netip.Addr, now int64) *Agent {
	return &Agent{addr: addr, name: addr.String(), first: now, lastSeen: now,
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

func (a *Agent) source(class, index uint32, now int64) *source {
	k := sourceKey(class, index)
	ds := a.sources[k]
	if ds == nil {
		ds = &source{id: DataSourceName(class, index), class: class, index: index, metrics: metric.NewSet()}
		a.sources[k] = ds
	}
	ds.lastSeen = now
	return ds
}

// namedSource returns the data source of a custom-metric sample, which is
// named by a string rather than numbered.
func (a *Agent) namedSource(name []byte, now int64) *source {
	k, ok := a.named[string(name)]
	if !ok {
		if a.named == nil {
			a.named = map[string]uint64{}
		}
		k = 1<<63 | uint64(len(a.named))
		a.named[string(name)] = k
		a.sources[k] = &source{id: string(name), metrics: metric.NewSet()}
	}
	ds := a.sources[k]
	if ds == nil { // aged out and back
		ds = &source{id: string(name), metrics: metric.NewSet()}
		a.sources[k] = ds
	}
	ds.lastSeen = now
	return ds
}

func (ds *source) release() {
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
