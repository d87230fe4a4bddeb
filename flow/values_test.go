package flow

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowrt/flowrt/packet"
)

// udpSample is a sampled IPv4/UDP packet from src to dst whose IP total
// length is ipbytes, taken 1 in rate.
func udpSample(src, dst netip.Addr, ipbytes int, rate uint32) *Sample {
	b := make([]byte, 28)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(ipbytes))
	b[8], b[9] = 64, 17
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	binary.BigEndian.PutUint16(b[20:], 5353)
	binary.BigEndian.PutUint16(b[22:], 53)
	binary.BigEndian.PutUint16(b[24:], uint16(ipbytes-20))
	s := &Sample{DataSource: "1", SamplingRate: rate, FrameLength: uint32(ipbytes + 18), HasHeader: true}
	s.Packet.Decode(packet.HeaderIPv4, b)
	return s
}

func addr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestValueFunctions defines a flow the way ddos-protect does (one target,
// many sources; values count:ipsource and avg:ipbytes, plus min/max) and
// checks each value against what the samples were.
func TestValueFunctions(t *testing.T) {
	c := NewCompiler()
	spec, err := ParseSpec([]byte(`{keys:'ipdestination', value:'frames', values:'count:ipsource,avg:ipbytes,min:ipbytes,max:ipbytes,frames', t:'2'}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Define("attack", spec)
	if err != nil {
		t.Fatal(err)
	}
	var lim Limits
	lim.MaxFlows = 1000
	tb := NewTable(d, 1, &lim)
	target := netip.MustParseAddr("192.0.2.1")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, distinct := range []int{7, 300, 5000} {
		tb.Clear()
		now := int64(1_700_000_000_000)
		g, ep := d.Factor(now)
		var sc Scratch
		sum, lo, hi, n := 0.0, math.Inf(1), math.Inf(-1), 0
		for i := range 3 * distinct { // every source three times
			size := 60 + rng.IntN(1440)
			s := udpSample(addr(i%distinct), target, size, 100)
			v, ok := d.Eval(s, &sc)
			if !ok {
				t.Fatal("the sample does not match")
			}
			tb.Add(sc.Key, v, &sc, now, g, ep)
			sum, lo, hi, n = sum+float64(size), min(lo, float64(size)), max(hi, float64(size)), n+1
		}
		top := tb.Top(nil, 1, now)
		if len(top) != 1 || top[0].Key != "192.0.2.1" || len(top[0].Values) != 5 {
			t.Fatalf("top %+v", top)
		}
		vs := top[0].Values
		// The distinct count: within three standard errors (linear
		// counting below 320: a handful is nearly exact).
		if e := math.Abs(vs[0]-float64(distinct)) / float64(distinct); e > 3*HLLStandardError || (distinct < 10 && math.Abs(vs[0]-float64(distinct)) > 0.5) {
			t.Errorf("count:ipsource of %d distinct sources = %.1f (error %.1f%%, standard error %.1f%%)", distinct, vs[0], 100*e, 100*HLLStandardError)
		} else {
			t.Logf("count:ipsource of %d distinct sources = %.1f (error %.2f%%)", distinct, vs[0], 100*e)
		}
		if mean := sum / float64(n); math.Abs(vs[1]-mean) > 1e-9*mean {
			t.Errorf("avg:ipbytes = %v, the mean of the sampled ipbytes is %v", vs[1], mean)
		}
		if vs[2] != lo || vs[3] != hi {
			t.Errorf("min/max:ipbytes = %v/%v, want %v/%v", vs[2], vs[3], lo, hi)
		}
		// The plain frames value is still a rate: 3·distinct samples × 100
		// at one instant, over t = 2 s.
		if want := float64(3*distinct) * 100 / 2; math.Abs(vs[4]-want) > 1e-6*want || math.Abs(top[0].Value-want) > 1e-6*want {
			t.Errorf("frames = %v (value %v), want %v", vs[4], top[0].Value, want)
		}
		// A flow record reports the flow's life: the same here.
		en := &tb.entries[0]
		rv, rvs := tb.Record(en)
		if rv != float64(3*distinct)*100 || rvs[1] != vs[1] || rvs[2] != lo || rvs[3] != hi || math.Abs(rvs[0]-vs[0]) > 1e-9 {
			t.Errorf("record %v %v, want %v frames and the same values as %v", rv, rvs, 3*distinct*100, vs)
		}
	}
}

// TestValueFunctionWindows: min, max and count cover the current and the
// previous window of max(t, 1 s); after a whole window without samples
// they report the flow's life; avg is smoothed like a rate.
func TestValueFunctionWindows(t *testing.T) {
	c := NewCompiler()
	d, err := c.Define("w", Spec{Keys: Names{"ipdestination"}, Value: "frames", Values: Names{"max:ipbytes", "count:ipsource", "avg:ipbytes", "last:ipbytes", "rate:ipbytes", "ipbytes"}, T: 2})
	if err != nil {
		t.Fatal(err)
	}
	tb := NewTable(d, 1, nil)
	dst := netip.MustParseAddr("192.0.2.9")
	var sc Scratch
	add := func(now int64, src, size int) {
		g, ep := d.Factor(now)
		if v, ok := d.Eval(udpSample(addr(src), dst, size, 1), &sc); ok {
			tb.Add(sc.Key, v, &sc, now, g, ep)
		}
	}
	t0 := int64(1_700_000_000_000) // a window boundary (2 s windows)
	add(t0, 1, 1000)
	add(t0+100, 2, 200)
	add(t0+2100, 3, 300) // the next window
	add(t0+1990, 4, 100) // stamped a little earlier: counted, nothing wiped
	at := func(now int64) []float64 { return tb.Top(nil, 1, now)[0].Values }
	if v := at(t0 + 2200); v[0] != 1000 || math.Round(v[1]) != 4 {
		t.Errorf("in the second window: max %v, count %v, want 1000 and 4 (both windows)", v[0], v[1])
	}
	if v := at(t0 + 4100); v[0] != 300 || math.Round(v[1]) != 2 {
		t.Errorf("in the third window: max %v, count %v, want 300 and 2 (the previous window only)", v[0], v[1])
	}
	if v := at(t0 + 6100); v[0] != 1000 || math.Round(v[1]) != 4 {
		t.Errorf("two windows later: max %v, count %v, want the flow's life, 1000 and 4", v[0], v[1])
	}
	// avg: weights e^(tᵢ/t) with t = 2 s.
	w := []float64{1, math.Exp(0.05), math.Exp(1.05), math.Exp(0.995)}
	want := (1000*w[0] + 200*w[1] + 300*w[2] + 100*w[3]) / (w[0] + w[1] + w[2] + w[3])
	if v := at(t0 + 2200); math.Abs(v[2]-want) > 1e-6*want { // the landmark arithmetic is good to ~1e-8
		t.Errorf("avg = %v, want the smoothed mean %v", v[2], want)
	}
	// last: the latest sample's; rate: (the legacy spelling) the same rate
	// as no prefix.
	if v := at(t0 + 2200); v[3] != 100 || v[4] != v[5] || v[4] <= 0 {
		t.Errorf("last %v (want 100, the latest added), rate: %v and plain %v (want the same rate)", v[3], v[4], v[5])
	}
}

// TestValueFunctionAsValue: value:'avg:…' (ai-metrics' credits flow) ranks
// and reports flows by the function's value, which does not decay.
func TestValueFunctionAsValue(t *testing.T) {
	c := NewCompiler()
	d, err := c.Define("v", Spec{Keys: Names{"ipsource"}, Value: "avg:ipbytes", Values: Names{"min:ipbytes", "max:ipbytes"}, T: 1})
	if err != nil {
		t.Fatal(err)
	}
	tb := NewTable(d, 1, nil)
	var sc Scratch
	now := int64(1_700_000_000_000)
	g, ep := d.Factor(now)
	for _, p := range []struct{ src, size int }{{1, 100}, {1, 300}, {2, 1000}, {2, 1400}, {3, 50}} {
		v, ok := d.Eval(udpSample(addr(p.src), addr(99), p.size, 10), &sc)
		if !ok {
			t.Fatal("no match")
		}
		tb.Add(sc.Key, v, &sc, now, g, ep)
	}
	top := tb.Top(nil, 3, now+500)
	if len(top) != 3 || top[0].Key != "10.0.0.2" || top[0].Value != 1200 || top[1].Value != 200 || top[2].Value != 50 {
		t.Fatalf("top by avg:ipbytes %+v, want 10.0.0.2 1200, 10.0.0.1 200, 10.0.0.3 50", top)
	}
	if top[0].Values[0] != 1000 || top[0].Values[1] != 1400 {
		t.Errorf("min/max of 10.0.0.2: %v", top[0].Values)
	}
	if m, _ := tb.Max(now + 900); m != 1200 {
		t.Errorf("Max = %v, want 1200", m)
	}
	var above []string
	tb.EachAbove(150, now, func(e *Entry, v float64) { above = append(above, e.Key) })
	if len(above) != 2 {
		t.Errorf("above 150: %v, want 10.0.0.1 and 10.0.0.2", above)
	}
}

func TestValueFunctionErrors(t *testing.T) {
	c := NewCompiler()
	for _, v := range []string{"avg:nosuchkey", "count:", "max:[ipsource"} {
		if _, err := c.Define("e", Spec{Value: "frames", Values: Names{v}}); err == nil {
			t.Errorf("values %q: accepted", v)
		}
	}
}

// TestValuesAllocateNothing: a sample of an existing flow with value
// functions is evaluated and added without allocating.
func TestValuesAllocateNothing(t *testing.T) {
	c := NewCompiler()
	d, err := c.Define("a", Spec{Keys: Names{"ipdestination"}, Value: "frames", Values: Names{"count:ipsource", "avg:ipbytes", "max:ipbytes"}})
	if err != nil {
		t.Fatal(err)
	}
	tb := NewTable(d, 1, nil)
	s := udpSample(addr(1), addr(2), 500, 100)
	var sc Scratch
	now := int64(1_700_000_000_000)
	g, ep := d.Factor(now)
	v, _ := d.Eval(s, &sc)
	tb.Add(sc.Key, v, &sc, now, g, ep)
	if n := testing.AllocsPerRun(100, func() {
		v, _ := d.Eval(s, &sc)
		tb.Add(sc.Key, v, &sc, now, g, ep)
	}); n != 0 {
		t.Errorf("Eval+Add allocate %v times", n)
	}
}
