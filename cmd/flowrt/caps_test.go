package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/synth"
)

// getPage GETs a listing and returns its body decoded into v and its
// paging headers (X-Total-Count, and the Link to the next page).
func (e *engine) getPage(t *testing.T, path string, v any) (total int, next string) {
	t.Helper()
	resp, err := http.Get(e.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	total, err = strconv.Atoi(resp.Header.Get("X-Total-Count"))
	if err != nil {
		t.Fatalf("GET %s: X-Total-Count %q", path, resp.Header.Get("X-Total-Count"))
	}
	if m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(resp.Header.Get("Link")); m != nil {
		next = m[1]
	}
	return total, next
}

// promValue reads one sample of flowrt's /metrics ("flowrt_agents" or
// `flowrt_record_decode_errors_total{reason="length"}`).
func (e *engine) promValue(t *testing.T, series string) float64 {
	t.Helper()
	_, body := e.do(t, "GET", "/metrics", "")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %q", line)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", series, body)
	return 0
}

func logLines(log, msg string) int { return strings.Count(log, `msg="`+msg+`"`) }

// TestSpoofedAgentsBounded sends 50,000 spoofed agent addresses over UDP
// (one socket: the address is in the datagram) while one real agent keeps
// talking. Before agents.max, every one was kept (200k took 467 MB, and
// /agents/json answered 186 MB in 8.5 s, taking the engine to 1.4 GB). Now
// at most agents.max are held, the real agent among them; evictions are
// counted in /analyzer/json and /metrics; the log has a handful of lines,
// not 50,000; /agents/json is bounded and pages; and once the agents time
// out, one line says so for all of them.
func TestSpoofedAgentsBounded(t *testing.T) {
	e := startEngine(t, "-Dagents.max=1000", "-Dagent.timeout=4")
	time.Sleep(300 * time.Millisecond)
	before := rss(t, e.cmd.Process.Pid)
	s := newSpoofer(t, e.sflow)
	const flood = 50_000
	realSeq := uint32(0)
	for i := range uint32(flood) {
		s.send(t, 1+i, 1, 1)
		if i%100 == 0 {
			realSeq++
			s.send(t, 0, 1, realSeq) // 10.0.0.1, the real agent
		}
	}
	got, drops := e.received(t, s.sent)
	grew := rss(t, e.cmd.Process.Pid) - before
	var an map[string]float64
	getNumbers(t, e, "/analyzer/json", &an)
	held, evicted := an["sFlowAgents"], an["sFlowAgentsEvicted"]
	t.Logf("%d datagrams sent, %v received, %v kernel drops; %v agents held, %v evicted; RSS grew %d MiB",
		s.sent, got, drops, held, evicted, grew>>20)
	if held > 1000 || held < 900 {
		t.Errorf("%v agents held, agents.max is 1000", held)
	}
	// Every spoofed agent that arrived was held or evicted (the real one
	// is held).
	if evicted+held < flood+1-drops || evicted+held > flood+1 {
		t.Errorf("%v evicted + %v held, want the %d agents sent less at most the %v datagrams the kernel dropped", evicted, held, flood+1, drops)
	}
	if v := e.promValue(t, "flowrt_agents_evicted_total"); v != evicted {
		t.Errorf("/metrics flowrt_agents_evicted_total %v, /analyzer/json %v", v, evicted)
	}
	if grew > 64<<20 {
		t.Errorf("RSS grew %d MiB for 1,000 agents held", grew>>20)
	}
	var real map[string]map[string]any
	e.get(t, "/agents/json?agent=10.0.0.1", &real)
	if r := real["10.0.0.1"]; r == nil || r["sFlowDatagramsReceived"].(float64) < float64(realSeq)-drops {
		t.Errorf("the real agent, heard every 100 datagrams: %v (sent %d)", r, realSeq)
	}
	// Paged: 10 at a time, in address order, the pages adding up.
	var page1, page2 map[string]any
	total, next := e.getPage(t, "/agents/json?maxAgents=10", &page1)
	if total != int(held) || len(page1) != 10 || !strings.Contains(next, "offset=10") {
		t.Fatalf("/agents/json?maxAgents=10: %d agents, X-Total-Count %d (held %v), next %q", len(page1), total, held, next)
	}
	e.getPage(t, next, &page2)
	for k := range page2 {
		if page1[k] != nil {
			t.Errorf("%s on both pages", k)
		}
	}
	var all map[string]any
	if total, next = e.getPage(t, "/agents/json", &all); len(all) != total || next != "" {
		t.Errorf("/agents/json at the default bound: %d of %d, next %q", len(all), total, next)
	}
	if n := logLines(e.logText(), "new agent"); n > 10 {
		t.Errorf("%d \"new agent\" lines for %d agents: want at most 10 a window", n, flood)
	}
	if n := logLines(e.logText(), "agents evicted at agents.max, least recently heard first: raise -Dagents.max if they are real"); n == 0 || n > 10 {
		t.Errorf("%d eviction lines, want 1 to 10", n)
	}
	// All time out (4 s): a few lines one by one, then one for the rest
	// once the 10 s window has passed.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(e.logText(), "agents timed out (not logged one by one)") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary of the agents that timed out in 20 s:\n%s", tail(e.logText(), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := logLines(e.logText(), "agent timed out"); n > 10 {
		t.Errorf("%d \"agent timed out\" lines, want at most 10 and a summary", n)
	}
	if m := regexp.MustCompile(`msg="agents timed out \(not logged one by one\)" events=(\d+)`).FindStringSubmatch(e.logText()); m == nil {
		t.Error("the summary does not count the agents")
	} else if n, _ := strconv.Atoi(m[1]); float64(n+logLines(e.logText(), "agent timed out")) != held {
		t.Errorf("%s agents in the summary and %d one by one, %v held", m[1], logLines(e.logText(), "agent timed out"), held)
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// getNumbers reads the numeric fields of a JSON object.
func getNumbers(t *testing.T, e *engine, path string, out *map[string]float64) {
	t.Helper()
	var m map[string]any
	e.get(t, path, &m)
	*out = numbers(m)
}

func numbers(m map[string]any) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

// TestSpoofedDataSourcesBounded: one agent claiming 50,000 data sources
// over UDP. Before, all were kept (400k took 555 MB; /dump answered 319 MB
// in 41 s and /metric/{agent}/json 75 MB in 32 s, taking the engine to
// 2.7 GB). Now agent.datasources.max holds the most recently heard, the rest
// are counted as evicted, and the listings page.
func TestSpoofedDataSourcesBounded(t *testing.T) {
	e := startEngine(t, "-Dagent.datasources.max=2000", "-Ddatasources.max=5000")
	time.Sleep(300 * time.Millisecond)
	before := rss(t, e.cmd.Process.Pid)
	s := newSpoofer(t, e.sflow)
	const flood = 50_000
	for i := range uint32(flood) {
		s.send(t, 0, i+1, i+1)
	}
	got, drops := e.received(t, s.sent)
	grew := rss(t, e.cmd.Process.Pid) - before
	var agents map[string]map[string]any
	e.get(t, "/agents/json", &agents)
	a := numbers(agents["10.0.0.1"])
	t.Logf("%d datagrams sent, %v received, %v kernel drops; %v data sources held, %v evicted; RSS grew %d MiB",
		s.sent, got, drops, a["sFlowDatasources"], a["sFlowDatasourcesEvicted"], grew>>20)
	if held := a["sFlowDatasources"]; held > 2000 || held < 1900 || a["sFlowDatasourcesEvicted"]+held < flood-drops {
		t.Errorf("data sources held %v (agent.datasources.max 2000), evicted %v, of %d sent", held, a["sFlowDatasourcesEvicted"], flood)
	}
	var an map[string]float64
	getNumbers(t, e, "/analyzer/json", &an)
	if an["sFlowDatasources"] != a["sFlowDatasources"] || an["sFlowDatasourcesEvicted"] != a["sFlowDatasourcesEvicted"] ||
		e.promValue(t, "flowrt_datasources_evicted_total") != a["sFlowDatasourcesEvicted"] {
		t.Errorf("/analyzer/json %v held, %v evicted; /metrics %v evicted; the agent %v, %v", an["sFlowDatasources"], an["sFlowDatasourcesEvicted"],
			e.promValue(t, "flowrt_datasources_evicted_total"), a["sFlowDatasources"], a["sFlowDatasourcesEvicted"])
	}
	if grew > 64<<20 {
		t.Errorf("RSS grew %d MiB for 2,000 data sources held", grew>>20)
	}
	// The most recently heard are held, the first ones are not.
	var last, first []map[string]any
	e.get(t, fmt.Sprintf("/metric/10.0.0.1/%d.ifspeed/json", flood), &last)
	e.get(t, "/metric/10.0.0.1/1.ifspeed/json", &first)
	if last[0]["metricN"] != 1.0 || last[0]["metricValue"] != 1e9 || first[0]["metricN"] != 0.0 {
		t.Errorf("the last data source sent: %v; the first: %v", last, first)
	}
	// Paging: /dump in pages of 1,000 gives every point of the whole
	// listing once; /metric/{agent}/json and /table page too.
	var whole []map[string]any
	total, _ := e.getPage(t, "/dump/10.0.0.1/ifspeed/json?maxPoints=100000", &whole)
	if total != len(whole) || float64(total) != a["sFlowDatasources"] {
		t.Fatalf("/dump of ifspeed: %d points, X-Total-Count %d, data sources %v", len(whole), total, a["sFlowDatasources"])
	}
	seen := map[string]bool{}
	for path := "/dump/10.0.0.1/ifspeed/json?maxPoints=1000"; path != ""; {
		var page []map[string]any
		_, next := e.getPage(t, path, &page)
		for _, p := range page {
			if seen[p["dataSource"].(string)] {
				t.Fatalf("%s twice", p["dataSource"])
			}
			seen[p["dataSource"].(string)] = true
		}
		path = next
	}
	if len(seen) != total {
		t.Errorf("the pages gave %d data sources, the listing has %d", len(seen), total)
	}
	var m map[string]any
	if total, next := e.getPage(t, "/metric/10.0.0.1/json?maxPoints=100", &m); len(m) != 100 || total < 2*int(a["sFlowDatasources"]) || next == "" {
		t.Errorf("/metric/10.0.0.1/json?maxPoints=100: %d entries of %d, next %q", len(m), total, next)
	}
	var rows [][]any
	if total, next := e.getPage(t, "/table/ALL/ifspeed/json?maxRows=7&offset=3", &rows); len(rows) != 7 || total != int(a["sFlowDatasources"]) || !strings.Contains(next, "offset=10") {
		t.Errorf("/table?maxRows=7&offset=3: %d rows of %d, next %q", len(rows), total, next)
	}
	if code, body := e.do(t, "GET", "/dump/ALL/ALL/json?offset=-1", ""); code != 400 || !strings.Contains(body, "offset") {
		t.Errorf("offset=-1: %d %s", code, body)
	}
}

// TestRESTCapsRefused: what a REST client creates is bounded (2,000 flow
// definitions took the collector to ~140 datagrams/s, 100 forwarding
// sessions to a third of its input). At each limit a new one is a 409
// that names the limit and its property; replacing one is allowed, and
// deleting one makes room.
func TestRESTCapsRefused(t *testing.T) {
	e := startEngine(t, "-Dflow.definitions.max=3", "-Dthresholds.max=2", "-Dforwarding.sessions.max=1",
		"-Dgroups.max=1", "-Dmaps.max=1")
	sink := freePort(t, "udp")
	kinds := []struct {
		path, body, property string
		n                    int
	}{
		{"/flow/%s/json", "{keys:'ipsource', value:'frames'}", "flow.definitions.max", 3},
		{"/threshold/%s/json", "{metric:'ifinoctets', value:100}", "thresholds.max", 2},
		{"/forwarding/%s/json", fmt.Sprintf(`{"address":"127.0.0.1","port":%d}`, sink), "forwarding.sessions.max", 1},
		{"/group/%s/json", "{internal:['10.0.0.0/8']}", "groups.max", 1},
		{"/map/%s/json", "{web:['10.0.0.1']}", "maps.max", 1},
	}
	for _, k := range kinds {
		for i := range k.n {
			if code, body := e.do(t, "PUT", fmt.Sprintf(k.path, fmt.Sprint("x", i)), k.body); code != 204 {
				t.Fatalf("PUT %s #%d: %d %s", k.path, i, code, body)
			}
		}
		code, body := e.do(t, "PUT", fmt.Sprintf(k.path, "one_too_many"), k.body)
		if code != http.StatusConflict || !strings.Contains(body, k.property) || !strings.Contains(body, fmt.Sprint(k.n)) {
			t.Errorf("PUT %s beyond %s=%d: %d %q, want 409 naming the property and the limit", k.path, k.property, k.n, code, body)
		}
		if code, body := e.do(t, "PUT", fmt.Sprintf(k.path, "x0"), k.body); code != 204 {
			t.Errorf("replacing %s at the limit: %d %s", fmt.Sprintf(k.path, "x0"), code, body)
		}
		if code, _ := e.do(t, "DELETE", fmt.Sprintf(k.path, "x0"), ""); code != 204 {
			t.Errorf("DELETE %s: %d", fmt.Sprintf(k.path, "x0"), code)
		}
		if code, body := e.do(t, "PUT", fmt.Sprintf(k.path, "one_too_many"), k.body); code != 204 {
			t.Errorf("PUT %s after a delete: %d %s", k.path, code, body)
		}
	}
	var an map[string]float64
	getNumbers(t, e, "/analyzer/json", &an)
	if an["flowDefinitionsMax"] != 3 || an["flowDefinitions"] != 3 {
		t.Errorf("/analyzer/json flowDefinitions %v of %v", an["flowDefinitions"], an["flowDefinitionsMax"])
	}
}

// badRecordDatagram is synth.BadRecords: a datagram whose records do not decode.
func badRecordDatagram(t *testing.T, seq uint32) []byte {
	t.Helper()
	b, err := synth.BadRecords(seq)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLossCountedOverUDP: records that do not decode inside datagrams that
// do were skipped uncounted; rtmetric samples were not the agent's counter
// samples; /metrics had no refused-flows series. Now each is counted, and
// /agents/json, /analyzer/json and /metrics agree.
func TestLossCountedOverUDP(t *testing.T) {
	e := startEngine(t, "-Dflow.max=4")
	if code, body := e.do(t, "PUT", "/flow/pairs/json", "{keys:'ipsource,ipdestination', value:'bytes'}"); code != 204 {
		t.Fatalf("%d %s", code, body)
	}
	c, err := net.Dial("udp", e.sflow)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range uint32(10) {
		if _, err := c.Write(badRecordDatagram(t, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	e.received(t, 10)
	var agents map[string]map[string]any
	e.get(t, "/agents/json", &agents)
	a := agents["10.0.0.7"]
	n := numbers(a)
	if n["sFlowRecordDecodeErrors"] != 30 || n["sFlowDatagramsDecodeErrors"] != 0 || n["sFlowCounterSamples"] != 20 || n["sFlowCounterDatasources"] != 2 {
		t.Errorf("agent: %v record decode errors (%v), %v datagram decode errors, %v counter samples in %v data sources; want 30, 0, 20 (10 counter + 10 rtmetric), 2",
			n["sFlowRecordDecodeErrors"], a["sFlowRecordDecodeErrorsBy"], n["sFlowDatagramsDecodeErrors"], n["sFlowCounterSamples"], n["sFlowCounterDatasources"])
	}
	var an map[string]any
	e.get(t, "/analyzer/json", &an)
	by, _ := an["sFlowRecordDecodeErrorsBy"].(map[string]any)
	for reason, v := range by {
		if got := e.promValue(t, `flowrt_record_decode_errors_total{reason="`+reason+`"}`); got != v.(float64) {
			t.Errorf("reason %s: /metrics %v, /analyzer/json %v", reason, got, v)
		}
	}
	if an["sFlowRecordDecodeErrors"] != 30.0 || an["sFlowDecodeErrors"] != 0.0 {
		t.Errorf("/analyzer/json: %v record decode errors (%v), %v datagram decode errors", an["sFlowRecordDecodeErrors"], by, an["sFlowDecodeErrors"])
	}
	// Refused flows: flow.max=4 is less than the 8 tables (2 agents × 4
	// ports): the empty ones can evict nothing and refuse theirs.
	send(t, e.sflow, "-rate", "2000", "-count", "400", "-agents", "2", "-ports", "4", "-flows", "500", "-counters", "0")
	deadline := time.Now().Add(10 * time.Second)
	for {
		getNumbers(t, e, "/analyzer/json", &n)
		if n["flowsRefused"] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n["flowsRefused"] == 0 || e.promValue(t, "flowrt_flows_refused_total") != n["flowsRefused"] ||
		e.promValue(t, "flowrt_flows_evicted_total") != n["flowsEvicted"] || n["flowsTracked"] > 4 {
		t.Errorf("/analyzer/json flows tracked %v, refused %v, evicted %v; /metrics refused %v, evicted %v", n["flowsTracked"], n["flowsRefused"],
			n["flowsEvicted"], e.promValue(t, "flowrt_flows_refused_total"), e.promValue(t, "flowrt_flows_evicted_total"))
	}
}
