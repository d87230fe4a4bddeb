package geo

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeDB builds a tiny MaxMind database with mmdbwriter (nothing is
// downloaded: no package ships one).
func writeDB(t testing.TB, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func country(code string) mmdbtype.Map {
	return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
}

func asn(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

func testSources(t testing.TB) Sources {
	cdb, err := Open(writeDB(t, "Test-Country", map[string]mmdbtype.Map{
		"10.0.0.0/8": country("US"), "192.168.0.0/16": country("DE"), "2001:db8::/32": country("JP")}))
	if err != nil {
		t.Fatal(err)
	}
	adb, err := Open(writeDB(t, "Test-ASN", map[string]mmdbtype.Map{
		"10.0.0.0/8": asn(64500, "Example Transit"), "192.168.0.0/16": asn(64501, "Example Hosting")}))
	if err != nil {
		t.Fatal(err)
	}
	oui, err := ReadOUI(strings.NewReader("02-00-00   (hex)\t\tExample Labs\n000000     (base 16)\t\tIgnored\n"))
	if err != nil {
		t.Fatal(err)
	}
	return Sources{Country: cdb, ASN: adb, OUI: oui}
}

func TestLookups(t *testing.T) {
	s := testSources(t)
	for addr, want := range map[string]string{"10.1.2.3": "US", "192.168.9.9": "DE", "2001:db8::1": "JP", "::ffff:10.0.0.1": "US"} {
		if r, ok := s.Country.Lookup(netip.MustParseAddr(addr)); !ok || r.Country != want {
			t.Errorf("%s: %+v %v, want %s", addr, r, ok, want)
		}
	}
	if _, ok := s.Country.Lookup(netip.MustParseAddr("8.8.8.8")); ok {
		t.Error("8.8.8.8 found")
	}
	if r, _ := s.ASN.Lookup(netip.MustParseAddr("192.168.1.1")); r.ASN != 64501 || r.ASName != "Example Hosting" {
		t.Errorf("asn %+v", r)
	}
	a := netip.MustParseAddr("10.1.2.3")
	s.Country.Lookup(a)
	if n := testing.AllocsPerRun(100, func() { s.Country.Lookup(a) }); n != 0 {
		t.Errorf("a repeated lookup allocates %v times", n)
	}
}

func sample(t *testing.T) *flow.Sample {
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplesPerDgram: 1, Mix: []synth.Proto{synth.TCP}, Seed: 1})
	b, _ := g.Datagram(nil, 1000)
	var d sflow.Datagram
	if err := sflow.Decode(b, &d); err != nil {
		t.Fatal(err)
	}
	var rc sflow.RecordCache
	v, _ := rc.Decode(d.Samples[0].Format, d.Samples[0].Records[0])
	h := v.(*sflow.SampledHeader)
	s := &flow.Sample{Agent: d.Agent, HasHeader: true, FrameLength: h.FrameLength}
	s.Packet.Decode(h.Protocol, append([]byte(nil), h.Header...))
	return s
}

func TestKeys(t *testing.T) {
	c := flow.NewCompiler()
	Register(c, testSources(t))
	s := sample(t) // 10.0.0.0 → 192.168.0.1, MACs 020000000001 → 020000000002
	for expr, want := range map[string]string{
		"sourcecountry": "US", "destinationcountry": "DE", "country:ipdestination": "DE",
		"sourceas": "64500", "destinationasname": "Example Hosting", "asn:ipsource:both": "64500 Example Transit",
		"oui:macsource": "Example Labs", "oui:macsource:number": "020000",
		"concat:-:sourcecountry:destinationcountry": "US-DE",
	} {
		e, err := c.Key(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		got, ok := e.AppendValue(s, nil)
		if !ok || string(got) != want {
			t.Errorf("%s = %q %v, want %q", expr, got, ok, want)
		}
	}
	// Without databases the keys are refused with what to set.
	c2 := flow.NewCompiler()
	Register(c2, Sources{})
	for expr, want := range map[string]string{"sourcecountry": "-Dgeo.country", "asn:ipsource": "-Dgeo.asn", "oui:macsource": "-Doui.names"} {
		if _, err := c2.Key(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s without a database: %v", expr, err)
		}
	}
	// world-map's key: with a database both branches are lookups, and
	// without one the definition is refused, not keyed by the branch's text.
	const worldMap = "if:[first:stack:.:ip:ip6]:ip:[country:ipsource]:[country:ip6source]"
	e, err := c.Key(worldMap)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.AppendValue(s, nil); !ok || string(got) != "US" {
		t.Errorf("%s = %q %v, want US", worldMap, got, ok)
	}
	for _, expr := range []string{worldMap, "if:ipprotocol:6:sourcecountry:other"} {
		if _, err := c2.Key(expr); err == nil || !strings.Contains(err.Error(), "-Dgeo.country") {
			t.Errorf("%s without a database: %v, want a refusal naming geo.country", expr, err)
		}
	}
	// A bare word that is no key stays a constant.
	e, err = c2.Key("if:ipprotocol:6:tcp:other")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.AppendValue(s, nil); !ok || string(got) != "tcp" {
		t.Errorf("if:ipprotocol:6:tcp:other = %q %v", got, ok)
	}
}

// TestDebianOUI reads the list Debian's ieee-data ships, when installed
// (CI installs it).
func TestDebianOUI(t *testing.T) {
	if _, err := os.Stat(DebianOUI); err != nil {
		if os.Getenv("FLOWRT_REQUIRE_SHARED") != "" {
			t.Fatalf("%s missing: .ci/run installs ieee-data", DebianOUI)
		}
		t.Skipf("%s not installed (Debian package ieee-data)", DebianOUI)
	}
	o, err := OpenOUI(DebianOUI)
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := o.Lookup([]byte("00000C000000")); !ok || !strings.Contains(strings.ToLower(name), "cisco") {
		t.Errorf("00-00-0C is %q %v, want Cisco (%d vendors)", name, ok, o.Len())
	}
}

func BenchmarkCountryKey(b *testing.B) {
	s := testSources(b)
	a := netip.MustParseAddr("10.1.2.3")
	b.ReportAllocs()
	for range b.N {
		s.Country.Lookup(a)
	}
}
