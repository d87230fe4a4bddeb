package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The reproducers of issue 13's "crashes and CPU from one request", each
// against a running engine over HTTP, each bounded in time by its
// client's timeout (generous: a bound, not a speed test).

// put sends body with a client that gives up after limit, and returns the
// status and answer; an error (the engine gone, the bound passed) fails
// the test.
func put(t *testing.T, e *engine, path string, body []byte, limit time.Duration) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", e.http+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: limit}).Do(req)
	if err != nil {
		log := e.log.String()
		t.Fatalf("PUT %s (%d bytes): %v\nengine log:\n%.2000s", path, len(body), err, log)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// alive checks the engine still answers.
func alive(t *testing.T, e *engine) {
	t.Helper()
	if code, _ := e.do(t, "GET", "/version", ""); code != 200 {
		t.Fatalf("engine answered %d after the request", code)
	}
}

func flowBody(t *testing.T, spec map[string]any) []byte {
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeepNestingIs400: the 4 MB filter of 2,000,000 nested
// parentheses overflowed the stack and the process exited; it is now a 400
// naming the limit (with the definitions' body limit raised so that it is
// parsed at all; at the default it is a 413). Keys nested 10,000–40,000
// deep (seconds of quadratic work before) are 400s too, and 64 deep works.
func TestDeepNestingIs400(t *testing.T) {
	e := startEngine(t, "-Dhttp.body.definitions=8388608")
	n := 2000000
	deep := flowBody(t, map[string]any{"keys": "ipsource", "value": "bytes",
		"filter": strings.Repeat("(", n) + "ipprotocol=6" + strings.Repeat(")", n)})
	start := time.Now()
	code, msg := put(t, e, "/flow/x/json", deep, 20*time.Second)
	t.Logf("2,000,000 parentheses (%d bytes): %d in %v: %s", len(deep), code, time.Since(start).Round(time.Millisecond), msg)
	if code != 400 || !strings.Contains(msg, "parentheses nested more than 64 deep") || len(msg) > 300 {
		t.Errorf("2,000,000 parentheses: %d %q, want a one-line 400 naming the limit", code, msg)
	}
	alive(t, e)
	for _, levels := range []int{10000, 20000, 40000} {
		for name, keys := range map[string]string{
			"brackets": strings.Repeat("[", levels) + "ipsource" + strings.Repeat("]", levels),
			"or:":      strings.Repeat("or:[", levels) + "ipsource" + strings.Repeat("]", levels),
		} {
			start := time.Now()
			code, msg := put(t, e, "/flow/x/json", flowBody(t, map[string]any{"keys": keys, "value": "bytes"}), 10*time.Second)
			t.Logf("keys %s %d deep: %d in %v", name, levels, code, time.Since(start).Round(time.Millisecond))
			if code != 400 || !strings.Contains(msg, "nested more than 64 deep") {
				t.Errorf("keys %s %d deep: %d %q, want a 400 naming the limit", name, levels, code, msg)
			}
		}
	}
	ok := strings.Repeat("[", 64) + "ipsource" + strings.Repeat("]", 64)
	if code, msg := put(t, e, "/flow/ok/json", flowBody(t, map[string]any{"keys": ok, "value": "bytes",
		"filter": strings.Repeat("(", 64) + "ipprotocol=6" + strings.Repeat(")", 64)}), 10*time.Second); code != 204 {
		t.Errorf("64 deep: %d %s", code, msg)
	}
	// A topology nested past the JSON reader's limit (in a port's tags).
	topo := `{"nodes":{"s1":{"agent":"10.0.0.1","ports":{"p1":{"ifindex":"1","tags":` + strings.Repeat("[", 100) +
		strings.Repeat("]", 100) + `}}}}}`
	if code, msg := put(t, e, "/topology/json", []byte(topo), 10*time.Second); code != 400 || !strings.Contains(msg, "nested more than 64 deep") {
		t.Errorf("topology 100 deep: %d %q", code, msg)
	}
	if code, msg := put(t, e, "/group/deep/json", []byte(`{"a":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`), 10*time.Second); code != 400 ||
		!strings.Contains(msg, "list of strings") {
		t.Errorf("group 100 deep: %d %q", code, msg)
	}
	alive(t, e)
	// At the default limit the 4 MB body is refused before it is read.
	d := startEngine(t)
	if code, msg := put(t, d, "/flow/x/json", deep, 20*time.Second); code != 413 || !strings.Contains(msg, "-Dhttp.body.definitions=") {
		t.Errorf("4 MB definition at the default limit: %d %q", code, msg)
	}
}

// cidrs makes a group body of n random IPv4 prefixes over labels, as the
// Blacklists article builds one (JavaScript form with single quotes when
// js), and the number of distinct prefixes in it.
func cidrs(n, labels int, js bool) ([]byte, int) {
	r := rand.New(rand.NewPCG(uint64(n), 13))
	groups := map[string][]string{}
	seen := map[netip.Prefix]bool{}
	for i := range n {
		bits := []int{16, 20, 22, 24, 24, 24, 28, 32}[r.IntN(8)]
		var a [4]byte
		for j := range a {
			a[j] = byte(r.UintN(256))
		}
		p := netip.PrefixFrom(netip.AddrFrom4(a), bits).Masked()
		seen[p] = true
		label := fmt.Sprintf("phish.%d", i%labels)
		groups[label] = append(groups[label], p.String())
	}
	b, _ := json.Marshal(groups)
	if js {
		b = bytes.ReplaceAll(b, []byte(`"`), []byte(`'`))
	}
	return b, len(seen)
}

// TestBodyLimits: group, map, topology and definition bodies have limits
// sized to real use; a body over one is a 413 naming its size, the limit
// and the property (at once when its length is declared, at the limit
// when it is sent chunked); the property raises it. Real sizes pass: the
// Blacklists article's 300,000 CIDRs (both forms), a 1,000-switch
// topology, a 16,000-domain filter.
func TestBodyLimits(t *testing.T) {
	e := startEngine(t)
	big, distinct := cidrs(300000, 3000, false)
	code, msg := put(t, e, "/group/blocklist/json", big, 60*time.Second)
	if code != 204 {
		t.Fatalf("300,000 CIDRs (%d bytes): %d %s", len(big), code, msg)
	}
	js, _ := cidrs(300000, 3000, true)
	if code, msg := put(t, e, "/group/json", js, 60*time.Second); code != 204 {
		t.Fatalf("300,000 CIDRs in JavaScript form: %d %s", code, msg)
	}
	var list map[string]struct{ Labels, Prefixes int }
	e.get(t, "/groups/json", &list)
	if got := list["blocklist"]; got.Labels != 3000 || got.Prefixes != distinct {
		t.Errorf("blocklist: %+v, want 3000 labels and %d prefixes", got, distinct)
	}
	if got := list["(default)"]; got.Prefixes != distinct {
		t.Errorf("default set from the JavaScript form: %+v, want %d prefixes", got, distinct)
	}
	t.Logf("300,000 CIDRs: %d bytes", len(big))

	over, _ := cidrs(1000000, 3000, false) // 18 MB
	code, msg = put(t, e, "/group/over/json", over, 30*time.Second)
	want := fmt.Sprintf("group body is %.1f MB; the limit is 16 MB (16777216 bytes): -Dhttp.body.groups=<bytes> raises it", float64(len(over))/(1<<20))
	if code != 413 || msg != want {
		t.Errorf("%d-byte group: %d %q, want 413 %q", len(over), code, msg, want)
	}
	// Chunked, with no length declared: refused when the limit is reached.
	req, _ := http.NewRequest("PUT", e.http+"/map/over/json", io.MultiReader(bytes.NewReader(over)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "map body is over the limit of 16 MB (16777216 bytes): -Dhttp.body.groups=<bytes> raises it") {
		t.Errorf("chunked 18 MB map: %d %q", resp.StatusCode, b)
	}
	e.get(t, "/groups/json", &list)
	if _, ok := list["over"]; ok || len(list) != 2 {
		t.Errorf("after the refusals: %v, want blocklist and the default set", list)
	}
	alive(t, e)

	topo := topology1000()
	if code, msg := put(t, e, "/topology/json", topo, 30*time.Second); code != 204 {
		t.Errorf("1,000-switch topology (%d bytes): %d %s", len(topo), code, msg)
	}
	var got struct{ Nodes, Links map[string]any }
	e.get(t, "/topology/json", &got)
	if len(got.Nodes) != 1000 || len(got.Links) != 960*8 {
		t.Errorf("topology: %d nodes %d links", len(got.Nodes), len(got.Links))
	}
	t.Logf("1,000-switch topology: %d bytes", len(topo))

	var domains []string
	for i := range 16000 {
		domains = append(domains, fmt.Sprintf("host%d.example%d.com.", i, i%97))
	}
	dns := flowBody(t, map[string]any{"keys": "dnsqname", "value": "frames", "filter": "dnsqname=" + strings.Join(domains, ",")})
	if code, msg := put(t, e, "/flow/dns/json", dns, 10*time.Second); code != 204 {
		t.Errorf("16,000-domain filter (%d bytes): %d %s", len(dns), code, msg)
	}
	huge := flowBody(t, map[string]any{"keys": "dnsqname", "value": "frames", "filter": "dnsqname=" + strings.Repeat(strings.Join(domains, ",")+",", 4)})
	if code, msg := put(t, e, "/flow/huge/json", huge, 10*time.Second); code != 413 || !strings.Contains(msg, "flow definition body is") ||
		!strings.Contains(msg, "-Dhttp.body.definitions=") {
		t.Errorf("%d-byte definition: %d %q", len(huge), code, msg)
	}

	// The property raises the limit.
	r := startEngine(t, "-Dhttp.body.groups=33554432")
	if code, msg := put(t, r, "/group/over/json", over, 60*time.Second); code != 204 {
		t.Errorf("18 MB group with http.body.groups=32 MB: %d %s", code, msg)
	}
}

// topology1000 is a leaf-spine network of 1,000 switches with 64 ports
// each (40 spines, each leaf linked to 8 of them), in sFlow-RT's form.
func topology1000() []byte {
	type port struct {
		IfIndex string `json:"ifindex"`
		OFPort  string `json:"ofport"`
	}
	type node struct {
		Agent string          `json:"agent"`
		DPID  string          `json:"dpid"`
		Ports map[string]port `json:"ports"`
	}
	nodes, links := map[string]node{}, map[string]map[string]string{}
	name := func(i int) string {
		if i < 40 {
			return fmt.Sprintf("spine%d", i)
		}
		return fmt.Sprintf("leaf%d", i)
	}
	for i := range 1000 {
		n := node{Agent: fmt.Sprintf("10.%d.%d.1", i/256, i%256), DPID: fmt.Sprintf("%016x", i+1), Ports: map[string]port{}}
		for p := 1; p <= 64; p++ {
			n.Ports[fmt.Sprintf("%s-eth%d", name(i), p)] = port{fmt.Sprint(p), fmt.Sprint(p)}
		}
		nodes[name(i)] = n
	}
	for i := 40; i < 1000; i++ {
		for u := range 8 {
			s := (i + u) % 40
			links[fmt.Sprintf("link%d-%d", i, u)] = map[string]string{"node1": name(i), "port1": fmt.Sprintf("%s-eth%d", name(i), 64-u),
				"node2": name(s), "port2": fmt.Sprintf("%s-eth%d", name(s), 1+(i*8+u)%64)}
		}
	}
	b, _ := json.Marshal(map[string]any{"nodes": nodes, "links": links})
	return b
}

// TestLoadStopsWithItsRequest: a group set whose client goes away after
// sending it is not loaded: the work stops with the request instead of
// going on for nobody (before, it was compiled and installed).
func TestLoadStopsWithItsRequest(t *testing.T) {
	e := startEngine(t)
	body, _ := cidrs(880000, 3000, false) // just under the 16 MB limit
	c, err := net.Dial("tcp", strings.TrimPrefix(e.http, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "PUT /group/gone/json HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		strings.TrimPrefix(e.http, "http://"), len(body))
	if _, err := c.Write(body); err != nil {
		t.Fatal(err)
	}
	c.Close() // gone, once everything is sent
	// The engine has the whole body; give it the time to finish the load
	// if it were going to (it takes well under a second), then look.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := e.do(t, "GET", "/group/gone/json", ""); code == 200 {
			t.Fatal("the set of a client that went away was loaded")
		}
		time.Sleep(250 * time.Millisecond)
	}
	alive(t, e)
	// The same body from a client that waits is loaded.
	if code, msg := put(t, e, "/group/kept/json", body, 60*time.Second); code != 204 {
		t.Errorf("the same set, waited for: %d %s", code, msg)
	}
}

// TestNamesLikeFlowNames: group sets, maps and forwarding sessions are
// named by the rule for flow names (1–128 letters, digits, '-', '_'); a
// bad one is a 400 stating the rule.
func TestNamesLikeFlowNames(t *testing.T) {
	e := startEngine(t)
	for _, c := range []struct{ path, body, what string }{
		{"/group/%s/json", `{"lab":["10.0.0.0/8"]}`, "group set name"},
		{"/map/%s/json", `{"web":["80"]}`, "map name"},
		{"/forwarding/%s/json", `{"address":"127.0.0.1","port":6399}`, "forwarding session name"},
		{"/flow/%s/json", `{"value":"frames"}`, "name"},
	} {
		for _, bad := range []string{"bad.name", "bad%20name", "caf%C3%A9", strings.Repeat("x", 129)} {
			code, msg := e.do(t, "PUT", fmt.Sprintf(c.path, bad), c.body)
			if code != 400 || !strings.Contains(msg, c.what) || !strings.Contains(msg, "letters, digits, '-' and '_'") && !strings.Contains(msg, "1 to 128") {
				t.Errorf("PUT %s: %d %q, want a 400 stating the rule", fmt.Sprintf(c.path, bad), code, msg)
			}
		}
		if code, msg := e.do(t, "PUT", fmt.Sprintf(c.path, "good-name_2"), c.body); code != 204 {
			t.Errorf("PUT %s: %d %s", fmt.Sprintf(c.path, "good-name_2"), code, msg)
		}
	}
}

// peakRSS is the engine's peak resident memory (VmHWM), in MB.
func peakRSS(t *testing.T, e *engine) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to read the engine's memory from: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return kb >> 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestConcurrentBigBodies: seven clients PUT group sets at once. At the
// old 64 MB limit that took the engine to 2.8 GB (3.6 GB in the JavaScript
// form); now a 64 MB body is refused before it is read, and seven sets
// just under the 16 MB limit (880,000 CIDRs each, all kept) stay within
// 1.2 GB: the sets themselves, not copies of their bodies. Saving state
// is off here: each save re-encodes every set in memory (2.3 GB for the
// same seven), which is the state store's to bound.
func TestConcurrentBigBodies(t *testing.T) {
	e := startEngine(t, "-Dstate.dir=none")
	var b bytes.Buffer
	b.WriteString("{")
	for i := 0; b.Len() < 64<<20-64; i++ {
		fmt.Fprintf(&b, "%q:[%q],", fmt.Sprintf("l%d", i), fmt.Sprintf("10.%d.%d.0/24", i>>8&255, i&255))
	}
	b.WriteString(`"last":["10.0.0.0/8"]}`)
	huge := b.Bytes()
	just, _ := cidrs(880000, 3000, true)
	for _, c := range []struct {
		body []byte
		code int
	}{{huge, 413}, {just, 204}} {
		codes := make(chan int, 7)
		for i := range 7 {
			go func() {
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/group/set%d/json", e.http, i), bytes.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := (&http.Client{Timeout: 120 * time.Second}).Do(req)
				if err != nil {
					t.Error(err)
					codes <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		for range 7 {
			if code := <-codes; code != c.code {
				t.Errorf("%d-byte body: %d, want %d", len(c.body), code, c.code)
			}
		}
		rss := peakRSS(t, e)
		t.Logf("7 concurrent %.1f MB group PUTs: %d, peak RSS %d MB", float64(len(c.body))/(1<<20), c.code, rss)
		if limit := map[int]int{413: 200, 204: 1200}[c.code]; rss > limit {
			t.Errorf("peak RSS %d MB after 7 concurrent %d-byte bodies, want at most %d MB", rss, len(c.body), limit)
		}
	}
	var list map[string]struct{ Prefixes int }
	e.get(t, "/groups/json", &list)
	if len(list) != 7 {
		t.Errorf("%d sets loaded, want 7", len(list))
	}
}
