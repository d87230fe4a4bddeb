package threshold

import (
	"testing"
	"time"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/internal/synth"
)

// A timeout in fractions of a second, as ai-metrics sets it
// (getSystemProperty('ai.threshold.t') || 0.2), is taken as it is, number
// or numeric string: two thresholds on one flood whose timeouts differ by
// 1.1 s re-arm 1.1 s apart (to the 100 ms check).
func TestFractionalTimeout(t *testing.T) {
	e := engine.New(engine.Config{})
	define(t, e, "ai", "{keys:'ipdestination', value:'frames', t:0.5}")
	m := New(e, 100)
	for name, body := range map[string]string{"fast": "{metric:'ai', value:1000, byFlow:true, timeout:0.2}",
		"slow": "{metric:'ai', value:1000, byFlow:true, timeout:'1.3'}"} {
		spec, err := ParseSpec([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if err := m.Set(name, spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ParseSpec([]byte("{metric:'ai', value:1, timeout:-0.5}")); err == nil {
		t.Error("a negative timeout was taken")
	}
	g, _ := synth.New(synth.Config{Agents: 1, Ports: 1, Flows: 1, SamplingRate: 100, SamplesPerDgram: 1,
		Mix: []synth.Proto{synth.UDP}, Seed: 1})
	w := e.NewWorker()
	start := time.Unix(1_700_000_000, 0)
	if flood(t, g, w, m, start, 3*time.Second).IsZero() {
		t.Fatal("no event")
	}
	end := start.Add(3 * time.Second)
	rearmed := map[string]time.Duration{}
	for at := time.Duration(0); at <= 10*time.Second; at += 100 * time.Millisecond {
		m.Check(end.Add(at))
		for _, n := range []string{"fast", "slow"} {
			if _, ok := rearmed[n]; !ok && !m.Triggered(n, "10.255.0.1", "1.ai", "192.168.0.1") {
				rearmed[n] = at
			}
		}
	}
	if len(rearmed) != 2 {
		t.Fatalf("re-armed: %v, want both", rearmed)
	}
	if d := rearmed["slow"] - rearmed["fast"]; d < 1000*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("fast re-armed %v after the flood, slow %v: %v apart, want 1.1 s", rearmed["fast"], rearmed["slow"], d)
	}
	t.Logf("re-armed after %v and %v", rearmed["fast"], rearmed["slow"])
}
