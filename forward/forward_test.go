package forward

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
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
	c.SetReadBuffer(8 << 20) // bursts of a thousand datagrams
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
		if f.Send(b, ID{Agent: []netip.Addr{a1, a2}[i%2], Sequence: uint32(i)}, a1) {
			t.Fatalf("datagram %d taken for one coming back", i)
		}
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
	for i := range 3 * QueueLength {
		f.Send(b, ID{Agent: netip.MustParseAddr("10.0.0.1"), Sequence: uint32(i)}, netip.Addr{})
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
	if s, err := ParseSpec([]byte(`{"address":"10.0.0.30","port":0}`)); err != nil || s.Port != 0 {
		t.Errorf("port 0 given: %+v %v, want it kept (and refused by Set)", s, err)
	}
	if _, err := ParseSpec([]byte(`{"port":6343}`)); err == nil || !strings.Contains(err.Error(), "needs an address") {
		t.Errorf("no address: %v", err)
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
	id := ID{Agent: netip.MustParseAddr("10.0.0.1")}
	from := netip.MustParseAddr("10.0.0.1")
	b.ReportAllocs()
	for i := range b.N {
		id.Sequence = uint32(i)
		f.Send(d, id, from)
	}
}

// TestRefusesOwnSocket: a session whose destination is the engine's own
// sFlow socket would forward each datagram to itself, and again, without
// end. Every address that reaches a wildcard socket is refused on its port;
// another port, or an address the socket is not bound to, is not.
func TestRefusesOwnSocket(t *testing.T) {
	local := localAddrs()
	var iface netip.Addr
	for _, a := range local {
		if !a.IsLoopback() && a.Is4() {
			iface = a
		}
	}
	f := New(nil)
	f.SetOwn(netip.MustParseAddrPort("[::]:16343"))
	refused := []string{"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"}
	if iface.IsValid() {
		refused = append(refused, iface.String())
	}
	for _, a := range refused {
		err := f.Set("self", Spec{Address: a, Port: 16343})
		if err == nil || !strings.Contains(err.Error(), "back to itself") || !strings.Contains(err.Error(), "[::]:16343") {
			t.Errorf("%s:16343 to an engine on [::]:16343: %v", a, err)
		}
	}
	for _, a := range []string{"0.0.0.0", "::"} {
		if err := f.Set("self", Spec{Address: a, Port: 6343}); err == nil || !strings.Contains(err.Error(), "not a destination") {
			t.Errorf("%s: %v", a, err)
		}
	}
	if err := f.Set("other", Spec{Address: "127.0.0.1", Port: 16344}); err != nil {
		t.Errorf("another port on this host: %v", err)
	}
	f.Delete("other")

	// Bound to one address: only that address (and its port) is itself.
	f.SetOwn(netip.MustParseAddrPort("127.0.0.1:16343"))
	if err := f.Set("self", Spec{Address: "127.0.0.1", Port: 16343}); err == nil {
		t.Error("127.0.0.1:16343 to an engine on 127.0.0.1:16343 accepted")
	}
	if err := f.Set("peer", Spec{Address: "127.0.0.2", Port: 16343}); err != nil {
		t.Errorf("127.0.0.2 does not reach a socket bound to 127.0.0.1: %v", err)
	}
	f.Delete("peer")
	// An IPv4 wildcard socket does not receive IPv6.
	f.SetOwn(netip.MustParseAddrPort("0.0.0.0:16343"))
	if err := f.Set("v6", Spec{Address: "::1", Port: 16343}); err != nil {
		t.Errorf("::1 to an IPv4-only socket: %v", err)
	}
	f.Delete("v6")
}

// TestReturnedDatagrams: a datagram the forwarder sent that arrives again
// (through a real UDP relay back to us) is recognised, counted for the
// session and not forwarded a second time; new datagrams still are.
func TestReturnedDatagrams(t *testing.T) {
	f := New(nil)
	dest := listen(t)
	if err := f.Set("loop", Spec{Address: "127.0.0.1", Port: dest.port()}); err != nil {
		t.Fatal(err)
	}
	agent := netip.MustParseAddr("10.0.0.1")
	from := netip.MustParseAddr("127.0.0.1")
	for i := range 1000 {
		if f.Send(bytes.Repeat([]byte{byte(i)}, 200), ID{Agent: agent, SubAgent: 1, Sequence: uint32(i), Uptime: 5000}, agent) {
			t.Fatalf("new datagram %d taken for a returning one", i)
		}
	}
	got := dest.wait(1000)
	if len(got) != 1000 {
		t.Fatalf("forwarded %d of 1000", len(got))
	}
	// The copies come back: each is recognised, none is forwarded again.
	for i := range got {
		if !f.Send(got[i], ID{Agent: agent, SubAgent: 1, Sequence: uint32(i), Uptime: 5000}, from) {
			t.Fatalf("returned datagram %d not recognised", i)
		}
	}
	// Same sequence number after an agent restart (another uptime), or from
	// another sub-agent: new datagrams.
	if f.Send(got[0], ID{Agent: agent, SubAgent: 1, Sequence: 0, Uptime: 10}, agent) ||
		f.Send(got[0], ID{Agent: agent, SubAgent: 2, Sequence: 0, Uptime: 5000}, agent) {
		t.Error("a restarted agent's or another sub-agent's datagram taken for a returning one")
	}
	time.Sleep(100 * time.Millisecond)
	st, _ := f.Get("loop")
	if st.DatagramsReturned != 1000 || st.DatagramsSent != 1002 {
		t.Errorf("status %+v: want 1000 returned, 1002 sent", st)
	}
	if got := dest.wait(1002); len(got) != 1002 {
		t.Errorf("destination got %d datagrams, want 1002 (no returned copy sent twice)", len(got))
	}
}

// TestReturnedAttributedToLoopingSession: with two sessions, a returning
// datagram counts for the one whose destination it came back from.
func TestReturnedAttributedToLoopingSession(t *testing.T) {
	f := New(nil)
	a, b := listen(t), listen(t)
	f.Set("a", Spec{Address: "127.0.0.1", Port: a.port()})
	f.Set("b", Spec{Address: "127.0.0.2", Port: b.port()})
	id := ID{Agent: netip.MustParseAddr("10.0.0.1"), Sequence: 7}
	f.Send([]byte("datagram"), id, id.Agent)
	if !f.Send([]byte("datagram"), id, netip.MustParseAddr("127.0.0.2")) {
		t.Fatal("not recognised")
	}
	sa, _ := f.Get("a")
	sb, _ := f.Get("b")
	if sa.DatagramsReturned != 0 || sb.DatagramsReturned != 1 {
		t.Errorf("returned: a %d, b %d; want 0 and 1", sa.DatagramsReturned, sb.DatagramsReturned)
	}
}

// BenchmarkLoopCheck is what remembering and recognising datagrams adds to
// each Send: the key, one look-up and one store per session.
func BenchmarkLoopCheck(b *testing.B) {
	var r recent
	id := ID{Agent: netip.MustParseAddr("10.0.0.1"), SubAgent: 1, Uptime: 1000}
	b.ReportAllocs()
	for i := range b.N {
		id.Sequence = uint32(i)
		slot, key := datagramKey(id, 1400)
		if r.has(slot, key) {
			b.Fatal("seen")
		}
		r.add(slot, key)
	}
}
