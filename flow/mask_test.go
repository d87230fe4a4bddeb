package flow

import (
	"testing"

	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// textOnly hides an expression's address path: mask: then formats and
// parses its value, as it does for keys that are not addresses.
type textOnly struct{ Expr }

// TestMaskAddressPathMatchesText: over every flow sample of the shared
// captures (headers, and sampled_ipv4/ipv6 records where there is no
// header), mask: and group-style address lookups on an address key give
// what the formatted-and-parsed path gives.
func TestMaskAddressPathMatchesText(t *testing.T) {
	c := NewCompiler()
	var exprs []maskExpr
	for _, src := range []string{"mask:ipsource:24", "mask:ipdestination:16:64", "mask:ip6source:8:48", "mask:ip6destination:0:128",
		"mask:ipsource.1:20", "mask:ip6destination.1:32:56"} {
		e, err := c.Key(src)
		if err != nil {
			t.Fatal(err)
		}
		m := e.(maskExpr)
		if _, ok := m.k.(addrValued); !ok {
			t.Fatalf("%s: its key is not taken as an address", src)
		}
		exprs = append(exprs, m)
	}
	var d sflow.Datagram
	var rc sflow.RecordCache
	var s Sample
	var a, b []byte
	checked, present := 0, 0
	captures := testdata.Captures(t)
	g, _ := synth.New(synth.Config{Agents: 2, Flows: 500, Seed: 3}) // and a generated mix, for breadth
	gen := testdata.Capture{Name: "synth"}
	for range 300 {
		p, _ := g.Datagram(nil, 1000)
		gen.Datagrams = append(gen.Datagrams, testdata.Datagram{Payload: p})
	}
	for _, cp := range append(captures, gen) {
		for _, dg := range cp.Datagrams {
			if sflow.Decode(dg.Payload, &d) != nil {
				continue
			}
			for i := range d.Samples {
				smp := &d.Samples[i]
				if !smp.Format.IsFlow() {
					continue
				}
				s.Reset()
				for _, rec := range smp.Records {
					v, err := rc.Decode(smp.Format, rec)
					if err != nil {
						continue
					}
					switch r := v.(type) {
					case *sflow.SampledHeader:
						s.HasHeader = true
						s.Packet.Decode(r.Protocol, r.Header)
					case *sflow.SampledIPv4:
						s.IPv4 = r
					case *sflow.SampledIPv6:
						s.IPv6 = r
					}
				}
				for _, m := range exprs {
					slow := m
					slow.k = textOnly{m.k}
					var aok, bok bool
					a, aok = m.AppendValue(&s, a[:0])
					b, bok = slow.AppendValue(&s, b[:0])
					if aok != bok || string(a) != string(b) {
						t.Fatalf("%s %d: address path %q %v, text path %q %v", cp.Name, i, a, aok, b, bok)
					}
					addr, _, aok := AppendAddr(m.k, &s, nil)
					addr2, _, bok := AppendAddr(textOnly{m.k}, &s, nil)
					if aok != bok || addr != addr2 {
						t.Fatalf("%s %d: AppendAddr %v %v, from text %v %v", cp.Name, i, addr, aok, addr2, bok)
					}
					checked++
					if aok {
						present++
					}
				}
			}
		}
	}
	if present < 1000 {
		t.Fatalf("%d of %d evaluations had an address: the test does not test the path", present, checked)
	}
	t.Logf("%d evaluations, %d with an address", checked, present)
}
