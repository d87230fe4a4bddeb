package bgp

import (
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFullTable receives a full table from one peer: 1,000,000 IPv4
// and 200,000 IPv6 prefixes, 20 to an UPDATE, and reports how long until
// the RIB holds them all and the heap the speaker holds per route (GoBGP's
// Adj-RIB-In included). Run it alone: go test ./bgp -run '^$' -bench
// FullTable -benchtime 1x (docs/performance.md).
func BenchmarkFullTable(b *testing.B) {
	const n4, n6, per = 1_000_000, 200_000, 20
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		port := freeTCP(b)
		sp := New(Config{Port: port, Addresses: []string{"127.0.0.1"}})
		nb, err := sp.AddNeighbor(birdAddr, 65000, flowrtAddr, Options{PeerAS: 65001, IPv6: true}, "bench", nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuTime()
		p := dialRaw(b, birdAddr, port, 65001)
		waitUntil(b, 10*time.Second, "session", nb.Established)
		go func() {
			p.table4(b, n4, per, birdAddr)
			p.table6(b, n6, per, netip.MustParseAddr("2001:db8::2"))
		}()
		waitUntil(b, 300*time.Second, "full table", func() bool { v4, v6 := nb.RIB.Count(); return v4 == n4 && v6 == n6 })
		took, cpu := time.Since(start), cpuTime()-cpu0
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(took.Seconds(), "s/table")
		b.ReportMetric(cpu.Seconds(), "cpu-s/table") // the process's, sender included: less sensitive to a loaded machine
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n4+n6), "heap-bytes/route")
		b.ReportMetric(float64(nb.RIB.Attributes()), "attribute-sets")
		b.StopTimer()
		p.close()
		sp.Close()
		b.StartTimer()
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
