package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/sflow"
)

// TestHostKey: a Host sFlow agent describes its host (2.1) and a container
// (3.1, with its MAC in host_adapters); a frame sampled from the container's
// MAC is keyed by the container's name with host:macsource:host_name, and
// by the host's with host:agent:host_name.
func TestHostKey(t *testing.T) {
	e := New(Config{})
	w := e.NewWorker()
	spec, err := flow.ParseSpec([]byte("{keys:'host:macsource:host_name,host:agent:host_name,host:macsource:os_name', value:'frames'}"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Define("who", spec); err != nil {
		t.Fatal(err)
	}
	if err := e.Define("bad", flow.Spec{Keys: []string{"host:macsource:color"}, Value: "frames"}); err == nil {
		t.Error("host: with an unknown attribute was accepted")
	}
	agent := netip.MustParseAddr("10.0.0.9")
	rec := func(v any) sflow.Record { r, _ := sflow.NewRecord(v); return r }
	mac := sflow.MAC{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}
	counters := sflow.Datagram{Version: 5, Agent: agent, Sequence: 1, Samples: []sflow.Sample{
		{Format: sflow.CounterSample, SourceClass: 2, SourceIndex: 1, Sequence: 1,
			Records: []sflow.Record{rec(&sflow.HostDescr{Hostname: []byte("node1"), OSName: 2})}},
		{Format: sflow.CounterSample, SourceClass: 3, SourceIndex: 1, Sequence: 1, Records: []sflow.Record{
			rec(&sflow.HostDescr{Hostname: []byte("web"), OSName: 2}),
			rec(&sflow.HostAdapters{Adapters: []sflow.Adapter{{IfIndex: 7, MACs: []sflow.MAC{mac}}}})}},
	}}
	b, _ := counters.AppendBinary(nil)
	now := time.Unix(1_700_000_000, 0)
	w.Process(b, src, now)
	frame := append([]byte{0x02, 0, 0, 0, 0, 1}, mac[:]...)
	frame = append(frame, 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 172, 17, 0, 2, 10, 1, 1, 1)
	flows := sflow.Datagram{Version: 5, Agent: agent, Sequence: 2, Samples: []sflow.Sample{
		{Format: sflow.FlowSample, SourceIndex: 4, Sequence: 1, SamplingRate: 1, SamplePool: 1, Input: sflow.Interface{Value: 4},
			Records: []sflow.Record{rec(&sflow.SampledHeader{Protocol: 1, FrameLength: 64, Header: frame})}},
	}}
	b, _ = flows.AppendBinary(nil)
	w.Process(b, src, now)
	got, err := e.ActiveFlows(AllAgents, "who", 10, 0, "max", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "web,node1,linux" {
		t.Errorf("flows %+v, want web,node1,linux", got)
	}
}

func TestHostTableAgesOut(t *testing.T) {
	var h hostTable
	h.byKey = map[string]*hostEntry{"A": {info: hostInfo{"a"}}, "B": {info: hostInfo{"b"}}}
	h.byKey["A"].seen.Store(1000)
	h.byKey["B"].seen.Store(5000)
	h.sweep(2000)
	if _, ok := h.lookup([]byte("A"), 0); ok {
		t.Error("A outlived the cutoff")
	}
	if v, ok := h.lookup([]byte("B"), 0); !ok || v != "b" {
		t.Error("B was swept")
	}
}
