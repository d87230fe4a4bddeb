package export

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// NetFlowPort is a NetFlow v9 collector's port when it names none (the
// port nfcapd, nfacctd and most collectors are set to).
const NetFlowPort = "2055"

// Samples converts every flow sample to one IPFIX (version 10) or NetFlow
// v9 record, as sflowtool -c does for NetFlow: the sampled packet's
// addresses, protocol, ports, TOS and TCP flags, the interfaces, and the
// traffic the sample stands for — packets = the sampling rate, bytes =
// frame length × sampling rate, the same scaling as the engine's bytes and
// frames flows. Samples of non-IP packets and dropped-packet (discard)
// samples have no NetFlow record; they are counted under those reasons.
// Add runs on the receiving goroutine: it encodes into the collectors'
// open messages with no allocation and writes a message when it is full;
// Run writes partial messages every second.
type Samples struct {
	version  uint16
	refresh  int64 // ms between template resends
	bootMs   int64 // v9's exporter start: the first sample's whole second (its clock may be a capture's)
	log      *slog.Logger
	keys     [nkeys]flow.Expr
	v4, v6   []Element
	mu       sync.Mutex
	scratch  []byte
	rec      []byte
	sinks    []*sampleSink
	stats    counts
	notIP    uint64
	discards uint64
}

type sampleSink struct {
	addr    string
	conn    net.Conn
	msg     Message
	seq     uint32 // IPFIX: data records before the message; v9: messages before it
	pending uint32
	tmpl    [2]int64 // ms each template (v4, v6) was last sent, 0 never
}

// The keys a record is made of, compiled once.
const (
	kSrc4 = iota
	kDst4
	kSrc6
	kDst6
	kProto
	kNext
	kTOS
	kTOS6
	kTCPSrc
	kTCPDst
	kUDPSrc
	kUDPDst
	kFlags
	nkeys
)

var sampleKeyNames = [nkeys]string{"ipsource", "ipdestination", "ip6source", "ip6destination", "ipprotocol", "ip6nexthdr",
	"iptos", "ip6tos", "tcpsourceport", "tcpdestinationport", "udpsourceport", "udpdestinationport", "tcpflags"}

// Template ids of the two record layouts.
const (
	templateV4 = 256
	templateV6 = 257
)

// NewSamples compiles the keys and dials the collectors (version 10 or
// 9; each host or host:port).
func NewSamples(c *flow.Compiler, version uint16, collectors []string, refresh time.Duration, log *slog.Logger) (*Samples, error) {
	if log == nil {
		log = slog.Default()
	}
	x := &Samples{version: version, refresh: refresh.Milliseconds(), log: log}
	for i, k := range sampleKeyNames {
		e, err := c.Key(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		x.keys[i] = e
	}
	first, last := Element{ieFlowStartMilliseconds, 8}, Element{ieFlowEndMilliseconds, 8}
	if version == 9 {
		first, last = Element{ieFirstSwitched, 4}, Element{ieLastSwitched, 4}
	}
	tail := []Element{{ieProtocolIdentifier, 1}, {ieIPClassOfService, 1}, {ieTCPControlBits, 1},
		{ieSourceTransportPort, 2}, {ieDestinationTransportPort, 2}, {ieIngressInterface, 4}, {ieEgressInterface, 4},
		{ieOctetDeltaCount, 8}, {iePacketDeltaCount, 8}, first, last}
	x.v4 = append([]Element{{ieSourceIPv4Address, 4}, {ieDestinationIPv4Address, 4}}, tail...)
	x.v6 = append([]Element{{ieSourceIPv6Address, 16}, {ieDestinationIPv6Address, 16}}, tail...)
	port, name := IPFIXPort, "ipfix.collectors"
	if version == 9 {
		port, name = NetFlowPort, "netflow.collectors"
	}
	for _, a := range collectors {
		if err := flow.CheckCollector(a); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		conn, err := net.Dial("udp", withPort(a, port))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		x.sinks = append(x.sinks, &sampleSink{addr: conn.RemoteAddr().String(), conn: conn,
			msg: Message{Version: version, Buf: make([]byte, 0, MaxMessage+256)}})
		log.Info("converting flow samples", "version", version, "collector", conn.RemoteAddr().String())
	}
	x.scratch = make([]byte, 0, 256)
	x.rec = make([]byte, 0, 128)
	return x, nil
}

// Add converts one flow sample (the engine's sample hook).
func (x *Samples) Add(s *flow.Sample, ms int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s.Dropped {
		x.discards++
		return
	}
	v6 := false
	rec, ok := x.addrs(s, kSrc4, 4)
	if !ok {
		if rec, ok = x.addrs(s, kSrc6, 16); !ok {
			x.notIP++
			return
		}
		v6 = true
	}
	proto, tos := kProto, kTOS
	if v6 {
		proto, tos = kNext, kTOS6
	}
	rec = append(rec, byte(x.uint(s, proto)), byte(x.uint(s, tos)), x.flags(s))
	sp, dp := x.uint(s, kTCPSrc), x.uint(s, kTCPDst)
	if sp == 0 && dp == 0 {
		sp, dp = x.uint(s, kUDPSrc), x.uint(s, kUDPDst)
	}
	rec = binary.BigEndian.AppendUint16(rec, uint16(sp))
	rec = binary.BigEndian.AppendUint16(rec, uint16(dp))
	rec = binary.BigEndian.AppendUint32(rec, ifIndex(s.Input.Format, s.Input.Value))
	rec = binary.BigEndian.AppendUint32(rec, ifIndex(s.Output.Format, s.Output.Value))
	rate := uint64(max(s.SamplingRate, 1))
	rec = binary.BigEndian.AppendUint64(rec, uint64(s.FrameLength)*rate)
	rec = binary.BigEndian.AppendUint64(rec, rate)
	if x.version == 9 {
		if x.bootMs == 0 {
			x.bootMs = ms / 1000 * 1000
		}
		up := uint32(max(ms-x.bootMs, 0))
		rec = binary.BigEndian.AppendUint32(rec, up)
		rec = binary.BigEndian.AppendUint32(rec, up)
	} else {
		rec = binary.BigEndian.AppendUint64(rec, uint64(ms))
		rec = binary.BigEndian.AppendUint64(rec, uint64(ms))
	}
	x.rec = rec
	t, id, fields := 0, uint16(templateV4), x.v4
	if v6 {
		t, id, fields = 1, templateV6, x.v6
	}
	for _, k := range x.sinks {
		refresh := k.tmpl[t] == 0 || ms < k.tmpl[t] || ms-k.tmpl[t] >= x.refresh
		need := len(rec) + 4
		if refresh {
			need += TemplateLen(len(fields))
		}
		if !k.msg.Empty() && len(k.msg.Buf)+need > MaxMessage {
			x.flush(k, ms)
		}
		if k.msg.Empty() {
			// v9's header tells seconds only: its uptime is the uptime at
			// that whole second, so a collector's boot time (seconds ×
			// 1000 − uptime) and with it the records' times are exact.
			sec := ms / 1000
			k.msg.Start(uint32(sec), k.seq, uint32(max(sec*1000-x.bootMs, 0)))
		}
		if refresh {
			k.msg.Template(id, fields)
			k.tmpl[t] = max(ms, 1)
		}
		k.msg.Data(id)
		k.msg.Buf = append(k.msg.Buf, rec...)
		k.msg.Done()
		k.pending++
	}
}

// addrs starts the record with the sample's source and destination of one
// IP version; ok is false when the sample has none.
func (x *Samples) addrs(s *flow.Sample, first, size int) ([]byte, bool) {
	rec := x.rec[:0]
	kind := kindIPv4
	if size == 16 {
		kind = kindIPv6
	}
	for i := first; i < first+2; i++ {
		v, ok := x.keys[i].AppendValue(s, x.scratch[:0])
		if !ok {
			return rec, false
		}
		if rec, ok = (keyElement{Element{0, uint16(size)}, kind}).appendValue(rec, v); !ok {
			return rec, false
		}
	}
	return rec, true
}

// uint is a numeric key's value, 0 when the sample has none.
func (x *Samples) uint(s *flow.Sample, k int) uint64 {
	v, ok := x.keys[k].AppendValue(s, x.scratch[:0])
	if !ok {
		return 0
	}
	n, _ := parseUint(v)
	return n
}

// flags is the TCP flags' low byte (CWR … FIN), 0 for other protocols.
func (x *Samples) flags(s *flow.Sample) byte {
	v, ok := x.keys[kFlags].AppendValue(s, x.scratch[:0])
	if !ok || len(v) != 9 {
		return 0
	}
	var f byte
	for _, c := range v[1:] {
		f = f<<1 | (c - '0')
	}
	return f
}

// ifIndex is an sFlow interface as NetFlow's: an ifIndex, else 0.
func ifIndex(format, value uint32) uint32 {
	if format != 0 || value == 0x3FFFFFFF {
		return 0
	}
	return value
}

// flush writes a sink's message (under x.mu).
func (x *Samples) flush(k *sampleSink, ms int64) {
	if k.msg.Empty() {
		return
	}
	b := k.msg.End()
	n := k.pending
	if x.version == 9 {
		k.seq++
	} else {
		k.seq += n
	}
	k.pending = 0
	k.msg.records = 0
	if _, err := k.conn.Write(b); err != nil {
		x.stats.add(0, 0, "unreachable", uint64(n), fmt.Errorf("to %s: %w", k.addr, err))
		k.tmpl = [2]int64{} // the templates may have been lost with it
		return
	}
	x.stats.add(uint64(n), 1, "", 0, nil)
}

// Run writes the messages that are not full every second until ctx ends.
func (x *Samples) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			x.Flush()
			for _, k := range x.sinks {
				k.conn.Close()
			}
			return
		case <-tick.C:
			x.Flush()
		}
	}
}

// Flush writes every open message.
func (x *Samples) Flush() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, k := range x.sinks {
		x.flush(k, 0)
	}
}

// Stats returns the converter's counts: Sent is records delivered, once
// per collector.
func (x *Samples) Stats() Stats {
	st := x.stats.snapshot()
	x.mu.Lock()
	defer x.mu.Unlock()
	st.Destination = fmt.Sprintf("NetFlow v%d", x.version)
	if x.version == 10 {
		st.Destination = "IPFIX"
	}
	for _, k := range x.sinks {
		st.Destination += " " + k.addr
	}
	if x.notIP > 0 {
		st.Dropped["not IP"] = x.notIP
	}
	if x.discards > 0 {
		st.Dropped["discard sample"] = x.discards
	}
	return st
}
