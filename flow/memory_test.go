package flow

import (
	"net/netip"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// memoryDefinitions are the ten definitions of bench/memory/run: address
// pairs and 5-tuples, one with an extra value, one with a value function,
// masked subnets. key makes the i-th distinct key of each, as long as the
// engine would build it.
var memoryDefinitions = []struct {
	name, spec string
	key        func(b []byte, i int) []byte
}{
	{"src", "{keys:'ipsource', value:'bytes', n:20, t:600}", func(b []byte, i int) []byte { return src(b, i) }},
	{"dst", "{keys:'ipdestination', value:'frames', n:20, t:600}", func(b []byte, i int) []byte { return dst(b, i) }},
	{"pairs", "{keys:'ipsource,ipdestination', value:'bytes', n:20, t:600}", func(b []byte, i int) []byte { return dst(append(src(b, i), ','), i) }},
	{"proto", "{keys:'ipsource,ipdestination,ipprotocol', value:'frames', n:20, t:600}", func(b []byte, i int) []byte {
		return append(dst(append(src(b, i), ','), i), ",6"...)
	}},
	{"tcp", "{keys:'ipsource,ipdestination,tcpsourceport,tcpdestinationport', value:'bytes', filter:'ipprotocol=6', n:20, t:600}", tuple},
	{"udp", "{keys:'ipsource,ipdestination,udpsourceport,udpdestinationport', value:'frames', filter:'ipprotocol=17', n:20, t:600}", tuple},
	{"subnets", "{keys:'mask:ipsource:24,mask:ipdestination:24', value:'bytes', n:20, t:600}", func(b []byte, i int) []byte {
		b = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), 0}).AppendTo(b)
		return netip.AddrFrom4([4]byte{192, 168, byte(i), 0}).AppendTo(append(b, ','))
	}},
	{"withvalues", "{keys:'ipdestination,ipsource', value:'bytes', values:'frames', n:20, t:600}", func(b []byte, i int) []byte { return src(append(dst(b, i), ','), i) }},
	{"avgsize", "{keys:'ipsource,ipprotocol', value:'avg:ipbytes', n:20, t:600}", func(b []byte, i int) []byte { return append(src(b, i), ",17"...) }},
	{"stack", "{keys:'stack,ipsource', value:'frames', n:20, t:600}", func(b []byte, i int) []byte { return src(append(b, "eth.ip.tcp,"...), i) }},
}

func src(b []byte, i int) []byte {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).AppendTo(b)
}
func dst(b []byte, i int) []byte {
	return netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i%250 + 1)}).AppendTo(b)
}
func tuple(b []byte, i int) []byte {
	b = append(dst(append(src(b, i), ','), i), ',')
	b = strconv.AppendInt(b, int64(1024+i%60000), 10)
	return append(b, ",443"...)
}

// fillTables makes tables data-source tables for each of the ten
// definitions and offers each perTable distinct flows, as new flows arrive
// at a table that is full: it evicts a quarter of its pool (the smallest)
// and goes on. It returns the tables and the flows they hold.
func fillTables(tb testing.TB, tables, perTable int) ([]*Table, int64) {
	tb.Helper()
	c := NewCompiler()
	lim := &Limits{MaxFlows: 1 << 40}
	var all []*Table
	var key []byte
	now := int64(1_700_000_000_000)
	for _, md := range memoryDefinitions {
		spec, err := ParseSpec([]byte(md.spec))
		if err != nil {
			tb.Fatal(err)
		}
		d, err := c.Define(md.name, spec)
		if err != nil {
			tb.Fatal(err)
		}
		g, ep := d.Factor(now)
		sc := &Scratch{Values: make([]float64, d.Values()), hashes: make([]uint64, d.Values()),
			has: make([]bool, d.Values()), weight: 1000}
		for i := range sc.has {
			sc.Values[i], sc.has[i] = 1000, true
		}
		for range tables {
			t := NewTable(d, 1, lim)
			for j := range perTable {
				key = md.key(key[:0], len(all)*perTable+j)
				if e, _ := t.Add(key, float64(1000+j%7), sc, now+int64(j), g, ep); e == nil {
					tb.Fatal("no room for a flow")
				}
			}
			all = append(all, t)
		}
	}
	return all, lim.Flows.Load()
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTableMemoryPerFlow bounds what a tracked flow costs in the tables:
// the entry, its packed score, its key and its place in the index, with
// the slack of tables that evict a quarter when full. 100 data sources ×
// 10 definitions, each offered 300 flows (n:20, a pool of 200).
//
//	go test ./flow -run TestTableMemoryPerFlow -v
func TestTableMemoryPerFlow(t *testing.T) {
	before := liveHeap()
	tables, flows := fillTables(t, 100, 300)
	after := liveHeap()
	per := float64(after-before) / float64(flows)
	t.Logf("%d flows in %d tables: %.0f bytes of live heap per flow", flows, len(tables), per)
	runtime.KeepAlive(tables)
	if per > 200 {
		t.Errorf("a tracked flow takes %.0f bytes of heap, want at most 200 (150 when measured; 341 with a map per table)", per)
	}
}

// BenchmarkTableMemory reports the live heap per tracked flow with about a
// million flows in the ten definitions' tables (1,000 data sources each,
// as bench/memory/run's 128 agents × 8 ports), and the time to offer one
// new flow to a full table (eviction included).
//
//	go test ./flow -run '^$' -bench TableMemory -benchtime 1x
func BenchmarkTableMemory(b *testing.B) {
	for range b.N {
		before := liveHeap()
		tables, flows := fillTables(b, 1000, 300)
		after := liveHeap()
		b.ReportMetric(float64(after-before)/float64(flows), "heap-B/flow")
		b.ReportMetric(float64(flows), "flows")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(tables)*300), "ns/new-flow")
		runtime.KeepAlive(tables)
	}
}

// TestAddAllocatesNothing: a sample of a flow the table has costs no
// allocation, with extra values and value functions too.
func TestAddAllocatesNothing(t *testing.T) {
	tables, _ := fillTables(t, 1, 150)
	now := int64(1_700_000_000_000)
	var key []byte
	for i, tb := range tables {
		md := memoryDefinitions[i]
		sc := &Scratch{Values: []float64{1000}, hashes: []uint64{0}, has: []bool{true}, weight: 1000}
		if tb.Len() == 0 {
			t.Fatalf("%s: no flows", md.name)
		}
		j := 0
		if n := testing.AllocsPerRun(1000, func() {
			key = md.key(key[:0], i*150+j%100) // fillTables's keys
			j++
			if _, isNew := tb.Add(key, 1500, sc, now, 1, tb.epoch); isNew {
				t.Fatalf("%s: %s was not in the table", md.name, key)
			}
		}); n != 0 {
			t.Errorf("%s: Add of a known flow allocates %v times", md.name, n)
		}
	}
}

// BenchmarkAddKnown is the hot path of a table: a sample of a flow it
// has, over the ten definitions' tables of 150 flows each. cpu-ns/op is
// the process's CPU time (user and system), which a machine shared with
// other work stretches less than the wall clock.
//
//	go test ./flow -run '^$' -bench AddKnown -count 3
func BenchmarkAddKnown(b *testing.B) {
	tables, _ := fillTables(b, 1, 150)
	now := int64(1_700_000_000_000)
	sc := &Scratch{Values: []float64{1000}, hashes: []uint64{0}, has: []bool{true}, weight: 1000}
	var keys [][][]byte
	for i := range tables {
		var ks [][]byte
		for j := range 150 {
			ks = append(ks, memoryDefinitions[i].key(nil, i*150+j))
		}
		keys = append(keys, ks)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for i, tb := range tables {
			tb.Add(keys[i][n%150], 1500, sc, now, 1, tb.epoch)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*len(tables)), "cpu-ns/add")
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
