package tenant

import (
	"fmt"
	"net"
	"testing"

	"github.com/flowrt/flowrt/internal/synth"
	"github.com/flowrt/flowrt/sflow"
)

// benchSplitter is a splitter with 1,000 tenants of 10 CIDRs each, all
// streaming to one UDP socket on 127.0.0.1 that a goroutine drains. The
// first owning tenants also hold, as their first prefix, a /24 of the
// synthetic sources: 10.0.10.0/24 to 10.0.39.0/24 (the generator's flows
// 2,560 to 9,999, the tail that carries about 9 % of the samples) for up
// to 30 of them, 10.0.0.0/24 to 10.0.39.0/24 (every sample) for 40. Every
// other prefix is in 100.64.0.0/10, which no sample holds.
func benchSplitter(tb testing.TB, owning int) (*Splitter, func()) {
	tb.Helper()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	sink.SetReadBuffer(16 << 20)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	s, err := New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	port := sink.LocalAddr().(*net.UDPAddr).Port
	for k := range 1000 {
		spec := Spec{CollectorAddress: "127.0.0.1", CollectorPort: port}
		for j := range 10 {
			n := k*10 + j // a /26 of 100.64.0.0/10 each
			spec.Filters.CIDR = append(spec.Filters.CIDR, fmt.Sprintf("100.%d.%d.%d/26", 64+n>>10, n>>2&255, n&3*64))
		}
		switch {
		case owning == 40 && k < 40:
			spec.Filters.CIDR[0] = fmt.Sprintf("10.0.%d.0/24", k)
		case k < owning:
			spec.Filters.CIDR[0] = fmt.Sprintf("10.0.%d.0/24", 10+k%30)
		}
		if err := s.Set(fmt.Sprintf("tenant%d", k), spec); err != nil {
			tb.Fatal(err)
		}
	}
	return s, func() { s.Close(); sink.Close() }
}

// synthDatagrams are decoded synthetic datagrams: 16 agents, 8 flow
// samples each.
func synthDatagrams(tb testing.TB) ([]sflow.Datagram, [][]byte) {
	g, err := synth.New(synth.Config{Agents: 16, Ports: 16, Flows: 10_000, Seed: 4})
	if err != nil {
		tb.Fatal(err)
	}
	raw := make([][]byte, 256)
	ds := make([]sflow.Datagram, len(raw))
	for i := range raw {
		if raw[i], err = g.Datagram(nil, 1000); err != nil {
			tb.Fatal(err)
		}
		if err := sflow.Decode(raw[i], &ds[i]); err != nil {
			tb.Fatal(err)
		}
	}
	return ds, raw
}

// BenchmarkSplit is the matching and re-encoding of one datagram (8 flow
// samples) for 1,000 tenants of 10 CIDRs: with no tenant's prefix holding
// the samples, with 9 % of the samples owned, and with all of them owned
// the sources (owning: see benchSplitter). The sends happen on the sender goroutine, whose CPU the
// figure does not include (see BenchmarkLoopback in the engine package
// for everything together).
//
//	go test ./tenant -run '^$' -bench Split -benchmem
func BenchmarkSplit(b *testing.B) {
	ds, _ := synthDatagrams(b)
	for _, owning := range []int{0, 30, 40} {
		b.Run(fmt.Sprintf("owning=%d", owning), func(b *testing.B) {
			s, done := benchSplitter(b, owning)
			defer done()
			for i := range 20 * QueueLength { // warm the free lists
				s.Process(&ds[i%len(ds)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				s.Process(&ds[i%len(ds)])
			}
			b.StopTimer()
			// The process's CPU per datagram — splitting, and the sender's
			// and the sink's share of the sends — which, unlike ns/op, a
			// machine busy with other work does not inflate.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			var out, samples uint64
			for _, t := range s.All() {
				out += t.DatagramsForwarded + t.DatagramsDropped
				samples += t.SamplesForwarded + t.SamplesDropped
			}
			n := float64(b.N + 20*QueueLength)
			b.ReportMetric(float64(out)/n, "tenant-dgrams/op")
			b.ReportMetric(100*float64(samples)/(8*n), "%samples-split")
		})
	}
}

// TestSplitAllocationFree: once its free lists are warm, splitting a
// datagram among 1,000 tenants allocates nothing.
func TestSplitAllocationFree(t *testing.T) {
	ds, _ := synthDatagrams(t)
	s, done := benchSplitter(t, 30)
	defer done()
	// Warm: as many datagrams as fill the queue once the sender lags, so
	// that every buffer the queue can hold has been made.
	for i := range 20 * QueueLength {
		s.Process(&ds[i%len(ds)])
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() { s.Process(&ds[i%len(ds)]); i++ }); n != 0 {
		t.Errorf("%.2f allocations per datagram split", n)
	}
	var sent uint64
	for _, st := range s.All() {
		sent += st.DatagramsForwarded + st.DatagramsDropped
	}
	if sent == 0 {
		t.Error("no tenant datagram was made: the benchmark measures nothing")
	}
}

// TestConcurrentChanges: datagrams split on two goroutines while tenants
// are replaced, deleted and listed (run with -race).
func TestConcurrentChanges(t *testing.T) {
	ds, _ := synthDatagrams(t)
	s, done := benchSplitter(t, 40)
	defer done()
	stop := make(chan struct{})
	finished := make(chan bool)
	for w := range 2 {
		go func() {
			for i := w; ; i += 2 {
				select {
				case <-stop:
					finished <- true
					return
				default:
				}
				s.Process(&ds[i%len(ds)])
			}
		}()
	}
	for k := range 200 {
		name := fmt.Sprintf("tenant%d", k%50)
		if k%3 == 0 {
			s.Delete(name)
		} else if err := s.Set(name, Spec{CollectorAddress: "127.0.0.1", CollectorPort: 9, Filters: Filters{CIDR: []string{fmt.Sprintf("10.0.%d.0/24", k%40)}}}); err != nil {
			t.Fatal(err)
		}
		s.All()
	}
	close(stop)
	<-finished
	<-finished
	if len(s.All()) < 950 {
		t.Errorf("%d tenants left", len(s.All()))
	}
}
