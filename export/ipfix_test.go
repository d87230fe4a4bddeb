package export

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// listenUDP is a collector's socket on 127.0.0.1.
func listenUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readMessage(t *testing.T, c *net.UDPConn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 65536)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// sets splits a message after its header into set id → set body.
func sets(t *testing.T, m []byte, header int) map[uint16][]byte {
	t.Helper()
	out := map[uint16][]byte{}
	for b := m[header:]; len(b) > 0; {
		if len(b) < 4 {
			t.Fatalf("%d bytes after the last set", len(b))
		}
		id, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			t.Fatalf("set %d of length %d in %d bytes", id, n, len(b))
		}
		out[id] = b[4:n]
		b = b[n:]
	}
	return out
}

func be(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, binary.BigEndian, v)
	}
	return b.Bytes()
}

// TestSamplesRecord: one UDP sample becomes, over a real socket, an IPFIX
// message and a NetFlow v9 message whose template and record hold the
// sample's addresses, protocol, ports, interfaces, the scaled bytes and
// packets, and its time.
func TestSamplesRecord(t *testing.T) {
	const ms = 1_700_000_000_500
	for _, version := range []uint16{10, 9} {
		c := listenUDP(t)
		x, err := NewSamples(flow.NewCompiler(), version, []string{c.LocalAddr().String()}, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		x.Add(testSample(), ms)
		x.Flush()
		m := readMessage(t, c)
		header, tmplSet := 16, uint16(2)
		if version == 9 {
			header, tmplSet = 20, 0
		}
		if got := binary.BigEndian.Uint16(m); got != version {
			t.Fatalf("version %d, want %d", got, version)
		}
		if version == 10 && int(binary.BigEndian.Uint16(m[2:])) != len(m) {
			t.Errorf("IPFIX length %d, message %d bytes", binary.BigEndian.Uint16(m[2:]), len(m))
		}
		if version == 9 && binary.BigEndian.Uint16(m[2:]) != 2 {
			t.Errorf("v9 count %d, want 2 (a template and a record)", binary.BigEndian.Uint16(m[2:]))
		}
		s := sets(t, m, header)
		tmpl := s[tmplSet]
		if binary.BigEndian.Uint16(tmpl) != templateV4 || int(binary.BigEndian.Uint16(tmpl[2:])) != len(x.v4) {
			t.Fatalf("template %x", tmpl)
		}
		var ids []uint16
		for i := 4; i+4 <= len(tmpl); i += 4 {
			ids = append(ids, binary.BigEndian.Uint16(tmpl[i:]))
		}
		times := []uint16{152, 153}
		tail := be(uint64(ms), uint64(ms))
		if version == 9 {
			times = []uint16{22, 21}
			up := uint32(ms - x.bootMs)
			tail = be(up, up)
			// the header's uptime is at its whole second
			if sec, upH := binary.BigEndian.Uint32(m[8:]), binary.BigEndian.Uint32(m[4:]); int64(sec)*1000-int64(upH) != x.bootMs || x.bootMs != ms/1000*1000 {
				t.Errorf("v9 header: %d s, uptime %d: boot %d, want %d", sec, upH, int64(sec)*1000-int64(upH), x.bootMs)
			}
		}
		if want := append([]uint16{8, 12, 4, 5, 6, 7, 11, 10, 14, 1, 2}, times...); !slices.Equal(ids, want) {
			t.Errorf("template elements %v, want %v", ids, want)
		}
		want := append(be([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, uint8(17), uint8(0), uint8(0), uint16(5353), uint16(53),
			uint32(7), uint32(0), uint64(66000), uint64(1000)), tail...)
		data := s[templateV4]
		if version == 9 {
			data = data[:len(want)] // v9 pads its sets to 4 bytes
		}
		if !bytes.Equal(data, want) {
			t.Errorf("v%d record\n%x\nwant\n%x", version, data, want)
		}
		if st := x.Stats(); st.Sent != 1 || st.Batches != 1 {
			t.Errorf("stats %+v", st)
		}
	}
}

// TestIPFIXRecord: a definition's record becomes a template of the keys'
// elements (in the definition's order, then the counts and times) and a
// record of the values the key string spells; a key string that does not
// fit is refused, counted.
func TestIPFIXRecord(t *testing.T) {
	for _, k := range flow.IPFIXKeys {
		if _, ok := keyElements[k]; !ok {
			t.Errorf("key %s has no element", k)
		}
	}
	c := listenUDP(t)
	x := NewIPFIX(10, nil)
	spec, err := flow.ParseSpec([]byte(`{keys:'macsource,vlan,priority,ip6source,ip6nexthdr,udpdestinationport,inputifindex', value:'frames', values:['bytes'], fs:'|', ipfixCollectors:['` + c.LocalAddr().String() + `']}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	x.send(queuedRecord{FlowRecord{Name: "f", FlowKeys: "0A0B0C0D0E0F|42|3|2001:db8::1|17|53|unknown", Value: 12.4,
		Values: []float64{3000.6}, Start: 1000, End: 5000}, spec}, now)
	x.send(queuedRecord{FlowRecord{Name: "f", FlowKeys: "0A0B0C0D0E0F|70000|3|2001:db8::1|17|53|4", Value: 1, Values: []float64{1}}, spec}, now)
	x.flushAll()
	m := readMessage(t, c)
	s := sets(t, m, 16)
	tmpl := s[2]
	wantT := be(uint16(256), uint16(11), uint16(56), uint16(6), uint16(58), uint16(2), uint16(244), uint16(1), uint16(27), uint16(16),
		uint16(4), uint16(1), uint16(11), uint16(2), uint16(10), uint16(4), uint16(1), uint16(8), uint16(2), uint16(8),
		uint16(152), uint16(8), uint16(153), uint16(8))
	if !bytes.Equal(tmpl, wantT) {
		t.Errorf("template\n%x\nwant\n%x", tmpl, wantT)
	}
	want := be([6]byte{10, 11, 12, 13, 14, 15}, uint16(42), uint8(3), [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, uint8(17),
		uint16(53), uint32(0), uint64(3001), uint64(12), uint64(1000), uint64(5000))
	if !bytes.Equal(s[256], want) {
		t.Errorf("record\n%x\nwant\n%x", s[256], want)
	}
	st := x.Stats()
	if st.Sent != 1 || st.Dropped["bad key value"] != 1 {
		t.Errorf("stats %+v: want 1 sent, 1 refused (vlan 70000)", st)
	}
	// A second message within the refresh has no template; after it, it has.
	x.send(queuedRecord{FlowRecord{Name: "f", FlowKeys: "0A0B0C0D0E0F|42|3|2001:db8::1|17|53|4", Values: []float64{1}}, spec}, now.Add(time.Second))
	x.flushAll()
	if s := sets(t, readMessage(t, c), 16); s[2] != nil || s[256] == nil {
		t.Errorf("within the refresh: sets %v", s)
	}
	x.send(queuedRecord{FlowRecord{Name: "f", FlowKeys: "0A0B0C0D0E0F|42|3|2001:db8::1|17|53|4", Values: []float64{1}}, spec}, now.Add(time.Minute))
	x.flushAll()
	m = readMessage(t, c)
	if s := sets(t, m, 16); s[2] == nil || s[256] == nil {
		t.Errorf("after the refresh: sets %v", s)
	}
	if seq := binary.BigEndian.Uint32(m[8:]); seq != 2 {
		t.Errorf("sequence number %d, want 2 (data records sent before)", seq)
	}
}

// BenchmarkSamplesIPFIX and BenchmarkSamplesNetFlow9 are the hot-path cost
// of converting a flow sample to a record, with the messages written to a
// real UDP socket as they fill.
func BenchmarkSamplesIPFIX(b *testing.B)    { benchSamples(b, 10) }
func BenchmarkSamplesNetFlow9(b *testing.B) { benchSamples(b, 9) }

func benchSamples(b *testing.B, version uint16) {
	c := listenUDP(b)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	x, err := NewSamples(flow.NewCompiler(), version, []string{c.LocalAddr().String()}, time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	s := testSample()
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		x.Add(s, 1_700_000_000_000+i)
	}
	st := x.Stats()
	b.ReportMetric(float64(st.Sent)/float64(max(st.Batches, 1)), "records/msg")
}
