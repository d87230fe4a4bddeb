package forward

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

type listener struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
}

func listen(t *testing.T) *listener {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{conn: c}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.got = append(l.got, append([]byte(nil), buf[:n]...))
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return l
}

func (l *listener) port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

func (l *listener) wait(n int) [][]byte {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		if len(l.got) >= n {
			defer l.mu.Unlock()
			return l.got
		}
		l.mu.Unlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}

func TestForwardToTwoListenersWithAgentFilter(t *testing.T) {
	f := New(nil)
	all, one := listen(t), listen(t)
	if err := f.Set("all", Spec{Address: "127.0.0.1", Port: all.port()}); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("one", Spec{Address: "127.0.0.1", Port: one.port(), Agents: []string{"10.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	var sent [][]byte
	for i := range 100 {
		b := bytes.Repeat([]byte{byte(i)}, 100+i)
		sent = append(sent, b)
		f.Send(b, []netip.Addr{a1, a2}[i%2])
	}
	got := all.wait(100)
	if len(got) != 100 {
		t.Fatalf("all: %d datagrams, want 100", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("datagram %d changed on the way", i)
		}
	}
	if got := one.wait(50); len(got) != 50 || !bytes.Equal(got[0], sent[1]) {
		t.Errorf("one: %d datagrams, want the 50 of agent 10.0.0.2", len(got))
	}
	st := f.All()
	if st["all"].DatagramsSent != 100 || st["one"].DatagramsSent != 50 || st["one"].Port != one.port() {
		t.Errorf("status %+v", st)
	}
	if !f.Delete("one") || f.Delete("one") {
		t.Error("Delete")
	}
}

// TestDeadDestinationNeverBlocks: nothing listens, the sender's writes fail
// (ICMP port unreachable), and Send returns at once whatever the queue.
func TestDeadDestinationNeverBlocks(t *testing.T) {
	f := New(nil)
	dead := listen(t)
	port := dead.port()
	dead.conn.Close()
	if err := f.Set("dead", Spec{Address: "127.0.0.1", Port: port}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1400)
	start := time.Now()
	for range 3 * QueueLength {
		f.Send(b, netip.MustParseAddr("10.0.0.1"))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Send took %v for %d datagrams: it waits on the destination", el, 3*QueueLength)
	}
	time.Sleep(200 * time.Millisecond)
	st, _ := f.Get("dead")
	if st.DatagramsSent+st.DatagramsDropped+st.SendErrors == 0 {
		t.Errorf("nothing counted: %+v", st)
	}
	t.Logf("%+v", st)
	f.Delete("dead")
}

func TestParseSpecArticle(t *testing.T) {
	s, err := ParseSpec([]byte(`{"address":"10.0.0.30"}`))
	if err != nil || s.Address != "10.0.0.30" || s.Port != 6343 {
		t.Errorf("%+v %v", s, err)
	}
	if _, err := ParseSpec([]byte(`{"address":"10.0.0.30","bogus":1}`)); err == nil {
		t.Error("unknown attribute accepted")
	}
	f := New(nil)
	if err := f.Set("x", Spec{Address: "not-an-ip", Port: 6343}); err == nil {
		t.Error("bad address accepted")
	}
}

func BenchmarkSend(b *testing.B) {
	f := New(nil)
	c, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	f.Set("s", Spec{Address: "127.0.0.1", Port: c.LocalAddr().(*net.UDPAddr).Port})
	d := make([]byte, 1400)
	a := netip.MustParseAddr("10.0.0.1")
	b.ReportAllocs()
	for range b.N {
		f.Send(d, a)
	}
}
