package main_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// tenantDef is a tenant as the test defines it, and as the brute-force
// selection reads it.
type tenantDef struct {
	name                  string
	ifindex, ifname, cidr []string
	mac                   []string
	sock                  *net.UDPConn
	mu                    sync.Mutex
	got                   [][]byte // the datagrams its collector received
}

func (td *tenantDef) body() string {
	q := func(l []string) string {
		if len(l) == 0 {
			return "[]"
		}
		return `["` + strings.Join(l, `","`) + `"]`
	}
	return fmt.Sprintf(`{"collectorAddress":"127.0.0.1","collectorPort":%d,"filters":{"ifindex":%s,"ifname":%s,"cidr":%s,"mac":%s}}`,
		td.sock.LocalAddr().(*net.UDPAddr).Port, q(td.ifindex), q(td.ifname), q(td.cidr), q(td.mac))
}

// TestTenantStreams: three tenants over a shared feed — the Open vSwitch
// counter samples of the shared captures (port names br-int and
// tapd98154f2-00), the other real captures, and synthetic agents — each
// receive on a real UDP socket a stream holding exactly the samples their
// filters select, as a brute-force pass over the original datagrams finds
// them; each stream decodes cleanly in flowrt decode and in tshark, its
// sequence numbers run 1, 2, 3 … per agent and sub-agent, and no padding
// or trailing byte of the originals comes through.
func TestTenantStreams(t *testing.T) {
	need(t, "tshark")
	dir := testdata.Dir(t)
	feed, tunnelAgent := tenantFeed(t, dir)
	g := feedAgents
	tenants := []*tenantDef{
		{name: "ovs", ifname: []string{"127.0.0.1_br-int", "127.0.0.1_tapd98154f2-00"},
			ifindex: []string{"192.168.119.184_1", tunnelAgent + "_7"}},
		{name: "cloud", ifindex: []string{g[0] + "_1", g[0] + "_2", "10.1.248.22_599"},
			ifname: []string{"192.168.119.184_eno1", g[1] + "_swp3"}},
		{name: "web", cidr: []string{"192.168.0.0/28", "10.0.0.128/25", "2a0c:8880:2::/48", "10.1.14.16/31", "172.31.0.0/16@1"},
			mac: []string{"B8CA3A6DF040"}},
	}
	// tshark 4 finds the OVS counter samples malformed (it mis-reads the
	// records after an OpenFlow port record): a tenant datagram of those
	// may be malformed in tshark too, and no other.
	original := writeStreamPcap(t, feed)
	e := startEngine(t)
	for _, td := range tenants {
		var err error
		if td.sock, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		td.sock.SetReadBuffer(8 << 20)
		defer td.sock.Close()
		go func() {
			buf := make([]byte, 65536)
			for {
				n, err := td.sock.Read(buf)
				if err != nil {
					return
				}
				td.mu.Lock()
				td.got = append(td.got, slices.Clone(buf[:n]))
				td.mu.Unlock()
			}
		}()
		if code, msg := e.do(t, "PUT", "/tenant/"+td.name+"/json", td.body()); code != 204 {
			t.Fatalf("PUT tenant %s: %d %s", td.name, code, msg)
		}
	}

	// The brute-force selection: every tenant, every sample, no index.
	names := map[string]string{} // agent_ifIndex → name, as the datagrams so far taught it
	want := map[string]map[string]int{}
	wantDatagrams := map[string]int{}
	totalSamples := 0
	headers := map[string]bool{} // agent, sub-agent and uptime of each original
	for _, td := range tenants {
		want[td.name] = map[string]int{}
	}
	for _, b := range feed {
		var d sflow.Datagram
		sflow.Decode(b, &d)
		learnNames(&d, names)
		headers[fmt.Sprintf("%s/%d@%d", d.Agent, d.SubAgentID, d.Uptime)] = true
		totalSamples += len(d.Samples)
		for _, td := range tenants {
			n := 0
			for i := range d.Samples {
				if td.selects(t, names, d.Agent, &d.Samples[i]) {
					want[td.name][sampleKey(d.Agent, &d.Samples[i])]++
					n++
				}
			}
			if n > 0 {
				wantDatagrams[td.name]++
			}
		}
	}
	c, err := net.Dial("udp", e.sflow)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, b := range feed {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond) // well inside the socket buffer
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, td := range tenants {
		for {
			td.mu.Lock()
			n := len(td.got)
			td.mu.Unlock()
			if n >= wantDatagrams[td.name] || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // anything more would be too many

	var status map[string]struct {
		CollectorPort                                             int
		DatagramsForwarded, DatagramsDropped, DatagramsFiltered   int
		SamplesForwarded, SamplesDropped, SamplesFiltered, Errors int
	}
	e.get(t, "/tenant/json", &status)
	for _, td := range tenants {
		total := 0
		for _, n := range want[td.name] {
			total += n
		}
		if total == 0 || total == totalSamples {
			t.Fatalf("tenant %s selects %d of %d samples: the test should select some, not all", td.name, total, totalSamples)
		}
		td.mu.Lock()
		got := td.got
		td.mu.Unlock()
		t.Logf("tenant %s: %d datagrams, %d of the %d samples of %d datagrams", td.name, len(got), total, totalSamples, len(feed))
		checkStream(t, td.name, got, want[td.name], headers)
		s := status[td.name]
		if s.DatagramsForwarded != wantDatagrams[td.name] || s.SamplesForwarded != total || s.DatagramsDropped != 0 ||
			s.DatagramsFiltered != len(feed)-wantDatagrams[td.name] || s.SamplesFiltered != totalSamples-total {
			t.Errorf("tenant %s counters %+v: want %d datagrams and %d samples forwarded, %d and %d filtered", td.name, s,
				wantDatagrams[td.name], total, len(feed)-wantDatagrams[td.name], totalSamples-total)
		}
		file := writeStreamPcap(t, got)
		checkFlowrtDecode(t, td.name, file, original, want[td.name])
		checkTshark(t, td.name, file, got, tsharkMalformed(t, original))
	}
}

// feedAgents are the synthetic agents' addresses (as the generator makes
// them).
var feedAgents []string

// tenantFeed returns the shared feed in the order it is sent: port names
// first (as agents send counters at start), then the rest; and the
// address of the synthetic tunnel agent.
func tenantFeed(t *testing.T, dir string) ([][]byte, string) {
	raw := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "raw", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pcapFile := func(name string) [][]byte {
		var out [][]byte
		for _, d := range testdata.ReadPcap(t, filepath.Join(dir, name+".pcap")) {
			out = append(out, d.Payload)
		}
		return out
	}
	g, err := synth.New(synth.Config{Agents: 2, Ports: 4, Flows: 200, Zipf: 1.1, SamplingRate: 512, SamplesPerDgram: 6,
		Mix: []synth.Proto{synth.TCP, synth.UDP, synth.DNS}, Seed: 19})
	if err != nil {
		t.Fatal(err)
	}
	feedAgents = nil
	for _, a := range g.Agents() {
		feedAgents = append(feedAgents, a.String())
	}
	var feed [][]byte
	// Port names: the synthetic agents' swp1…swp4, OVS's, Host sFlow's.
	for i, a := range g.Agents() {
		d := sflow.Datagram{Agent: a, Sequence: 1000 + uint32(i), Uptime: 5000}
		for p := 1; p <= 4; p++ {
			d.Samples = append(d.Samples, counterSample(t, uint32(p), fmt.Sprintf("swp%d", p), false))
		}
		feed = append(feed, mustEncode(t, &d))
	}
	feed = append(feed, raw("gopacket_SFlowTestPacket9"), raw("gopacket_SFlowTestPacket12"), raw("gopacket_SFlowTestPacket13"),
		raw("telegraf_sflow_v5_example_sflow_v5"))
	for _, p := range []string{"gopacket_SFlowTestPacket1", "akvorado_data-1140", "akvorado_data-encap-vxlan",
		"akvorado_data-sflow-raw-ipv4", "akvorado_data-sflow-ipv4-data", "tcpdump_sflow-print-v6"} {
		feed = append(feed, pcapFile(p)...)
	}
	feed = append(feed, raw("telegraf_sflow_issue_15375_sflow_drop_1036"), raw("gopacket_SFlowEthernetFramePacket"))
	tunnel := netip.MustParseAddr("203.0.113.9")
	feed = append(feed, tunnelDatagram(t, tunnel))
	for i := range 40 {
		b, err := g.Datagram(nil, 6000+uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		feed = append(feed, b)
	}
	ctrs, err := g.Counters(nil, 7000)
	if err != nil {
		t.Fatal(err)
	}
	return append(feed, ctrs...), tunnel.String()
}

func mustEncode(t *testing.T, d *sflow.Datagram) []byte {
	d.Version = 5
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// counterSample is an interface's counters with its port name; junk puts
// bytes in the name's XDR padding, which must not reach a tenant.
func counterSample(t *testing.T, ifIndex uint32, name string, junk bool) sflow.Sample {
	gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: ifIndex, Type: 6, Speed: 1e9, Direction: 1, Status: 3, InOctets: 1000 * uint64(ifIndex)})
	if err != nil {
		t.Fatal(err)
	}
	pn, err := sflow.NewRecord(&sflow.PortName{Name: []byte(name)})
	if err != nil {
		t.Fatal(err)
	}
	if junk { // the encoder padded with zeros: junk instead, or after the name
		for i := 4 + len(name); i < len(pn.Data); i++ {
			pn.Data[i] = 0xEE
		}
		if len(name)%4 == 0 {
			pn.Data = append(pn.Data, 0xEE, 0xEE, 0xEE, 0xEE)
		}
	}
	return sflow.Sample{Format: sflow.CounterSample, Sequence: 77, SourceIndex: ifIndex, Records: []sflow.Record{gen, pn}}
}

// tunnelDatagram is an agent's datagram with a VXLAN-tunnelled sample
// (inner 172.31.5.1 → 172.31.9.9), a plain sample from 172.31.5.1 (outer:
// not the @1 prefix's), a discard sample of 192.168.0.3, and counters of
// ifIndex 7; its sampled headers and port name carry junk in their
// padding, and junk follows its last sample.
func tunnelDatagram(t *testing.T, agent netip.Addr) []byte {
	inner := ipv4Packet([4]byte{172, 31, 5, 1}, [4]byte{172, 31, 9, 9}, 6, 40)
	vx := append([]byte{0x08, 0, 0, 0, 0, 0, 0x2a, 0}, ethFrame([6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}, inner)...)
	outer := ethFrame([6]byte{2, 0, 0, 0, 0, 3}, [6]byte{2, 0, 0, 0, 0, 4},
		ipv4Packet([4]byte{198, 51, 100, 1}, [4]byte{198, 51, 100, 2}, 17, 8+len(vx), udpHeader(4789, 8+len(vx))...))
	outer = append(outer, vx...)
	plain := ethFrame([6]byte{2, 0, 0, 0, 0, 5}, [6]byte{2, 0, 0, 0, 0, 6}, ipv4Packet([4]byte{172, 31, 5, 1}, [4]byte{198, 51, 100, 7}, 6, 40))
	drop := ethFrame([6]byte{2, 0, 0, 0, 0, 7}, [6]byte{2, 0, 0, 0, 0, 8}, ipv4Packet([4]byte{192, 168, 0, 3}, [4]byte{198, 51, 100, 7}, 17, 8))
	hdr := func(b []byte) sflow.Record {
		r, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: uint32(len(b) + 4), Stripped: 4, Header: b})
		if err != nil {
			t.Fatal(err)
		}
		if len(b)%4 != 0 { // the encoder padded with zeros: junk instead
			for i := 16 + len(b); i < len(r.Data); i++ {
				r.Data[i] = 0xEE
			}
		} else {
			r.Data = append(r.Data, 0xEE, 0xEE, 0xEE, 0xEE) // past the declared header length
		}
		return r
	}
	d := sflow.Datagram{Agent: agent, SubAgentID: 3, Sequence: 500, Uptime: 123456, Samples: []sflow.Sample{
		{Format: sflow.FlowSample, Sequence: 1, SourceIndex: 7, SamplingRate: 1000, SamplePool: 9000,
			Input: sflow.Interface{Value: 7}, Output: sflow.Interface{Value: 8}, Records: []sflow.Record{hdr(outer)}},
		{Format: sflow.FlowSample, Sequence: 1, SourceIndex: 9, SamplingRate: 1000, SamplePool: 7000,
			Input: sflow.Interface{Value: 9}, Output: sflow.Interface{Value: 10}, Records: []sflow.Record{hdr(plain)}},
		{Format: sflow.DiscardedPacketSample, Sequence: 1, SourceIndex: 11, Drops: 2,
			Input: sflow.Interface{Value: 11}, Output: sflow.Interface{Format: 1, Value: 0}, DropReason: 3, Records: []sflow.Record{hdr(drop)}},
		counterSample(t, 7, "uplink7", true),
	}}
	return append(mustEncode(t, &d), 0xEE, 0xEE, 0xEE, 0xEE)
}

func ethFrame(dst, src [6]byte, payload []byte) []byte {
	b := append(append(append([]byte{}, dst[:]...), src[:]...), 0x08, 0x00)
	return append(b, payload...)
}

func ipv4Packet(src, dst [4]byte, proto byte, l4 int, hdr ...byte) []byte {
	b := make([]byte, 20, 20+len(hdr))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+l4))
	copy(b[12:], src[:])
	copy(b[16:], dst[:])
	if proto == 6 && len(hdr) == 0 {
		hdr = make([]byte, 20)
		hdr[12] = 0x50
	}
	return append(b, hdr...)
}

func udpHeader(dport, length int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b, 40000)
	binary.BigEndian.PutUint16(b[2:], uint16(dport))
	binary.BigEndian.PutUint16(b[4:], uint16(length))
	return b
}

func learnNames(d *sflow.Datagram, names map[string]string) {
	for _, s := range d.Samples {
		if (s.Format != sflow.CounterSample && s.Format != sflow.ExpandedCounterSample) || s.SourceClass != 0 {
			continue
		}
		for _, r := range s.Records {
			if v, err := recs.Decode(s.Format, r); err == nil {
				if pn, ok := v.(*sflow.PortName); ok && len(pn.Name) > 0 {
					names[fmt.Sprintf("%s_%d", d.Agent, s.SourceIndex)] = string(pn.Name)
				}
			}
		}
	}
}

// selects is the brute-force selection: does the tenant's definition, read
// literally, take this sample?
func (td *tenantDef) selects(t *testing.T, names map[string]string, agent netip.Addr, s *sflow.Sample) bool {
	iface := func(idx uint32) bool {
		k := fmt.Sprintf("%s_%d", agent, idx)
		return slices.Contains(td.ifindex, k) || (names[k] != "" && slices.Contains(td.ifname, fmt.Sprintf("%s_%s", agent, names[k])))
	}
	switch s.Format {
	case sflow.CounterSample, sflow.ExpandedCounterSample:
		return s.SourceClass == 0 && iface(s.SourceIndex)
	case sflow.FlowSample, sflow.ExpandedFlowSample, sflow.DiscardedPacketSample:
	default:
		return false
	}
	if s.SourceClass == 0 && iface(s.SourceIndex) {
		return true
	}
	for _, i := range []sflow.Interface{s.Input, s.Output} {
		if i.Format == 0 && i.Value != sflow.InternalIfIndex && iface(i.Value) {
			return true
		}
	}
	var addrs []levelAddr
	var macs []string
	for _, r := range s.Records {
		v, err := recs.Decode(s.Format, r)
		if err != nil {
			continue
		}
		switch v := v.(type) {
		case *sflow.SampledHeader:
			a, m := headerAddrs(v.Protocol, v.Header)
			addrs, macs = append(addrs, a...), append(macs, m...)
		case *sflow.SampledEthernet:
			macs = append(macs, hex.EncodeToString(v.Src[:]), hex.EncodeToString(v.Dst[:]))
		case *sflow.SampledIPv4:
			addrs = append(addrs, levelAddr{v.Src, 0}, levelAddr{v.Dst, 0})
		case *sflow.SampledIPv6:
			addrs = append(addrs, levelAddr{v.Src, 0}, levelAddr{v.Dst, 0})
		}
	}
	for _, c := range td.cidr {
		p, lvl, _ := strings.Cut(c, "@")
		level, _ := strconv.Atoi(lvl)
		prefix := netip.MustParsePrefix(p)
		for _, a := range addrs {
			if a.level == level && prefix.Contains(a.addr) {
				return true
			}
		}
	}
	for _, m := range td.mac {
		if slices.Contains(macs, strings.ToLower(m)) {
			return true
		}
	}
	return false
}

// recs decodes records for the brute-force selection.
var recs sflow.RecordCache

type levelAddr struct {
	addr  netip.Addr
	level int
}

// headerAddrs reads a sampled header the long way: Ethernet and its VLAN
// tags, IPv4 or IPv6, and inside a VXLAN tunnel the same again one level
// down; MACs of the outer frame only.
func headerAddrs(proto uint32, h []byte) ([]levelAddr, []string) {
	var out []levelAddr
	var macs []string
	var walk func(b []byte, level int, ether bool)
	walk = func(b []byte, level int, ether bool) {
		et := uint16(0)
		if ether {
			if len(b) < 14 {
				return
			}
			if level == 0 {
				macs = append(macs, hex.EncodeToString(b[0:6]), hex.EncodeToString(b[6:12]))
			}
			et, b = binary.BigEndian.Uint16(b[12:]), b[14:]
			for (et == 0x8100 || et == 0x88a8) && len(b) >= 4 {
				et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
			}
		} else if len(b) > 0 {
			et = map[byte]uint16{4: 0x0800, 6: 0x86dd}[b[0]>>4]
		}
		switch {
		case et == 0x0800 && len(b) >= 20:
			out = append(out, levelAddr{netip.AddrFrom4([4]byte(b[12:16])), level}, levelAddr{netip.AddrFrom4([4]byte(b[16:20])), level})
			ihl := int(b[0]&15) * 4
			if b[9] == 17 && len(b) >= ihl+8 && binary.BigEndian.Uint16(b[ihl+2:]) == 4789 && len(b) >= ihl+16 {
				walk(b[ihl+16:], level+1, true)
			}
		case et == 0x86dd && len(b) >= 40:
			out = append(out, levelAddr{netip.AddrFrom16([16]byte(b[8:24])), level}, levelAddr{netip.AddrFrom16([16]byte(b[24:40])), level})
		}
	}
	switch proto {
	case 1:
		walk(h, 0, true)
	case 11, 12:
		walk(h, 0, false)
	}
	return out, macs
}

// sampleKey names a sample by what a tenant's tools see of it: agent,
// type, data source, sequence number, interfaces, sampling.
func sampleKey(agent netip.Addr, s *sflow.Sample) string {
	return fmt.Sprintf("%s %s %d:%d seq=%d in=%d out=%d rate=%d pool=%d drops=%d records=%d", agent, s.Format, s.SourceClass, s.SourceIndex,
		s.Sequence, s.Input.Compact(), s.Output.Compact(), s.SamplingRate, s.SamplePool, s.Drops, len(s.Records))
}

// checkStream validates a tenant's datagrams as sFlow — each with the
// agent, sub-agent and uptime of an original — and compares their samples
// with the selection.
func checkStream(t *testing.T, name string, got [][]byte, want map[string]int, headers map[string]bool) {
	t.Helper()
	have := map[string]int{}
	next := map[string]uint32{}
	for i, b := range got {
		var d sflow.Datagram
		if err := sflow.Decode(b, &d); err != nil {
			t.Errorf("tenant %s datagram %d does not decode: %v", name, i, err)
			continue
		}
		if d.Size != len(b) || int(d.NumSamples) != len(d.Samples) || len(d.Samples) == 0 {
			t.Errorf("tenant %s datagram %d: %d bytes, %d of them framed; %d samples declared, %d decoded", name, i, len(b), d.Size, d.NumSamples, len(d.Samples))
		}
		stream := fmt.Sprintf("%s/%d", d.Agent, d.SubAgentID)
		if h := fmt.Sprintf("%s/%d@%d", d.Agent, d.SubAgentID, d.Uptime); !headers[h] {
			t.Errorf("tenant %s datagram %d: agent/sub-agent@uptime %s is no original datagram's", name, i, h)
		}
		if next[stream]++; d.Sequence != next[stream] {
			t.Errorf("tenant %s stream %s: datagram sequence number %d, want %d (contiguous from 1)", name, stream, d.Sequence, next[stream])
			next[stream] = d.Sequence
		}
		for j := range d.Samples {
			s := &d.Samples[j]
			have[sampleKey(d.Agent, s)]++
			for _, r := range s.Records {
				if err := zeroPadding(s.Format, r); err != nil {
					t.Errorf("tenant %s datagram %d sample %s: %v", name, i, sampleKey(d.Agent, s), err)
				}
			}
		}
	}
	for k, n := range want {
		if have[k] != n {
			t.Errorf("tenant %s: sample %s %d times, want %d", name, k, have[k], n)
		}
	}
	for k, n := range have {
		if want[k] == 0 {
			t.Errorf("tenant %s received %d× a sample that is not its own: %s", name, n, k)
		}
	}
}

// zeroPadding checks that a sampled header or port name ends at its
// declared length, padded with zeros.
func zeroPadding(sample sflow.DataFormat, r sflow.Record) error {
	counter := sample == sflow.CounterSample || sample == sflow.ExpandedCounterSample
	var start int
	switch {
	case !counter && r.Format == 1 && len(r.Data) >= 16:
		start = 16 + int(binary.BigEndian.Uint32(r.Data[12:]))
	case counter && r.Format == 1005 && len(r.Data) >= 4:
		start = 4 + int(binary.BigEndian.Uint32(r.Data))
	default:
		return nil
	}
	if start > len(r.Data) || len(r.Data)-start > 3 {
		return fmt.Errorf("record %s: %d bytes after a declared %d", r.Format, len(r.Data)-start, start)
	}
	if bytes.ContainsFunc(r.Data[start:], func(c rune) bool { return c != 0 }) {
		return fmt.Errorf("record %s: padding % x is not zeros", r.Format, r.Data[start:])
	}
	return nil
}

// writeStreamPcap writes a tenant's datagrams as UDP to port 6343, for the
// decoders.
func writeStreamPcap(t *testing.T, got [][]byte) string {
	file := filepath.Join(t.TempDir(), "tenant.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcap.NewWriter(f, pcap.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range got {
		ip := ipv4Packet([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 17, 8+len(b), udpHeader(6343, 8+len(b))...)
		frame := ethFrame([6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}, ip)
		if err := w.WritePacket(time.Unix(1700000000+int64(i), 0), 0, frame, b); err != nil {
			t.Fatal(err)
		}
	}
	return file
}

// checkFlowrtDecode reads the stream back with flowrt decode: the samples
// it prints are the selection's, by agent, type, data source and sequence
// number, and each prints exactly as the same sample of the original
// capture does, record by record — a record framed differently (a length
// that leaves out the padding of its header bytes) prints a decode error
// there and nowhere in the original.
func checkFlowrtDecode(t *testing.T, name, file, original string, want map[string]int) {
	t.Helper()
	brief := func(k string) string { // agent, type, source and sequence of a sampleKey
		f := strings.Fields(k)
		return strings.Join(f[:4], " ")
	}
	wantBrief := map[string]int{}
	for k, n := range want {
		wantBrief[brief(k)] += n
	}
	have := decodedSamples(t, file)
	orig := decodedSamples(t, original)
	counts := map[string]int{}
	for k, blocks := range have {
		counts[k] = len(blocks)
		for i, b := range blocks {
			if strings.Contains(b, "decode error") {
				t.Errorf("tenant %s: flowrt decode finds an error in sample %s:\n%s", name, k, b)
			}
			if !slices.Contains(orig[k], b) {
				t.Errorf("tenant %s: sample %s (%d of %d) prints\n%s\nas no sample of the original does (the original's:\n%s)", name, k, i+1, len(blocks), b, strings.Join(orig[k], "\n"))
			}
		}
	}
	if len(counts) == 0 || !mapsEqual(counts, wantBrief) {
		t.Errorf("tenant %s: flowrt decode reads samples\n%v\nwant\n%v", name, counts, wantBrief)
	}
}

// decodedSamples is flowrt decode's text of a capture, one block per
// sample (startSample to endSample), by agent, type, data source and
// sequence number.
func decodedSamples(t *testing.T, file string) map[string][]string {
	t.Helper()
	out, err := exec.Command(flowrt, "decode", "-r", file).CombinedOutput()
	if err != nil {
		t.Fatalf("flowrt decode -r %s: %v\n%s", file, err, out)
	}
	samples := map[string][]string{}
	var agent, tag, source, seq string
	var block strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "agent":
			agent = v
		case "startSample":
			block.Reset()
		case "sampleType_tag":
			tag = v
		case "sourceId":
			source = v
		case "sampleSequenceNo":
			seq = v
		}
		block.WriteString(line)
		block.WriteByte('\n')
		if k == "endSample" {
			key := fmt.Sprintf("%s %s %s seq=%s", agent, tag, source, seq)
			samples[key] = append(samples[key], block.String())
		}
	}
	return samples
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// tsharkMalformed returns the datagrams of a capture that tshark finds
// malformed, by agent, sub-agent and uptime.
func tsharkMalformed(t *testing.T, file string) map[string]bool {
	out := map[string]bool{}
	for _, l := range nonEmpty(runCmd(t, "tshark", "-r", file, "-Y", "_ws.malformed", "-T", "fields", "-E", "separator=;",
		"-e", "sflow_245.agent", "-e", "sflow_245.agent.v6", "-e", "sflow_245.sub_agent_id", "-e", "sflow_245.sysuptime")) {
		out[l] = true
	}
	return out
}

// checkTshark reads the stream with tshark: nothing malformed that was not
// in the original, and each datagram's agent, sequence number and sample
// count are the ones sent.
func checkTshark(t *testing.T, name, file string, got [][]byte, excused map[string]bool) {
	t.Helper()
	for l := range tsharkMalformed(t, file) {
		if !excused[l] {
			t.Errorf("tenant %s: tshark finds a datagram malformed (agent;agent6;sub-agent;uptime %s) whose original is not", name, l)
		}
	}
	lines := nonEmpty(runCmd(t, "tshark", "-r", file, "-T", "fields", "-E", "separator=;", "-e", "sflow_245.agent",
		"-e", "sflow_245.agent.v6", "-e", "sflow_245.sequence_number", "-e", "sflow_245.numsamples"))
	if len(lines) != len(got) {
		t.Fatalf("tenant %s: tshark reads %d datagrams of %d", name, len(lines), len(got))
	}
	for i, l := range lines {
		var d sflow.Datagram
		sflow.Decode(got[i], &d)
		agent4, agent6 := d.Agent.String(), ""
		if d.Agent.Is6() {
			agent4, agent6 = "", agent4
		}
		if w := fmt.Sprintf("%s;%s;%d;%d", agent4, agent6, d.Sequence, len(d.Samples)); l != w {
			t.Errorf("tenant %s datagram %d: tshark reads %q, sent %q", name, i, l, w)
		}
	}
}
