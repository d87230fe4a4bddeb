package main_test

import (
	"fmt"
	"math"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// port is the port of a host:port address.
func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// TestForwardingToItselfRefused: the Forwarding article's body with a local
// address forwards the engine's datagrams to itself when the port is the
// engine's own — each copy forwarded again, without end. That session is
// refused with the reason; the same address on another port, or the
// article's remote address, is a session like any other.
func TestForwardingToItselfRefused(t *testing.T) {
	e := startEngine(t) // sFlow on 127.0.0.1 only
	for _, addr := range []string{"127.0.0.1", "::ffff:127.0.0.1"} {
		code, msg := e.do(t, "PUT", "/forwarding/self/json", `{"address":"`+addr+`","port":`+port(e.sflow)+`}`)
		if code != 400 || !strings.Contains(msg, "back to itself") || !strings.Contains(msg, e.sflow) {
			t.Errorf("session to %s:%s, the engine's own socket: %d %q, want 400 saying why", addr, port(e.sflow), code, msg)
		}
	}
	// 127.0.0.2 on the same port does not reach a socket bound to
	// 127.0.0.1; the same address on another port is another collector;
	// and the article's remote address is one.
	for _, body := range []string{`{"address":"127.0.0.2","port":` + port(e.sflow) + `}`,
		`{"address":"127.0.0.1","port":` + fmt.Sprint(freePort(t, "udp")) + `}`, `{"address":"10.0.0.30"}`} {
		if code, msg := e.do(t, "PUT", "/forwarding/other/json", body); code != 204 {
			t.Errorf("PUT %s: %d %s", body, code, msg)
		}
	}
	var sessions map[string]any
	e.get(t, "/forwarding/json", &sessions)
	if _, ok := sessions["self"]; ok || len(sessions) != 1 {
		t.Errorf("sessions %v: want only \"other\"", sessions)
	}
	// The default: sFlow on every address. Every local address on its port
	// is itself, the machine's own interface addresses included.
	all := startEngine(t, "-Dsflow.hostname=")
	local := []string{"127.0.0.1", "127.0.0.2", "::1"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				local = append(local, n.IP.String())
				break
			}
		}
	}
	for _, addr := range local {
		code, msg := all.do(t, "PUT", "/forwarding/self/json", `{"address":"`+addr+`","port":`+port(all.sflow)+`}`)
		if code != 400 || !strings.Contains(msg, "back to itself") {
			t.Errorf("session to %s on the port of an engine listening on every address: %d %q", addr, code, msg)
		}
	}
}

// TestForwardingLoopThroughAnotherEngine: engine A forwards to engine B,
// which forwards back to A — the loop no configuration check can see.
// Without a guard every datagram circles for ever (65k datagrams/s from
// 200/s of input). A recognises its own datagrams coming back: each is
// counted once (per session, engine-wide, in /metrics), logged, neither
// applied nor forwarded again, so B receives each datagram exactly once
// and A's agents and flows count what the agents sent, not twice that.
func TestForwardingLoopThroughAnotherEngine(t *testing.T) {
	a, b := startEngine(t), startEngine(t)
	for _, s := range []struct {
		e    *engine
		to   string
		name string
	}{{a, b.sflow, "toB"}, {b, a.sflow, "toA"}} {
		if code, msg := s.e.do(t, "PUT", "/forwarding/"+s.name+"/json", `{"address":"127.0.0.1","port":`+port(s.to)+`}`); code != 204 {
			t.Fatalf("PUT %s: %d %s", s.name, code, msg)
		}
	}
	for _, e := range []*engine{a, b} {
		if code, msg := e.do(t, "PUT", "/flow/frames/json", "{value:'frames', t:20}"); code != 204 {
			t.Fatalf("%d %s", code, msg)
		}
	}
	rep := send(t, a.sflow, "-agents", "2", "-ports", "1", "-rate", "200", "-duration", "2s", "-counters", "0", "-seed", "5")
	n := rep.Datagrams
	// Settled: the counts stop moving once the input has stopped.
	var anA, anB map[string]any
	prev := -1.0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		a.get(t, "/analyzer/json", &anA)
		if got := anA["sFlowDatagramsReceived"].(float64); got == prev {
			break
		} else {
			prev = got
		}
	}
	b.get(t, "/analyzer/json", &anB)
	t.Logf("sent %d datagrams to A; A received %v (looped %v), B received %v", n, anA["sFlowDatagramsReceived"],
		anA["sFlowDatagramsLooped"], anB["sFlowDatagramsReceived"])
	if anA["sFlowDatagramsReceived"].(float64) != float64(2*n) || anA["sFlowDatagramsLooped"].(float64) != float64(n) {
		t.Errorf("A received %v datagrams, %v of them back from B: want %d and %d", anA["sFlowDatagramsReceived"], anA["sFlowDatagramsLooped"], 2*n, n)
	}
	if anB["sFlowDatagramsReceived"].(float64) != float64(n) || anB["sFlowDatagramsLooped"].(float64) != 0 {
		t.Errorf("B received %v datagrams (looped %v): want each of the %d once", anB["sFlowDatagramsReceived"], anB["sFlowDatagramsLooped"], n)
	}
	var toB, toA struct{ DatagramsSent, DatagramsReturned int }
	a.get(t, "/forwarding/toB/json", &toB)
	b.get(t, "/forwarding/toA/json", &toA)
	if toB.DatagramsSent != n || toB.DatagramsReturned != n || toA.DatagramsSent != n || toA.DatagramsReturned != 0 {
		t.Errorf("A→B %+v, B→A %+v: want %d sent each way, %d returned to A", toB, toA, n, n)
	}
	// A's agents count the datagrams they sent, once.
	var agents map[string]struct{ SFlowDatagramsReceived, SFlowDatagramsOutOfOrder, SFlowDatagramsDuplicates int }
	a.get(t, "/agents/json", &agents)
	total := 0
	for _, ag := range agents {
		total += ag.SFlowDatagramsReceived
		if ag.SFlowDatagramsOutOfOrder+ag.SFlowDatagramsDuplicates != 0 {
			t.Errorf("agent %+v: the returned copies were accounted", ag)
		}
	}
	if total != n {
		t.Errorf("A's agents received %d datagrams, the agents sent %d", total, n)
	}
	// A's flows count each frame once: as B, which had each datagram once.
	var fa, fb []struct{ Value float64 }
	a.get(t, "/activeflows/ALL/frames/json?aggMode=sum", &fa)
	b.get(t, "/activeflows/ALL/frames/json?aggMode=sum", &fb)
	if len(fa) != 1 || len(fb) != 1 || math.Abs(fa[0].Value-fb[0].Value) > 0.01*fb[0].Value {
		t.Errorf("frames/s at A %+v, at B %+v: want the same", fa, fb)
	}
	code, metrics := a.do(t, "GET", "/metrics", "")
	if code != 200 || !strings.Contains(metrics, fmt.Sprintf("flowrt_datagrams_looped_total %d\n", n)) ||
		!strings.Contains(metrics, fmt.Sprintf(`flowrt_forwarding_datagrams_total{session="toB",outcome="returned"} %d`, n)) {
		t.Errorf("/metrics does not count %d looped datagrams:\n%s", n, strings.Join(grepLines(metrics, "loop", "forwarding"), "\n"))
	}
	a.stop()
	if c := strings.Count(a.log.String(), "forwarding loop"); c != 1 {
		t.Errorf("%d log lines about the loop, want 1 (rate-limited):\n%s", c, a.log)
	}
}

// TestForwardingLoopThroughRelay: the same loop through a plain UDP relay
// (socat), as a packet broker that copies sFlow back would make it.
func TestForwardingLoopThroughRelay(t *testing.T) {
	need(t, "socat")
	e := startEngine(t)
	relay := freePort(t, "udp")
	cmd := exec.Command("socat", "-u", fmt.Sprintf("UDP4-RECV:%d,bind=127.0.0.1", relay), "UDP4-SENDTO:"+e.sflow)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(200 * time.Millisecond)
	if code, msg := e.do(t, "PUT", "/forwarding/relay/json", fmt.Sprintf(`{"address":"127.0.0.1","port":%d}`, relay)); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	rep := send(t, e.sflow, "-agents", "1", "-ports", "1", "-rate", "200", "-duration", "1s", "-counters", "0")
	time.Sleep(500 * time.Millisecond)
	var an map[string]any
	e.get(t, "/analyzer/json", &an)
	var s struct{ DatagramsSent, DatagramsReturned int }
	e.get(t, "/forwarding/relay/json", &s)
	if an["sFlowDatagramsLooped"].(float64) != float64(rep.Datagrams) || s.DatagramsReturned != rep.Datagrams || s.DatagramsSent != rep.Datagrams {
		t.Errorf("sent %d: looped %v, session %+v", rep.Datagrams, an["sFlowDatagramsLooped"], s)
	}
}
