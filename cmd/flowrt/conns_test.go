package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attackConn is a connection of the test's own that records when the
// server closed it.
type attackConn struct {
	net.Conn
	closedAt atomic.Int64 // unix nanoseconds; 0 while open
}

// dialRaw opens a TCP connection to addr, writes first, and reads (and
// drops) whatever the server answers until it closes the connection.
func dialRaw(t *testing.T, addr, first string) *attackConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	ac := &attackConn{Conn: c}
	t.Cleanup(func() { c.Close() })
	if first != "" {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, first); err != nil {
			t.Fatalf("writing to %s: %v", addr, err)
		}
	}
	go func() {
		io.Copy(io.Discard, c)
		ac.closedAt.Store(time.Now().UnixNano())
	}()
	return ac
}

// closedWithin waits up to d for the server to close c and says how long
// it took (false: still open).
func (c *attackConn) closedWithin(from time.Time, d time.Duration) (time.Duration, bool) {
	for deadline := from.Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if at := c.closedAt.Load(); at != 0 {
			return time.Unix(0, at).Sub(from), true
		}
	}
	return d, false
}

// TestHTTPTimeouts: a keep-alive connection left idle is closed after
// http.idle.timeout, a body sent a byte at a time is cut at
// http.read.timeout with a 400, and the long-polls (/events/json,
// /flows/json ?timeout=) still wait their whole timeout, longer than both.
func TestHTTPTimeouts(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	e := startEngine(t, "-Dhttp.idle.timeout=2", "-Dhttp.read.timeout=3", "-Dhttp.write.timeout=4")
	addr := strings.TrimPrefix(e.http, "http://")

	start := time.Now()
	idle := dialRaw(t, addr, "GET /version HTTP/1.1\r\nHost: flowrt\r\n\r\n")
	took, closed := idle.closedWithin(start, 20*time.Second)
	t.Logf("idle keep-alive connection closed by the server after %v (closed: %v)", took.Round(10*time.Millisecond), closed)
	if !closed || took < 1500*time.Millisecond || took > 5*time.Second {
		t.Errorf("idle connection: closed=%v after %v, want closed at about 2 s (http.idle.timeout)", closed, took)
	}

	// A slow body: headers at once, then a byte every 200 ms.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start = time.Now()
	io.WriteString(c, "PUT /flow/slow/json HTTP/1.1\r\nHost: flowrt\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
	answer := make(chan string, 1)
	go func() {
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			answer <- "no answer: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}()
	var got string
trickle:
	for time.Since(start) < 20*time.Second {
		select {
		case got = <-answer:
			break trickle
		case <-time.After(200 * time.Millisecond):
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(" "))
		}
	}
	took = time.Since(start)
	t.Logf("slow body answered after %v: %q", took.Round(10*time.Millisecond), got)
	if !strings.HasPrefix(got, "400 ") || took < 2500*time.Millisecond || took > 6*time.Second {
		t.Errorf("slow body: %q after %v, want a 400 at about 3 s (http.read.timeout)", got, took)
	}

	// The long-polls wait 6 s, past the read (3 s) and write (4 s) timeouts.
	for _, path := range []string{"/events/json?eventID=-1&timeout=6", "/flows/json?flowID=-1&timeout=6"} {
		start := time.Now()
		var out []any
		e.get(t, path, &out)
		took := time.Since(start)
		t.Logf("GET %s answered %d records after %v", path, len(out), took.Round(10*time.Millisecond))
		if took < 5800*time.Millisecond || took > 9*time.Second || len(out) != 0 {
			t.Errorf("GET %s: %d records after %v, want none after its 6 s timeout", path, len(out), took)
		}
	}
	// A keep-alive client sees its connection closed at the idle timeout,
	// and reconnects: nothing is lost.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for i := range 3 {
		resp, err := client.Get(e.http + "/version")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d after an idle period: %v %v", i, err, resp)
		}
		resp.Body.Close()
		time.Sleep(2500 * time.Millisecond)
	}
}

// TestHTTPConnectionFlood holds 600 idle keep-alive connections, 200 whose
// header comes a line a second and 200 whose body comes a byte a second
// against an engine limited to 512 open files, and checks that
// /analyzer/json still answers, each time within a second, and that the
// connections beyond the cap were closed by the engine.
func TestHTTPConnectionFlood(t *testing.T) {
	need(t, "prlimit")
	e := startEngineWith(t, launch{prefix: []string{"prlimit", "--nofile=512:512", "--"}})
	addr := strings.TrimPrefix(e.http, "http://")
	const idle, slowHeader, slowBody = 600, 200, 200
	var (
		mu    sync.Mutex
		all   []*attackConn
		slow  []*attackConn
		start = time.Now()
	)
	for range idle {
		all = append(all, dialRaw(t, addr, "GET /version HTTP/1.1\r\nHost: flowrt\r\n\r\n"))
	}
	for range slowHeader {
		c := dialRaw(t, addr, "GET /version HTTP/1.1\r\nHost: flowrt\r\n")
		all, slow = append(all, c), append(slow, c)
	}
	for range slowBody {
		c := dialRaw(t, addr, "PUT /flow/slow/json HTTP/1.1\r\nHost: flowrt\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
		all, slow = append(all, c), append(slow, c)
	}
	t.Logf("%d connections opened in %v", len(all), time.Since(start).Round(time.Millisecond))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the slow ones go on sending, a line or a byte a second
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			mu.Lock()
			for i, c := range slow {
				c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
				if i < slowHeader {
					io.WriteString(c, "X-Slow: 1\r\n")
				} else {
					io.WriteString(c, " ")
				}
			}
			mu.Unlock()
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var worst time.Duration
	failed := 0
	for i := range 12 {
		time.Sleep(500 * time.Millisecond)
		t0 := time.Now()
		resp, err := client.Get(e.http + "/analyzer/json")
		took := time.Since(t0)
		worst = max(worst, took)
		if err != nil {
			failed++
			t.Errorf("probe %d: /analyzer/json did not answer: %v (after %v)", i, err, took.Round(time.Millisecond))
			continue
		}
		var a map[string]any
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || a["version"] == nil {
			failed++
			t.Errorf("probe %d: /analyzer/json answered %d %v %v", i, resp.StatusCode, err, a)
		}
		t.Logf("probe %d: %v", i, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("probe %d: /analyzer/json took %v, more than 1 s", i, took.Round(time.Millisecond))
		}
	}
	closed := 0
	for _, c := range all {
		if c.closedAt.Load() != 0 {
			closed++
		}
	}
	t.Logf("under %d connections: 12 probes of /analyzer/json, %d failed, the slowest %v; %d attack connections closed by the engine",
		len(all), failed, worst.Round(time.Millisecond), closed)
	// The cap is half the 512 open files: at least the rest were closed.
	if closed < len(all)-256 {
		t.Errorf("%d of %d connections closed by the engine, want at least %d (the cap is 256)", closed, len(all), len(all)-256)
	}
	// The engine counts what it closed, as the clients saw it.
	var a struct{ HTTPConnections, HTTPConnectionsMax, HTTPConnectionsClosed int }
	e.get(t, "/analyzer/json", &a)
	if a.HTTPConnectionsMax != 256 || a.HTTPConnectionsClosed < closed || a.HTTPConnections > 256 || a.HTTPConnections < 1 {
		t.Errorf("/analyzer/json: %+v, want a cap of 256, at least the %d closures the clients saw, at most 256 held", a, closed)
	}
	_, metrics := e.do(t, "GET", "/metrics", "")
	var fromMetrics int
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, "flowrt_http_connections_closed_total "); ok {
			fmt.Sscan(v, &fromMetrics)
		}
	}
	if fromMetrics < a.HTTPConnectionsClosed {
		t.Errorf("/metrics flowrt_http_connections_closed_total %d, /analyzer/json %d before it", fromMetrics, a.HTTPConnectionsClosed)
	}
}
