package metric

import (
	"math"
	"testing"

	"github.com/flowrt/flowrt/sflow"
)

func TestCounterRatesWrapsAndResets(t *testing.T) {
	s := NewSet()
	apply := func(now int64, dt float64, in uint64, errs uint32) {
		s.Begin(now, dt)
		s.Apply(&sflow.GenericInterface{Index: 3, Type: 6, Speed: 1_000_000_000, Status: 3, InOctets: in, InErrors: errs})
	}
	apply(0, 0, 1000, 4294967000)
	if _, ok := s.Get("ifinoctets"); ok {
		t.Fatal("a rate from the first sample")
	}
	apply(20_000, 20, 1000+20*125_000_000, 296) // errors wrapped: 592 in 20 s
	v, _ := s.Get("ifinoctets")
	u, _ := s.Get("ifinutilization")
	e, _ := s.Get("ifinerrors")
	if v.Num != 125_000_000 || math.Abs(u.Num-100) > 1e-9 || math.Abs(e.Num-592.0/20) > 1e-9 {
		t.Errorf("ifinoctets %v, ifinutilization %v, ifinerrors %v", v.Num, u.Num, e.Num)
	}
	// A counter going back (cleared, or a 64-bit reset) gives no rate; the
	// old value stays until the next good interval.
	apply(40_000, 20, 500, 100)
	if v2, _ := s.Get("ifinoctets"); v2.Num != 125_000_000 || v2.Updated != 20_000 {
		t.Errorf("after a reset ifinoctets = %+v", v2)
	}
	if e2, _ := s.Get("ifinerrors"); e2.Num > 1000 {
		t.Errorf("ifinerrors spiked to %v after going back", e2.Num)
	}
	apply(60_000, 20, 500+20*1000, 100)
	if v3, _ := s.Get("ifinoctets"); v3.Num != 1000 {
		t.Errorf("after the reset, ifinoctets = %v, want 1000", v3.Num)
	}
	st, _ := s.Get("ifoperstatus")
	ty, _ := s.Get("iftype")
	if st.Str != "up" || ty.Str != "ethernetCsmacd" {
		t.Errorf("ifoperstatus %q iftype %q", st.Str, ty.Str)
	}
}

func TestHostMetrics(t *testing.T) {
	s := NewSet()
	s.Begin(0, 0)
	s.Apply(&sflow.HostDescr{Hostname: []byte("web1"), OSName: 2, MachineType: 3})
	s.Apply(&sflow.HostCPU{LoadOne: 0.5, CPUNum: 2, User: 1000, Idle: 9000})
	s.Begin(10_000, 10)
	s.Apply(&sflow.HostCPU{LoadOne: 0.5, CPUNum: 2, User: 3000, Idle: 17000, System: 0})
	s.Apply(&sflow.HostMemory{Total: 1000, Free: 400, Buffers: 100, Cached: 100})
	for name, want := range map[string]any{"host_name": "web1", "os_name": "linux", "machine_type": "x86_64",
		"load_one": 0.5, "load_one_per_cpu": 0.25, "cpu_user": 20.0, "cpu_utilization": 20.0, "mem_utilization": 40.0} {
		v, ok := s.Get(name)
		if !ok || v.Any() != want {
			t.Errorf("%s = %v (%v), want %v", name, v.Any(), ok, want)
		}
	}
}

func TestAggregateAndFilter(t *testing.T) {
	pts := []Point{}
	for i, v := range []float64{4, 1, 3, 2} {
		pts = append(pts, NewPoint("10.0.0.1", string(rune('1'+i)), "x", Value{Num: v, Updated: int64(1000 * i)}, 5000))
	}
	for agg, want := range map[string]float64{"max": 4, "min": 1, "sum": 10, "avg": 2.5, "med": 2.5, "q1": 1.75,
		"q3": 3.25, "iqr": 1.5, "var": 1.25, "sdev": math.Sqrt(1.25)} {
		st := Aggregate(agg, agg+":x", pts)
		if st.MetricValue != want || st.MetricN != 4 || *st.LastUpdateMax != 5000 || *st.LastUpdateMin != 2000 {
			t.Errorf("%s: %+v, want %v", agg, st, want)
		}
	}
	if st := Aggregate("max", "max:x", pts); st.DataSource != "1" {
		t.Errorf("max at data source %q, want 1", st.DataSource)
	}
	if st := Aggregate("sum", "sum:y", nil); st.MetricN != 0 || st.MetricValue != nil {
		t.Errorf("nothing matched: %+v", st)
	}
	f := Filter{"os_name": {"linux", "windows"}, "host_name": {"*web*"}}
	get := func(m map[string]string) func(string) (Value, bool) {
		return func(n string) (Value, bool) { v, ok := m[n]; return Value{Str: v, IsStr: true}, ok }
	}
	if !f.Match(get(map[string]string{"os_name": "linux", "host_name": "eu-web-1"})) ||
		f.Match(get(map[string]string{"os_name": "linux", "host_name": "db1"})) ||
		f.Match(get(map[string]string{"host_name": "web"})) {
		t.Error("filter matching")
	}
	if _, _, err := ParseName("mean:x"); err == nil {
		t.Error("mean: accepted")
	}
}

func TestEveryCounterStructureBecomesMetrics(t *testing.T) {
	for f := range 4096 {
		for _, ent := range []uint32{0, 4413, 5703} {
			rec := sflow.NewCounterRecord(sflow.Tag(ent, uint32(f)))
			if rec == nil {
				continue
			}
			s := NewSet()
			s.Begin(0, 0)
			s.Apply(rec)
			s.Begin(1000, 1)
			s.Apply(rec)
			switch rec.(type) {
			case *sflow.HostAdapters, *sflow.HostParent:
				continue // identity, not metrics
			}
			if s.Len() == 0 {
				t.Errorf("%T gives no metric", rec)
			}
		}
	}
	s := NewSet()
	s.Begin(0, 0)
	s.Apply(&sflow.OVSDatapath{Hits: 100, Flows: 7})
	s.Begin(2000, 2)
	s.Apply(&sflow.OVSDatapath{Hits: 300, Flows: 9})
	if h, _ := s.Get("ovs_dp_hits"); h.Num != 100 {
		t.Errorf("ovs_dp_hits %v, want 100/s", h.Num)
	}
	if f, _ := s.Get("ovs_dp_flows"); f.Num != 9 {
		t.Errorf("ovs_dp_flows %v, want the level 9", f.Num)
	}
}
