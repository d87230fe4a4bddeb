package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestSessionLimit: past SetLimit's bound a new session is refused with a
// *LimitError naming forwarding.sessions.max; replacing one is allowed.
func TestSessionLimit(t *testing.T) {
	f := New(nil)
	sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	f.SetLimit(2)
	for _, n := range []string{"a", "b"} {
		if err := f.Set(n, Spec{Address: "127.0.0.1", Port: port}); err != nil {
			t.Fatal(err)
		}
	}
	var le *LimitError
	if err := f.Set("c", Spec{Address: "127.0.0.1", Port: port}); !errors.As(err, &le) || le.LimitProperty() != "forwarding.sessions.max" {
		t.Fatalf("a third session: %v", err)
	}
	if err := f.Set("a", Spec{Address: "127.0.0.1", Port: port + 1}); err != nil {
		t.Errorf("replacing a session at the limit: %v", err)
	}
	f.Delete("a")
	f.Delete("b")
}

// BenchmarkSessions: what each forwarding session costs, with 1, 8
// (forwarding.sessions.max's default) and 100 sessions to a UDP socket on
// 127.0.0.1: datagrams are sent in batches below the queue length, each
// batch sent by every session before the next, so nothing is dropped.
// cpu-ns/datagram is the CPU of the whole process per datagram received
// (the copies, the queues and the sessions' writes): on a 2-core machine,
// what bounds the input rate.
//
//	go test ./forward -run '^$' -bench Sessions -benchtime 20000x
func BenchmarkSessions(b *testing.B) {
	for _, n := range []int{1, 8, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := New(nil)
			sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			defer sink.Close()
			port := sink.LocalAddr().(*net.UDPAddr).Port
			for i := range n {
				if err := f.Set(fmt.Sprint("s", i), Spec{Address: "127.0.0.1", Port: port}); err != nil {
					b.Fatal(err)
				}
			}
			d := make([]byte, 1400)
			id := ID{Agent: netip.MustParseAddr("10.0.0.1")}
			done := func() (total uint64) {
				for _, s := range f.All() {
					total += s.DatagramsSent + s.DatagramsDropped + s.SendErrors
				}
				return total
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; {
				batch := min(1000, b.N-i)
				for range batch {
					id.Sequence = uint32(i)
					f.Send(d, id, id.Agent)
					i++
				}
				for done() < uint64(i*n) {
					time.Sleep(50 * time.Microsecond)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/datagram")
			var dropped uint64
			for _, s := range f.All() {
				dropped += s.DatagramsDropped
			}
			b.ReportMetric(float64(dropped), "dropped")
			for i := range n {
				f.Delete(fmt.Sprint("s", i))
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
