package export

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// IPFIXPort is the collectors' port when a collector names none (RFC 7011).
const IPFIXPort = "4739"

// DefinitionsDomain is the observation domain of the flow definitions'
// records, so that a collector that also takes the converted samples
// (domain 0, ipfix.collectors) keeps their templates and sequence numbers
// apart.
const DefinitionsDomain = 1

// MaxMessage bounds a message so it fits an Ethernet MTU unfragmented.
const MaxMessage = 1400

// FlowRecord is a flow definition's record as the IPFIX exporter takes it:
// the key values joined by the definition's fs, the value and the extra
// values (scaled, since the flow started or since the previous record),
// and the span in ms since the epoch.
type FlowRecord struct {
	Name       string
	FlowKeys   string
	Value      float64
	Values     []float64
	Start, End int64
}

// IPFIX sends the records of flow definitions that have ipfixCollectors
// (flow ends and activeTimeout records) to each collector as IPFIX over
// UDP: one template per layout of keys and values, sent before its first
// record and again every TemplateRefresh (RFC 7011 §8.4), records batched
// into messages of at most MaxMessage bytes sent at least every second.
// Record only queues; a full queue drops the record, counted.
type IPFIX struct {
	TemplateRefresh time.Duration // default 60 s
	Log             *slog.Logger

	queue chan queuedRecord
	stats counts

	// Run's own state (one goroutine).
	collectors map[string]*ipfixCollector
	templates  map[string]uint16 // layout → template id
	layouts    map[uint16]*ipfixLayout
	nextID     uint16
	rec        []byte
}

type queuedRecord struct {
	r    FlowRecord
	spec flow.Spec
}

// ipfixLayout is a template: the keys' elements in the definition's order,
// then the counts and the times.
type ipfixLayout struct {
	id     uint16
	fields []Element
	keys   []keyElement
	counts []int // per count field: -1 the value, i ≥ 0 Values[i]
}

type ipfixCollector struct {
	addr     string
	conn     net.Conn
	err      error
	retry    time.Time
	msg      Message
	seq      uint32 // data records sent (RFC 7011's sequence number)
	pending  uint32 // data records in msg
	sentTmpl map[uint16]time.Time
}

// NewIPFIX makes the exporter with a queue of queueLen records.
func NewIPFIX(queueLen int, log *slog.Logger) *IPFIX {
	if log == nil {
		log = slog.Default()
	}
	return &IPFIX{TemplateRefresh: time.Minute, Log: log, queue: make(chan queuedRecord, queueLen),
		collectors: map[string]*ipfixCollector{}, templates: map[string]uint16{}, layouts: map[uint16]*ipfixLayout{}, nextID: 256}
}

// Record queues a record of a definition with ipfixCollectors; it never
// waits (the engine calls it with an agent locked).
func (x *IPFIX) Record(r FlowRecord, spec flow.Spec) {
	select {
	case x.queue <- queuedRecord{r, spec}:
	default:
		x.stats.add(0, 0, "queue full", uint64(len(spec.IPFIX)), nil)
	}
}

// Stats returns the exporter's counts (Sent: data records delivered,
// counted once per collector).
func (x *IPFIX) Stats() Stats {
	st := x.stats.snapshot()
	st.Destination = "ipfixCollectors"
	return st
}

// Run sends queued records until ctx ends, then flushes what it holds.
func (x *IPFIX) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			x.flushAll()
			for _, c := range x.collectors {
				if c.conn != nil {
					c.conn.Close()
				}
			}
			return
		case q := <-x.queue:
			x.send(q, time.Now())
		case <-tick.C:
			x.flushAll()
		}
	}
}

// send adds one record to the message of each of its collectors.
func (x *IPFIX) send(q queuedRecord, now time.Time) {
	l, err := x.layout(q.spec)
	if err != nil {
		x.stats.add(0, 0, "no template", uint64(len(q.spec.IPFIX)), err)
		return
	}
	rec, ok := x.encode(l, q)
	if !ok {
		x.stats.add(0, 0, "bad key value", uint64(len(q.spec.IPFIX)), fmt.Errorf("flow %s: keys %q do not fit the IPFIX elements", q.r.Name, q.r.FlowKeys))
		return
	}
	for _, addr := range q.spec.IPFIX {
		c := x.collector(addr, now)
		if c.conn == nil {
			x.stats.add(0, 0, "unresolved", 1, c.err)
			continue
		}
		refresh := x.TemplateRefresh <= 0 || now.Sub(c.sentTmpl[l.id]) >= x.TemplateRefresh
		need := len(rec) + 4
		if refresh {
			need += TemplateLen(len(l.fields))
		}
		if !c.msg.Empty() && len(c.msg.Buf)+need > MaxMessage {
			x.flush(c)
		}
		if c.msg.Empty() {
			c.msg.Start(uint32(now.Unix()), c.seq, 0)
		}
		if refresh {
			c.msg.Template(l.id, l.fields)
			c.sentTmpl[l.id] = now
		}
		c.msg.Data(l.id)
		c.msg.Buf = append(c.msg.Buf, rec...)
		c.msg.Done()
		c.pending++
	}
}

func (x *IPFIX) flushAll() {
	for _, c := range x.collectors {
		x.flush(c)
	}
}

// flush sends a collector's message. A lost message still advances the
// sequence number, so the collector sees the loss too.
func (x *IPFIX) flush(c *ipfixCollector) {
	if c.msg.Empty() {
		return
	}
	b := c.msg.End()
	n := c.pending
	c.seq += n
	c.pending = 0
	c.msg.records = 0
	if _, err := c.conn.Write(b); err != nil {
		x.stats.add(0, 0, "unreachable", uint64(n), fmt.Errorf("IPFIX to %s: %w", c.addr, err))
		clear(c.sentTmpl) // the templates may have been lost with it
		return
	}
	x.stats.add(uint64(n), 1, "", 0, nil)
}

// collector returns the collector's state, dialling it when it is new (a
// name that does not resolve is tried again after 10 s).
func (x *IPFIX) collector(addr string, now time.Time) *ipfixCollector {
	c := x.collectors[addr]
	if c == nil {
		c = &ipfixCollector{addr: addr, msg: Message{Version: 10, Domain: DefinitionsDomain}, sentTmpl: map[uint16]time.Time{}}
		x.collectors[addr] = c
	}
	if c.conn == nil && !now.Before(c.retry) {
		c.conn, c.err = net.Dial("udp", withPort(addr, IPFIXPort))
		if c.err != nil {
			c.retry = now.Add(10 * time.Second)
			x.Log.Warn("IPFIX collector unreachable; its records are dropped and counted until it resolves", "collector", addr, "err", c.err)
		} else {
			x.Log.Info("sending IPFIX", "collector", c.conn.RemoteAddr().String())
		}
	}
	return c
}

// withPort adds the default port to a host that has none.
func withPort(addr, port string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}

// layout returns the template for a definition's keys and values, making
// it on first use.
func (x *IPFIX) layout(spec flow.Spec) (*ipfixLayout, error) {
	values := append([]string{spec.Value}, spec.Values...)
	sig := strings.Join(spec.Keys, ",") + "|" + strings.Join(values, ",")
	if id, ok := x.templates[sig]; ok {
		return x.layouts[id], nil
	}
	if x.nextID == 0 { // wrapped past 65535
		return nil, fmt.Errorf("more than %d IPFIX templates", 65536-256)
	}
	l := &ipfixLayout{id: x.nextID}
	for _, k := range spec.Keys {
		ke, ok := keyElements[k]
		if !ok {
			return nil, fmt.Errorf("key %q has no IPFIX element", k)
		}
		if k == "ip6nexthdr" && slices.Contains(spec.Keys, "ipprotocol") {
			ke.ID = ieNextHeaderIPv6
		}
		l.keys = append(l.keys, ke)
		l.fields = append(l.fields, ke.Element)
	}
	for _, c := range []struct {
		name string
		id   uint16
	}{{"bytes", ieOctetDeltaCount}, {"frames", iePacketDeltaCount}} {
		if i := slices.Index(values, c.name); i >= 0 {
			l.counts = append(l.counts, i-1)
			l.fields = append(l.fields, Element{c.id, 8})
		}
	}
	l.fields = append(l.fields, Element{ieFlowStartMilliseconds, 8}, Element{ieFlowEndMilliseconds, 8})
	x.nextID++
	x.templates[sig] = l.id
	x.layouts[l.id] = l
	return l, nil
}

// encode is a record's data fields; ok is false when a key's value does
// not fit its element.
func (x *IPFIX) encode(l *ipfixLayout, q queuedRecord) ([]byte, bool) {
	b := x.rec[:0]
	rest := q.r.FlowKeys
	for i, ke := range l.keys {
		v := rest
		if i < len(l.keys)-1 {
			j := strings.Index(rest, q.spec.FS)
			if j < 0 {
				return b, false
			}
			v, rest = rest[:j], rest[j+len(q.spec.FS):]
		}
		var ok bool
		if b, ok = ke.appendValue(b, []byte(v)); !ok {
			return b, false
		}
	}
	for _, i := range l.counts {
		v := q.r.Value
		if i >= 0 {
			if i >= len(q.r.Values) {
				return b, false
			}
			v = q.r.Values[i]
		}
		b = binary.BigEndian.AppendUint64(b, uint64(math.Round(max(v, 0))))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(q.r.Start))
	b = binary.BigEndian.AppendUint64(b, uint64(q.r.End))
	x.rec = b
	return b, true
}
