package engine

import (
	"net/netip"
	"testing"

	"github.com/flowrt/flowrt/bgp"
	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/internal/synth"
)

// BenchmarkPipelineBGPKeys is the pipeline with one definition that names
// two bgp keys (each a longest-prefix match in a 1,000,000-prefix RIB per
// sample), against the same definition without them:
//
//	go test ./engine -run '^$' -bench PipelineBGPKeys -benchmem
func BenchmarkPipelineBGPKeys(b *testing.B) {
	rib := bgp.NewRIB()
	var cs []bgp.Change
	for i := range 1_000_000 {
		a := uint32(1<<24) + uint32(i)<<8
		cs = append(cs, bgp.Change{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24),
			Route: &flow.BGPRoute{ASPath: []uint32{65001, 3356, uint32(100000 + i/20)}}})
		if len(cs) == 512 {
			rib.Apply(cs)
			cs = cs[:0]
		}
	}
	// Every synthetic address is covered: two /1s under the /24s.
	cs = append(cs, bgp.Change{Prefix: netip.MustParsePrefix("0.0.0.0/1"), Route: &flow.BGPRoute{ASPath: []uint32{65001, 64512}}},
		bgp.Change{Prefix: netip.MustParsePrefix("128.0.0.0/1"), Route: &flow.BGPRoute{ASPath: []uint32{65001, 64513}}})
	rib.Apply(cs)
	sp := bgp.New(bgp.Config{})
	nb := &bgp.Neighbor{PeerAS: 65001, RIB: rib}
	g, _ := synth.New(synth.Config{Agents: 16, Ports: 16, Flows: 5000, Seed: 9})
	for _, a := range g.Agents() {
		sp.AddSource(a, nb, nb)
	}
	flow.SetBGPRoutes(sp)
	defer flow.SetBGPRoutes(nil)
	// "without" and "with" count every sample's traffic per prefix too
	// (bgpTopPrefixes: the agents are attributed); "unattributed" is
	// the pipeline with the speaker on and no agent attributed.
	cases := []struct{ name, keys string }{{"unattributed", "ipdestination"}, {"without", "ipdestination"},
		{"with", "ipdestination,bgpdestinationas,bgpdestinationaspath"}}
	for _, c := range cases {
		name, keys := c.name, c.keys
		for _, a := range g.Agents() {
			if name == "unattributed" {
				sp.RemoveSource(a)
			} else {
				sp.AddSource(a, nb, nb)
			}
		}
		b.Run(name, func(b *testing.B) {
			e := New(Config{})
			defineAll(b, e, map[string]string{"d": "{keys:'" + keys + "', value:'bytes'}"})
			samples := runPipeline(b, e)
			b.ReportMetric(float64(b.N*samples)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
		})
	}
}
