package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// engine is a running "flowrt serve" on free ports of 127.0.0.1.
type engine struct {
	sflow, http string
	cmd         *exec.Cmd
	log         *syncLog
}

// syncLog is the engine's log as it comes: written by the goroutine
// reading its stderr, read by the test meanwhile.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logText is what the engine has logged so far.
func (e *engine) logText() string { return e.log.String() }

func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startEngine(t testing.TB, props ...string) *engine {
	t.Helper()
	return startEngineIn(t, "", props...)
}

// startEngineIn starts the engine in a working directory ("": the test's).
func startEngineIn(t testing.TB, dir string, props ...string) *engine {
	t.Helper()
	return startEngineWith(t, launch{dir: dir}, props...)
}

// launch says how to start the engine: where, through what (e.g. "ip netns
// exec ns"), with what more in the environment.
type launch struct {
	dir    string
	prefix []string
	env    []string
}

func startEngineWith(t testing.TB, l launch, props ...string) *engine {
	t.Helper()
	e := &engine{log: &syncLog{}}
	sp, hp := freePort(t, "udp"), freePort(t, "tcp")
	e.sflow, e.http = fmt.Sprintf("127.0.0.1:%d", sp), fmt.Sprintf("http://127.0.0.1:%d", hp)
	args := append([]string{fmt.Sprintf("-Dsflow.port=%d", sp), "-Dsflow.hostname=127.0.0.1",
		fmt.Sprintf("-Dhttp.port=%d", hp), "-Dhttp.hostname=127.0.0.1", "-Dstate.dir=" + t.TempDir()}, props...)
	argv := append(append(append([]string{}, l.prefix...), flowrt), args...)
	e.cmd = exec.Command(argv[0], argv[1:]...)
	e.cmd.Dir = l.dir
	e.cmd.Env = append(os.Environ(), l.env...)
	stderr, _ := e.cmd.StderrPipe()
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			e.log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "REST and web listening") {
				ready <- true
			}
		}
		close(ready)
	}()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("engine log:\n%s", e.log)
		}
	})
	select {
	case ok := <-ready:
		if !ok {
			e.cmd.Wait()
			t.Fatalf("flowrt serve did not start:\n%s", e.log)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("flowrt serve did not start in 10 s:\n%s", e.log)
	}
	return e
}

// stop interrupts the engine, as Ctrl-C would, and waits for it.
func (e *engine) stop() {
	if e.cmd.ProcessState == nil {
		e.cmd.Process.Signal(interrupt)
		e.cmd.Wait()
	}
}

// do makes a request as curl does and returns the status and body.
func (e *engine) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.http+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *engine) get(t *testing.T, path string, v any) {
	t.Helper()
	code, body := e.do(t, "GET", path, "")
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

type sendReport struct {
	Datagrams, FlowSamples int
	Seconds                float64
	TopFlows               []struct {
		Proto, Key      string
		DstPort         int
		Samples, Frames float64
		Bytes           float64
	}
}

func send(t *testing.T, to string, args ...string) sendReport {
	t.Helper()
	out, err := exec.Command(flowrt, append([]string{"send", "-to", to}, args...)...).Output()
	if err != nil {
		t.Fatalf("flowrt send: %v", err)
	}
	var r sendReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("flowrt send printed %s: %v", out, err)
	}
	return r
}

// TestSeedArticlesEndToEnd defines the flows of the ICMP unreachable and DNS
// amplification articles with the articles' curl bodies, sends known
// traffic over UDP, and checks /activeflows, /metric, /flows, /agents and
// /analyzer against what was sent.
func TestSeedArticlesEndToEnd(t *testing.T) {
	e := startEngine(t)
	for name, body := range map[string]string{
		"uports":     "{keys:'icmpunreachableport', value:'frames', t:20}",
		"dnsqueries": "{keys:'dnsqtypename', value:'frames', filter:'dnsqr=false',t:20}",
		"dnsqany":    "{keys:'dnsqname', value:'frames', filter:'dnsqr=false&dnsqtype=255',t:20}",
		"dnsqanytot": "{value:'frames', filter:'dnsqr=false&dnsqtype=255',t:20}",
		"pairs":      "{keys:'ipsource,ipdestination', value:'frames', t:2, n:20}",
		"unets":      "{keys:'ipdestination,icmpunreachableport', value:'frames', t:20, log:true, flowStart:true}",
	} {
		if code, msg := e.do(t, "PUT", "/flow/"+name+"/json", body); code != 204 {
			t.Fatalf("PUT %s: %d %s", name, code, msg)
		}
	}
	if code, msg := e.do(t, "PUT", "/flow/bad/json", "{keys:'ipsorce', value:'frames'}"); code != 400 || !strings.Contains(msg, "ipsorce") {
		t.Errorf("bad definition: %d %q, want 400 naming ipsorce", code, msg)
	}
	// One agent, one port: what is sent is what one data source sees.
	rep := send(t, e.sflow, "-agents", "1", "-ports", "1", "-flows", "40", "-sampling", "100", "-rate", "500",
		"-duration", "6s", "-seed", "3", "-counters", "2s")

	var pairs []struct {
		Key   string
		Value float64
	}
	e.get(t, "/activeflows/ALL/pairs/json?maxFlows=5", &pairs)
	top := rep.TopFlows[0]
	sentRate := top.Frames / rep.Seconds
	if len(pairs) == 0 || pairs[0].Key != top.Key {
		t.Fatalf("top pair %+v, sent %s", pairs, top.Key)
	}
	// t=2 over 6 s of steady traffic: within 5% of steady state (e^-3),
	// plus sampling noise.
	if d := math.Abs(pairs[0].Value-sentRate) / sentRate; d > 0.15 {
		t.Errorf("top pair %.0f frames/s, sent %.0f/s (%.0f%% off)", pairs[0].Value, sentRate, d*100)
	}
	var uports []struct{ Key string }
	e.get(t, "/activeflows/ALL/uports/json?maxFlows=20&aggMode=sum", &uports)
	if len(uports) == 0 || !strings.HasPrefix(uports[0].Key, "udp_3000") {
		t.Errorf("uports %+v, want udp_3000x ports", uports)
	}
	var qtypes []struct{ Key string }
	e.get(t, "/activeflows/ALL/dnsqueries/json?aggMode=sum", &qtypes)
	keys := fmt.Sprint(qtypes)
	if !strings.Contains(keys, "ANY(255)") || !strings.Contains(keys, "A(1)") {
		t.Errorf("dnsqueries %v, want A(1) and ANY(255)", keys)
	}
	var stats []struct {
		MetricName  string
		MetricValue float64
		MetricN     int
	}
	e.get(t, "/metric/ALL/sum:dnsqanytot,max:ifinoctets/json", &stats)
	if len(stats) != 2 || stats[0].MetricName != "sum:dnsqanytot" || stats[0].MetricValue <= 0 || stats[1].MetricValue <= 0 {
		t.Errorf("metrics %+v", stats)
	}
	// The Packet loss article's query, as printed. The sender's counters
	// say one error per 1,000 frames and one discard per 500 in, half that
	// out: the rates must agree with the frames sent (counters every 2 s,
	// so the latest interval is a third of the run: allow for sampling).
	e.get(t, "/metric/ALL/sum:ifinerrors,sum:ifindiscards,sum:ifouterrors,sum:ifoutdiscards,max:ifinerrors,max:ifindiscards,max:ifouterrors,max:ifoutdiscards/json", &stats)
	frames := float64(rep.FlowSamples) * 100 / rep.Seconds
	for i, want := range []float64{frames / 1000, frames / 500, frames / 2000, frames / 1000} {
		if st := stats[i]; st.MetricN != 1 || math.Abs(st.MetricValue-want)/want > 0.2 {
			t.Errorf("%s = %.1f (n=%d), want %.1f", st.MetricName, st.MetricValue, st.MetricN, want)
		}
		if stats[i+4].MetricValue != stats[i].MetricValue {
			t.Errorf("one data source: %s %v != %s %v", stats[i+4].MetricName, stats[i+4].MetricValue, stats[i].MetricName, stats[i].MetricValue)
		}
	}
	var logged []struct {
		FlowID   int
		Name     string
		FlowKeys string
	}
	e.get(t, "/flows/json?name=unets&maxFlows=100", &logged)
	if len(logged) == 0 || !strings.Contains(logged[0].FlowKeys, ",udp_3000") {
		t.Errorf("flow log %+v", logged)
	}
	// Long poll: nothing newer than the newest yet, so it waits the timeout.
	start := time.Now()
	var none []any
	e.get(t, fmt.Sprintf("/flows/json?flowID=%d&timeout=1", logged[0].FlowID), &none)
	if len(none) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("long poll returned %v after %v", none, time.Since(start))
	}
	var agents map[string]struct {
		SFlowDatagramsReceived, SFlowDatagramsLost, SFlowFlowSamples int
	}
	e.get(t, "/agents/json", &agents)
	a := agents["10.255.0.1"]
	if a.SFlowDatagramsReceived != rep.Datagrams || a.SFlowDatagramsLost != 0 || a.SFlowFlowSamples != rep.FlowSamples {
		t.Errorf("agent %+v, sent %d datagrams, %d flow samples", a, rep.Datagrams, rep.FlowSamples)
	}
	var an map[string]any
	e.get(t, "/analyzer/json", &an)
	if an["sFlowDatagramsReceived"].(float64) != float64(rep.Datagrams) || an["sFlowKernelDrops"].(float64) != 0 {
		t.Errorf("analyzer %v", an)
	}
	for _, p := range []string{"/activeflows/ALL/uports/html?maxFlows=20&aggMode=sum", "/metric/ALL/sum:dnsqanytot/html", "/"} {
		if code, body := e.do(t, "GET", p, ""); code != 200 || !strings.Contains(body, "<html") {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, _ := e.do(t, "DELETE", "/flow/pairs/json", ""); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
	if code, _ := e.do(t, "GET", "/activeflows/ALL/pairs/json", ""); code != 404 {
		t.Errorf("deleted flow: %d, want 404", code)
	}
}

func TestReadOnlyAndPortInUse(t *testing.T) {
	e := startEngine(t, "-Dhttp.readonly=yes")
	if code, msg := e.do(t, "PUT", "/flow/x/json", "{value:'frames'}"); code != 403 || !strings.Contains(msg, "read-only") {
		t.Errorf("read-only PUT: %d %q", code, msg)
	}
	port := strings.TrimPrefix(e.sflow, "127.0.0.1:")
	out, err := exec.Command(flowrt, "-Dsflow.port="+port, "-Dsflow.hostname=127.0.0.1", "-Dsflow.sockets=2", "-Dstate.dir=none",
		fmt.Sprintf("-Dhttp.port=%d", freePort(t, "tcp"))).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Errorf("second engine on the same port: %v %s", err, out)
	}
}

// TestReplayCaptureFile runs the engine on a capture (-Dsflow.file) as fast
// as possible: every datagram of the shared capture is accounted for — 25
// decoded, 5 counted as not sFlow v5 (the capture has five corrupt
// headers, which flowrt decode reports too) — and its counters become
// metrics.
func TestReplayCaptureFile(t *testing.T) {
	file := filepath.Join(testdata.Dir(t), "tcpdump_sflow_multiple_counter_30_pdus.pcap")
	e := startEngine(t, "-Dsflow.file="+file, "-Dsflow.file.realtime=no")
	var an map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		e.get(t, "/analyzer/json", &an)
		if an["sFlowDatagramsReceived"].(float64) == 30 {
			break
		}
	}
	if an["sFlowDatagramsReceived"].(float64) != 30 || an["sFlowFile"] != file {
		t.Fatalf("analyzer %v", an)
	}
	var names map[string]float64
	e.get(t, "/metrics/json", &names)
	for _, m := range []string{"ifinoctets", "ifoutoctets", "ifspeed", "ifoperstatus"} {
		if _, ok := names[m]; !ok {
			t.Errorf("no %s metric from the capture: %v", m, names)
		}
	}
	var agents map[string]struct{ SFlowDatagramsReceived, SFlowCounterSamples int }
	e.get(t, "/agents/json", &agents)
	total := 0
	for _, a := range agents {
		total += a.SFlowDatagramsReceived
	}
	by := an["sFlowDecodeErrorsBy"].(map[string]any)
	if total != 25 || by["version"].(float64) != 5 {
		t.Errorf("agents account for %d datagrams (want 25), decode errors %v (want 5 version)", total, by)
	}
}

// TestDDoSThresholdEndToEnd follows the DDoS article over real UDP and
// HTTP: a flow per destination, a byFlow threshold at 1,000 frames/s with
// timeout 5, and a long-polling client (as the article's controller is)
// waiting on /events/json while a 10,000 frames/s flood starts. The event
// names the flooded address, agent and data source, and arrives within
// 1 s of the flood's start.
func TestDDoSThresholdEndToEnd(t *testing.T) {
	e := startEngine(t)
	if code, msg := e.do(t, "PUT", "/flow/ddos/json", "{keys:'ipdestination', value:'frames', t:2}"); code != 204 {
		t.Fatalf("flow: %d %s", code, msg)
	}
	if code, msg := e.do(t, "PUT", "/threshold/ddos/json", "{metric:'ddos', value:1000, byFlow:true, timeout:5}"); code != 204 {
		t.Fatalf("threshold: %d %s", code, msg)
	}
	var got []struct {
		EventID              int
		ThresholdID, FlowKey string
		Agent, DataSource    string
		Value, Threshold     float64
	}
	polled := make(chan time.Time)
	go func() {
		e.get(t, "/events/json?eventID=-1&maxEvents=10&timeout=20", &got)
		polled <- time.Now()
	}()
	time.Sleep(200 * time.Millisecond) // the poll is waiting
	start := time.Now()
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "1", "-ports", "1", "-flows", "1", "-mix", "udp",
		"-sampling", "100", "-samples", "1", "-rate", "100", "-duration", "3s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	defer sender.Wait()
	var at time.Time
	select {
	case at = <-polled:
	case <-time.After(15 * time.Second):
		t.Fatal("no event within 15 s")
	}
	latency := at.Sub(start)
	t.Logf("flood start → event at the long-polling client: %v", latency)
	if len(got) != 1 || got[0].ThresholdID != "ddos" || got[0].FlowKey != "192.168.0.1" || got[0].Agent != "10.255.0.1" ||
		got[0].DataSource != "1" || got[0].Value <= 1000 || got[0].Threshold != 1000 {
		t.Fatalf("events %+v", got)
	}
	if latency > time.Second {
		t.Errorf("event %v after the flood started, want ≤ 1 s", latency)
	}
	// No second event while the flood goes on: the threshold stays triggered.
	sender.Wait()
	var again []any
	e.get(t, fmt.Sprintf("/events/json?eventID=%d&timeout=0", got[0].EventID), &again)
	if len(again) != 0 {
		t.Errorf("more events during one flood: %v", again)
	}
}

// TestForwardingArticle follows the Forwarding article: sessions are made
// with its curl bodies (plus a port, as the listeners are not on 6343), one
// of them limited to one agent, and two flowrt decode processes receive the
// forwarded streams. What they decode is exactly what flowrt decode makes of
// the capture that was sent to the engine.
func TestForwardingArticle(t *testing.T) {
	capture := filepath.Join(testdata.Dir(t), "tcpdump_sflow_multiple_counter_30_pdus.pcap")
	e := startEngine(t)
	all, one := startDecode(t, "-j"), startDecode(t, "-j")
	portOf := func(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
	if code, msg := e.do(t, "PUT", "/forwarding/SessionA/json", `{"address":"127.0.0.1","port":`+portOf(all.addr)+`}`); code != 204 {
		t.Fatalf("SessionA: %d %s", code, msg)
	}
	if code, msg := e.do(t, "PUT", "/forwarding/SessionB/json",
		`{"address":"127.0.0.1","port":`+portOf(one.addr)+`,"agents":["15.184.1.195"]}`); code != 204 {
		t.Fatalf("SessionB: %d %s", code, msg)
	}
	send(t, e.sflow, "-r", capture, "-rate", "0", "-count", "30")
	// What flowrt decode makes of the capture itself, keyed by agent and
	// sequence number, without the fields that say how it arrived.
	key := func(line string) (string, string) {
		var d map[string]any
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		for _, f := range []string{"datagramSourceIP", "unixSecondsUTC", "unixSecondsUTC_uS", "localtime", "pcapTimestamp", "pcapTimestamp_uS"} {
			delete(d, f)
		}
		b, _ := json.Marshal(d)
		return fmt.Sprint(d["agent"], "#", d["packetSequenceNo"]), string(b)
	}
	want := map[string]string{}
	out, _ := exec.Command(flowrt, "decode", "-r", capture, "-j").Output()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.Contains(line, `"agent"`) {
			continue // the five corrupt datagrams, which the engine counts and does not forward
		}
		k, v := key(line)
		want[k] = v
	}
	collect := func(l *listener, n int) map[string]string {
		got := map[string]string{}
		for deadline := time.After(5 * time.Second); len(got) < n; {
			select {
			case line := <-l.lines:
				k, v := key(line)
				got[k] = v
			case <-deadline:
				return got
			}
		}
		return got
	}
	gotAll := collect(all, len(want))
	if len(gotAll) != len(want) {
		t.Errorf("SessionA delivered %d distinct datagrams, the capture has %d", len(gotAll), len(want))
	}
	for k, v := range gotAll {
		if want[k] != v {
			t.Errorf("forwarded datagram %s decodes differently:\n got %.200s\nwant %.200s", k, v, want[k])
		}
	}
	wantOne := 0
	for k := range want {
		if strings.HasPrefix(k, "15.184.1.195#") {
			wantOne++
		}
	}
	gotOne := collect(one, wantOne)
	for k := range gotOne {
		if !strings.HasPrefix(k, "15.184.1.195#") {
			t.Errorf("SessionB forwarded %s, from another agent", k)
		}
	}
	if len(gotOne) != wantOne || wantOne == 0 {
		t.Errorf("SessionB delivered %d datagrams, want the agent's %d", len(gotOne), wantOne)
	}
	var sessions map[string]struct {
		Address          string
		Port             int
		DatagramsSent    int
		DatagramsDropped int
	}
	e.get(t, "/forwarding/json", &sessions)
	if sessions["SessionA"].DatagramsSent != 25 || sessions["SessionB"].DatagramsSent != wantOne {
		t.Errorf("sessions %+v (25 decodable datagrams; SessionB %d)", sessions, wantOne)
	}
	if code, _ := e.do(t, "DELETE", "/forwarding/SessionB/json", ""); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
}

// TestRestartKeepsRESTState defines one of everything over REST, restarts
// the engine on the same state directory and finds it all again; then a
// corrupt file is set aside, reported, and the rest still restored.
func TestRestartKeepsRESTState(t *testing.T) {
	dir := t.TempDir()
	e := startEngine(t, "-Dstate.dir="+dir)
	fwd := startDecode(t, "-j")
	for _, c := range []struct{ path, body string }{
		{"/flow/uports/json", "{keys:'ipdestination,icmpunreachableport', value:'frames', t:20, log:true, flowStart:true}"},
		{"/threshold/ddos/json", "{metric:'uports', value:1000, byFlow:true, timeout:5}"},
		{"/group/json", "{external:['0.0.0.0/0'], private:['10.0.0.0/8','fc00::/7']}"},
		{"/group/zones/json", "{a:['10.0.0.0/24']}"},
		{"/map/protos/json", "{udp:['17']}"},
		{"/forwarding/SessionA/json", `{"address":"127.0.0.1","port":` + fwd.addr[strings.LastIndexByte(fwd.addr, ':')+1:] + `}`},
		{"/topology/json", "{nodes:{s1:{agent:'10.0.0.1', ports:{p1:{ifindex:'1'}}}}}"},
		{"/flow/ui_trend_0a1b2c/json", "{keys:'ipsource', value:'bytes'}"}, // a web page's own: not kept
	} {
		if code, msg := e.do(t, "PUT", c.path, c.body); code != 204 {
			t.Fatalf("PUT %s: %d %s", c.path, code, msg)
		}
	}
	e.stop()
	check := func(e *engine) {
		t.Helper()
		for path, want := range map[string]string{
			"/flow/uports/json":         `"flowStart": true`,
			"/threshold/ddos/json":      `"timeout": 5`,
			"/group/json":               `"fc00::/7"`,
			"/group/zones/json":         `"10.0.0.0/24"`,
			"/map/protos/json":          `"udp"`,
			"/forwarding/SessionA/json": `"address": "127.0.0.1"`,
			"/topology/json":            `"s1"`,
		} {
			if code, body := e.do(t, "GET", path, ""); code != 200 || !strings.Contains(body, want) {
				t.Errorf("after restart GET %s: %d %s", path, code, body)
			}
		}
	}
	e2 := startEngine(t, "-Dstate.dir="+dir)
	check(e2)
	if code, _ := e2.do(t, "GET", "/flow/ui_trend_0a1b2c/json", ""); code != 404 {
		t.Errorf("the web interface's trend definition came back after a restart: %d", code)
	}
	e2.stop()
	// Corrupt the thresholds: reported and set aside, the rest restored.
	os.WriteFile(filepath.Join(dir, "thresholds.json"), []byte("{half a file"), 0o644)
	e3 := startEngine(t, "-Dstate.dir="+dir)
	if code, _ := e3.do(t, "GET", "/threshold/ddos/json", ""); code != 404 {
		t.Errorf("a corrupt thresholds file restored something: %d", code)
	}
	if code, _ := e3.do(t, "GET", "/flow/uports/json", ""); code != 200 {
		t.Errorf("the flows were lost with the thresholds: %d", code)
	}
	e3.stop()
	if !strings.Contains(e3.log.String(), "moved to") {
		t.Errorf("the corrupt file was not reported:\n%s", e3.log)
	}
	if bad, _ := filepath.Glob(filepath.Join(dir, "thresholds.json.bad-*")); len(bad) != 1 {
		t.Errorf("set-aside files %v", bad)
	}
}

// TestGeoProperties: -Dgeo.country loads a MaxMind-format database (built
// here with mmdbwriter) and country keys classify traffic; without one, a
// definition that needs it is refused with the property to set.
func TestGeoProperties(t *testing.T) {
	db := countryDB(t)
	bare := startEngine(t)
	if code, msg := bare.do(t, "PUT", "/flow/c/json", "{keys:'sourcecountry', value:'frames'}"); code != 400 || !strings.Contains(msg, "-Dgeo.country") {
		t.Errorf("without a database: %d %s", code, msg)
	}
	e := startEngine(t, "-Dgeo.country="+db)
	if code, msg := e.do(t, "PUT", "/flow/c/json", "{keys:'sourcecountry,destinationcountry', value:'frames'}"); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	send(t, e.sflow, "-agents", "1", "-flows", "10", "-mix", "tcp,udp", "-rate", "500", "-duration", "1s")
	var flows []struct{ Key string }
	e.get(t, "/activeflows/ALL/c/json", &flows)
	if len(flows) != 1 || flows[0].Key != "US,DE" {
		t.Errorf("country flows %+v, want US,DE", flows)
	}
}

// countryDB writes a MaxMind-format country database (10/8 is US,
// 192.168/16 DE) with mmdbwriter and returns its path.
func countryDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "Test-Country", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, code := range map[string]string{"10.0.0.0/8": "US", "192.168.0.0/16": "DE"} {
		_, n, _ := net.ParseCIDR(cidr)
		tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}})
	}
	db := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return db
}
