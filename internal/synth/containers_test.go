package synth

import (
	"math"
	"testing"

	"github.com/flowrt/flowrt/sflow"
)

// Containers come as logical data sources (class 3) with their names and a
// virt_cpu whose CPU time grows at ContainerCPU of one CPU.
func TestContainers(t *testing.T) {
	g, err := New(Config{Agents: 1, Ports: 2, Containers: 5})
	if err != nil {
		t.Fatal(err)
	}
	read := func(uptime uint32) map[uint32][2]any {
		out, err := g.Counters(nil, uptime)
		if err != nil || len(out) != 1 {
			t.Fatal(len(out), err)
		}
		d := decode(t, out[0])
		got := map[uint32][2]any{}
		for _, s := range d.Samples {
			if s.SourceClass != 3 {
				continue
			}
			var h sflow.HostDescr
			var c sflow.VirtCPU
			if err := s.Records[0].Decode(&h); err != nil {
				t.Fatal(err)
			}
			if err := s.Records[1].Decode(&c); err != nil {
				t.Fatal(err)
			}
			got[s.SourceIndex] = [2]any{string(h.Hostname), c.CPUTime}
		}
		return got
	}
	a, b := read(10_000), read(30_000)
	if len(a) != 5 || len(b) != 5 {
		t.Fatalf("%d then %d containers, want 5", len(a), len(b))
	}
	for c := range 5 {
		idx := uint32(c + 2)
		want := ContainerNames[c%len(ContainerNames)]
		if c == 4 {
			want += "-1"
		}
		if b[idx][0] != want {
			t.Errorf("container %d named %v, want %s", c, b[idx][0], want)
		}
		ms := float64(b[idx][1].(uint32) - a[idx][1].(uint32))
		if share := ms / 20_000; math.Abs(share-ContainerCPU(c)) > 0.001 {
			t.Errorf("container %d used %.3f of a CPU, want %.1f", c, share, ContainerCPU(c))
		}
	}
}
