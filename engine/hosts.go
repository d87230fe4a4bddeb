package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/packet"
	"github.com/flowrt/flowrt/sflow"
)

// The host: key function (host:<key>:<attribute>) names the host that owns
// an address: a Host sFlow agent's host by its agent address, and any host
// or container by the MACs its host_adapters report. The table is filled
// from counter samples that carry host_descr, so flows sampled on a bridge
// can be keyed by the container that sent them (host:macsource:host_name).
// A sample that says itself which data sources sent and received it
// (extended_entities: Host sFlow's containers, and systemd services with
// markTraffic) is more precise than any address — every service of a host
// shares its addresses — so a source key (ipsource, macsource…) names the
// sending entity and a destination key the receiving one, when they are
// given; the address is the fallback.

// hostAttributes are the attributes host: can return, in hostInfo order.
var hostAttributes = []string{"host_name", "machine_type", "os_name", "uuid", "os_release"}

type hostInfo [5]string

type hostEntry struct {
	info hostInfo
	seen atomic.Int64 // ms: entries no counter sample renewed age out with the agents
}

type hostTable struct {
	mu    sync.RWMutex
	byKey map[string]*hostEntry // agent address or MAC, as the flow keys spell them
	// max bounds the entries (a host_adapters record can list thousands of
	// MACs): past it the least recently renewed go, a batch at a time
	// (caps.go), counted in evicted.
	max     int
	evicted *atomic.Uint64
}

// learn records a counter sample's host, if it describes one: under the
// agent's address for the host itself (data source class 2) and under each
// of its MACs. It allocates only when something changed.
func (t *hostTable) learn(agent string, class uint32, ds *source, adapters *sflow.HostAdapters, ms int64, scratch []byte) []byte {
	var info hostInfo
	for i, name := range hostAttributes {
		if v, ok := ds.metrics.Get(name); ok {
			info[i] = v.Str
		}
	}
	if info[0] == "" {
		return scratch
	}
	set := func(key []byte) {
		t.mu.RLock()
		old := t.byKey[string(key)]
		t.mu.RUnlock()
		if old != nil && old.info == info {
			old.seen.Store(ms)
			return
		}
		t.mu.Lock()
		if t.byKey == nil {
			t.byKey = map[string]*hostEntry{}
		}
		if _, ok := t.byKey[string(key)]; !ok && len(t.byKey) >= t.max {
			t.evictLocked()
		}
		n := &hostEntry{info: info}
		n.seen.Store(ms)
		t.byKey[string(key)] = n
		t.mu.Unlock()
	}
	if class == 2 {
		set(append(scratch[:0], agent...))
	}
	set(appendEntityKey(scratch[:0], agent, ds.id)) // for extended_entities
	if adapters != nil {
		for _, ad := range adapters.Adapters {
			for _, m := range ad.MACs {
				scratch = packet.AppendMAC(scratch[:0], m[:]) // as macsource spells it
				set(scratch)
			}
		}
	}
	return scratch
}

func (t *hostTable) lookup(key []byte, attr int) (string, bool) {
	t.mu.RLock()
	h := t.byKey[string(key)]
	t.mu.RUnlock()
	if h == nil || h.info[attr] == "" {
		return "", false
	}
	return h.info[attr], true
}

// evictLocked drops the least recently renewed entries, 1/evictBatch of
// the bound (at least one), with t.mu held.
func (t *hostTable) evictLocked() {
	type aged struct {
		k    string
		seen int64
	}
	list := make([]aged, 0, len(t.byKey))
	for k, h := range t.byKey {
		list = append(list, aged{k, h.seen.Load()})
	}
	n := min(len(list), max(1, t.max/evictBatch))
	oldest(list, n, func(v *aged) int64 { return v.seen })
	for _, v := range list[:n] {
		delete(t.byKey, v.k)
	}
	t.evicted.Add(uint64(n))
}

// sweep forgets hosts and MACs no counter sample named since cutoff (ms).
func (t *hostTable) sweep(cutoff int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, h := range t.byKey {
		if h.seen.Load() < cutoff {
			delete(t.byKey, k)
		}
	}
}

// appendEntityKey is the table's key of a data source: "<agent>><ds>".
func appendEntityKey(dst []byte, agent, ds string) []byte {
	return append(append(append(dst, agent...), '>'), ds...)
}

// Which end of the packet an address key names, for extended_entities.
const (
	sideNone = iota
	sideSource
	sideDestination
)

type hostExpr struct {
	k    flow.Expr
	attr int
	t    *hostTable
	side int
}

func (e hostExpr) AppendValue(smp *flow.Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	if ent := smp.Entities; ent != nil && e.side != sideNone {
		class, index := ent.SrcClass, ent.SrcIndex
		if e.side == sideDestination {
			class, index = ent.DstClass, ent.DstIndex
		}
		if index != 0 {
			key := smp.Agent.AppendTo(dst)
			key = append(key, '>')
			if class != 0 {
				key = append(strconv.AppendUint(key, uint64(class), 10), '.')
			}
			key = strconv.AppendUint(key, uint64(index), 10)
			if v, ok := e.t.lookup(key[start:], e.attr); ok {
				return append(key[:start], v...), true
			}
			dst = key[:start]
		}
	}
	out, ok := e.k.AppendValue(smp, dst)
	if !ok {
		return dst, false
	}
	v, ok := e.t.lookup(out[start:], e.attr)
	if !ok {
		return dst, false
	}
	return append(out[:start], v...), true
}

func registerHost(c *flow.Compiler, t *hostTable) {
	c.Register("host", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("usage host:<address key>:<%s>, e.g. host:macsource:host_name", strings.Join(hostAttributes, "|"))
		}
		attr := slices.Index(hostAttributes, args[1])
		if attr < 0 {
			return nil, fmt.Errorf("host: attribute %q is not one of %s", args[1], strings.Join(hostAttributes, "|"))
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		side := sideNone
		switch {
		case strings.Contains(args[0], "source"):
			side = sideSource
		case strings.Contains(args[0], "destination"):
			side = sideDestination
		}
		return hostExpr{k: k, attr: attr, t: t, side: side}, nil
	})
}
