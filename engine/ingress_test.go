package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// TestEntitySamplerFlowsGoToTheInputPort: Open vSwitch samples a bridge
// as one entity (entPhysicalEntry 2.1000) and names each packet's input
// port. Its flows are counted under the input ifIndex (7 or 9 here), where
// direction=ingress holds; a sample with no single input port stays with
// the sampler; a port sampler (class 0) is untouched.
func TestEntitySamplerFlowsGoToTheInputPort(t *testing.T) {
	e := New(Config{})
	defineAll(t, e, map[string]string{"in": "{keys:'ipdestination,direction', value:'frames'}"})
	agent := netip.MustParseAddr("127.0.0.1")
	rec := func(v any) sflow.Record { r, _ := sflow.NewRecord(v); return r }
	frame := func(dst byte) sflow.Record {
		f := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
			0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, dst}
		return rec(&sflow.SampledHeader{Protocol: 1, FrameLength: 64, Header: f})
	}
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	seq := uint32(0)
	send := func(class, index uint32, in sflow.Interface, dst byte) {
		seq++
		d := sflow.Datagram{Version: 5, Agent: agent, Sequence: seq, Samples: []sflow.Sample{{Format: sflow.FlowSample,
			SourceClass: class, SourceIndex: index, Sequence: seq, SamplingRate: 10, SamplePool: 10 * seq,
			Input: in, Output: sflow.Interface{Value: 5}, Records: []sflow.Record{frame(dst)}}}}
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Process(b, src, now)
	}
	send(2, 1000, sflow.Interface{Value: 7}, 3)
	send(2, 1000, sflow.Interface{Value: 9}, 4)
	send(2, 1000, sflow.Interface{Value: sflow.InternalIfIndex}, 5)
	send(0, 12, sflow.Interface{Value: 12}, 6)
	flows, err := e.ActiveFlows(AllAgents, "in", 10, 0, "max", now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range flows {
		got[f.Key] = f.DataSource
	}
	want := map[string]string{"10.0.0.3,ingress": "7", "10.0.0.4,ingress": "9", "10.0.0.6,ingress": "12"}
	for k, ds := range want {
		if got[k] != ds {
			t.Errorf("flow %s at data source %q, want %q (all: %v)", k, got[k], ds, got)
		}
	}
	// The internal-port sample has no input ifIndex: it stays at 2.1000, with no direction.
	if _, ok := got["10.0.0.5,ingress"]; ok {
		t.Errorf("a sample from the agent itself was made ingress: %v", got)
	}
	if info := e.AgentsInfo(AllAgents, now)[agent.String()]; info.FlowSamples != 4 || info.FlowLostSamples != 0 {
		t.Errorf("sampler accounting %+v: want 4 samples, none lost (sequence numbers stay with 2.1000)", info)
	}
}
