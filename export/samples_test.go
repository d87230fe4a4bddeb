package export

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// udpFrame is an Ethernet/IPv4/UDP frame 10.0.0.1:5353 → 10.0.0.2:53.
func udpFrame() []byte {
	b := make([]byte, 14+20+8+20)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	b[12], b[13] = 0x08, 0x00
	ip := b[14:]
	ip[0], ip[2], ip[3], ip[8], ip[9] = 0x45, 0, 48, 64, 17
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	u := ip[20:]
	u[0], u[1], u[2], u[3], u[4], u[5] = 0x14, 0xe9, 0, 53, 0, 28
	return b
}

func testSample() *flow.Sample {
	s := &flow.Sample{Agent: netip.MustParseAddr("192.0.2.1"), DataSource: "7", SamplingRate: 1000, FrameLength: 66, HasHeader: true}
	s.Input.Value = 7
	s.Packet.Decode(sflow.HeaderEthernet, udpFrame())
	return s
}

// TestSampleRowTSV: a row holds the sample's fields, the bytes and packets
// it stands for, and the keys' values (absent keys empty).
func TestSampleRowTSV(t *testing.T) {
	r, err := NewSampleRows(flow.NewCompiler(), []string{"ipsource", "ipdestination", "udpdestinationport", "tcpsourceport"})
	if err != nil {
		t.Fatal(err)
	}
	got := string(r.AppendTSV(nil, testSample(), 1_700_000_000_500))
	want := strings.Join([]string{"1700000000", "192.0.2.1", "7", "0", "1000", "7", "0", "66", "66000", "1000",
		"10.0.0.1", "10.0.0.2", "53", ""}, "\t") + "\n"
	if got != want {
		t.Errorf("row %q\nwant %q", got, want)
	}
	if cols := strings.Join(r.Columns(), ","); !strings.HasSuffix(cols, ",packets,ipsource,ipdestination,udpdestinationport,tcpsourceport") {
		t.Errorf("columns %s", cols)
	}
	if ColumnName("asn:ipsource.1") != "asn_ipsource_1" {
		t.Errorf("ColumnName: %s", ColumnName("asn:ipsource.1"))
	}
}

// BenchmarkClickHouseAdd is the hot-path cost of the ClickHouse export per
// flow sample: a row of the default keys into the batch buffer.
func BenchmarkClickHouseAdd(b *testing.B) {
	r, err := NewSampleRows(flow.NewCompiler(), DefaultSampleKeys)
	if err != nil {
		b.Fatal(err)
	}
	c := &ClickHouse{Rows: r, MaxBuffer: 1 << 30}
	s := testSample()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Add(s, 1_700_000_000_000)
		if i%10000 == 0 {
			c.mu.Lock()
			c.buf = c.buf[:0]
			c.mu.Unlock()
		}
	}
}
