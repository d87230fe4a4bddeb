package threshold

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/internal/synth"
)

// TestThresholdLimit: past SetLimit's bound a new threshold is refused with
// an *engine.LimitError naming thresholds.max; replacing one is allowed.
func TestThresholdLimit(t *testing.T) {
	m := New(engine.New(engine.Config{}), 10)
	m.SetLimit(2)
	s := Spec{Metric: "ifinoctets", Value: 100, Timeout: 60}
	for _, n := range []string{"a", "b"} {
		if err := m.Set(n, s); err != nil {
			t.Fatal(err)
		}
	}
	var le *engine.LimitError
	if err := m.Set("c", s); !errors.As(err, &le) || le.Property != "thresholds.max" || le.Max != 2 {
		t.Fatalf("a third threshold: %v", err)
	}
	if err := m.Set("a", Spec{Metric: "ifoutoctets", Value: 1, Timeout: 60}); err != nil {
		t.Errorf("replacing a threshold at the limit: %v", err)
	}
}

// BenchmarkThresholds: one check (the work done every 100 ms) of 1, 100
// (thresholds.max's default) and 1,000 thresholds on a counter metric of
// 1,000 data sources (100 agents × 10 ports). What a threshold costs is the
// slope: at 100 ms intervals, 1 ms a check is 1% of a core.
//
//	go test ./threshold -run '^$' -bench Thresholds
func BenchmarkThresholds(b *testing.B) {
	e := engine.New(engine.Config{})
	g, _ := synth.New(synth.Config{Agents: 100, Ports: 10, Seed: 3})
	w := e.NewWorker()
	now := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		dgs, _ := g.Counters(nil, uint32(1000+20_000*i))
		for _, d := range dgs {
			w.Process(d, src, now.Add(time.Duration(i)*20*time.Second))
		}
	}
	now = now.Add(20 * time.Second)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := New(e, 1000)
			for i := range n {
				m.Set(fmt.Sprint("t", i), Spec{Metric: "ifinoctets", Value: 1e15, Timeout: 60})
			}
			b.ResetTimer()
			for range b.N {
				m.Check(now)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/threshold")
		})
	}
}
