package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rsyslog is a real rsyslogd receiving UDP syslog. It writes each message
// twice: to log as "TAG MSG" lines (what a syslog file shows), and to parsed
// as one JSON object a line with the fields rsyslog's own RFC 5424 parser
// found (mmpstrucdata for the structured data).
type rsyslog struct{ log, parsed string }

// rsyslogMessage is a line of the parsed file.
type rsyslogMessage struct {
	Raw, Pri, Timestamp, Hostname, App, ProcID, MsgID, SD, Msg string
	Fields                                                     struct {
		SD map[string]map[string]string `json:"rfc5424-sd"`
	}
}

// startRsyslog runs rsyslogd in the foreground on 127.0.0.1:port.
func startRsyslog(t *testing.T, port int) *rsyslog {
	t.Helper()
	return startRsyslogAt(t, nil, "127.0.0.1", port)
}

// startRsyslogAt runs rsyslogd through prefix (e.g. "ip netns exec ns"),
// listening on addr:port.
func startRsyslogAt(t *testing.T, prefix []string, addr string, port int) *rsyslog {
	t.Helper()
	need(t, "rsyslogd")
	dir := t.TempDir()
	r := &rsyslog{log: filepath.Join(dir, "messages.log"), parsed: filepath.Join(dir, "parsed.json")}
	conf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory="%s")
module(load="imudp")
module(load="mmpstrucdata")
input(type="imudp" address="%s" port="%d" ruleset="flowrt")
template(name="raw" type="string" string="%%syslogtag%% %%msg%%\n")
template(name="parsed" type="string" string="{\"raw\":\"%%rawmsg:::json%%\",\"pri\":\"%%pri%%\",\"timestamp\":\"%%timereported:::date-rfc3339,json%%\",\"hostname\":\"%%hostname:::json%%\",\"app\":\"%%app-name:::json%%\",\"procid\":\"%%procid:::json%%\",\"msgid\":\"%%msgid:::json%%\",\"sd\":\"%%structured-data:::json%%\",\"msg\":\"%%msg:::json%%\",\"fields\":%%$!%%}\n")
ruleset(name="flowrt") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="%s" template="raw")
  action(type="omfile" file="%s" template="parsed")
}
`, dir, addr, port, r.log, r.parsed)), 0o644)
	if b, err := exec.Command("rsyslogd", "-N1", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslog configuration: %v\n%s", err, b)
	}
	argv := append(append([]string{}, prefix...), "rsyslogd", "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(500 * time.Millisecond)
	return r
}

// text is what the log file holds so far.
func (r *rsyslog) text() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

// messages are the messages rsyslog parsed so far.
func (r *rsyslog) messages(t *testing.T) []rsyslogMessage {
	t.Helper()
	b, _ := os.ReadFile(r.parsed)
	var out []rsyslogMessage
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m rsyslogMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("rsyslog wrote %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSyslogScriptToRsyslog runs the article's syslog.js: ICMP port
// unreachable traffic makes it send one RFC 5424 message per new flow to a
// real rsyslog on 127.0.0.1:514, with the three keys.
func TestSyslogScriptToRsyslog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("rsyslog must listen on port 514, as syslog.js sends there: needs root")
	}
	log := startRsyslog(t, 514)
	e := startEngine(t, "-Dscript.file="+examples("syslog", "syslog.js"))
	send(t, e.sflow, "-agents", "1", "-flows", "8", "-mix", "unreachable", "-rate", "200", "-duration", "1s")
	var got string
	waitFor(t, 5*time.Second, "syslog messages at rsyslog", func() bool {
		got = log.text()
		return strings.Count(got, "icmpunreachableport=udp_3000") >= 2
	})
	line := strings.SplitN(got, "\n", 2)[0]
	for _, want := range []string{"flowrt", "ipsource=192.168.0.", "ipdestination=10.0.0.", "icmpunreachableport=udp_3000"} {
		if !strings.Contains(line, want) {
			t.Errorf("syslog line %q lacks %s", line, want)
		}
	}
	t.Logf("rsyslog received %d messages, e.g. %s", strings.Count(got, "\n"), line)
}

// TestSyslogRFC5424AtRsyslog sends 1,200 messages from a script's syslog()
// calls to a real rsyslog and checks every one as rsyslog's RFC 5424 parser
// read it: the timestamp (microseconds, as sent: rsyslog mangled the nine
// digits flowrt once wrote), the header fields, each structured-data value
// (quotes, backslashes, brackets and UTF-8 included), the key=value text,
// and the sequence numbers (none lost, none twice).
func TestSyslogRFC5424AtRsyslog(t *testing.T) {
	const total = 1200
	port := freePort(t, "udp")
	rs := startRsyslog(t, port)
	script := filepath.Join(t.TempDir(), "burst.js")
	os.WriteFile(script, []byte(fmt.Sprintf(`var sent = 0;
function fields(i) {
  return {seq: i, text: 'event ' + i + ': quote " backslash \\ bracket ] equals = end',
    utf8: 'caf\u00e9 \u4e2d', neg: -i, frac: i / 8, flag: i %% 2 == 0, nested: {a: [1, 'x']}, empty: ''};
}
// 50 messages every 50 ms: 1,000 a second, well within what rsyslog reads
// from its socket.
setIntervalHandler(function() {
  for (var n = 0; n < 50 && sent < %d; n++) { syslog('127.0.0.1', %d, 16, 5, fields(sent)); sent++; }
}, 0.05);
setHttpHandler(function() { return {sent: sent}; });
`, total, port)), 0o644)
	start := time.Now().Add(-time.Second)
	e := startEngine(t, "-Dscript.file="+script)
	var msgs []rsyslogMessage
	waitFor(t, 20*time.Second, fmt.Sprintf("%d messages at rsyslog", total), func() bool {
		var st struct{ Sent int }
		e.get(t, "/script/burst.js/json", &st)
		if st.Sent < total {
			return false
		}
		msgs = rs.messages(t)
		return len(msgs) >= total
	})
	end := time.Now().Add(time.Second)
	hostname, _ := os.Hostname()
	pid := strconv.Itoa(e.cmd.Process.Pid)
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	seen := map[int]bool{}
	intact, last := 0, time.Time{}
	for _, m := range msgs {
		sd := m.Fields.SD["flowrt@32473"]
		i, err := strconv.Atoi(sd["seq"])
		if err != nil {
			t.Fatalf("message without its seq field: %+v", m)
		}
		ok := true
		bad := func(format string, args ...any) {
			ok = false
			t.Errorf("message %d: "+format+"\nraw: %s", append(append([]any{i}, args...), m.Raw)...)
		}
		// The timestamp rsyslog parsed is the one sent, in the header.
		sent := strings.Fields(m.Raw)[1]
		ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
		switch {
		case m.Timestamp != sent || !stamp.MatchString(m.Timestamp):
			bad("timestamp %q at rsyslog, %q sent", m.Timestamp, sent)
		case err != nil || ts.Before(start) || ts.After(end):
			bad("timestamp %s outside the test's %s…%s (%v)", m.Timestamp, start.UTC(), end.UTC(), err)
		case ts.Before(last):
			bad("timestamp %s before the previous message's %s", ts, last)
		}
		last = ts
		if m.Pri != "133" || m.Hostname != hostname || m.App != "flowrt" || m.ProcID != pid || m.MsgID != "-" {
			bad("header pri %s host %s app %s procid %s msgid %s, want 133 %s flowrt %s -", m.Pri, m.Hostname, m.App, m.ProcID, m.MsgID, hostname, pid)
		}
		frac := strconv.FormatFloat(float64(i)/8, 'f', -1, 64)
		text := fmt.Sprintf(`event %d: quote " backslash \ bracket ] equals = end`, i)
		neg := strconv.Itoa(-i)
		flag := strconv.FormatBool(i%2 == 0)
		want := map[string]string{"seq": strconv.Itoa(i), "text": text, "utf8": "café 中", "neg": neg, "frac": frac,
			"flag": flag, "nested": `{"a":[1,"x"]}`, "empty": ""}
		if !maps.Equal(sd, want) {
			bad("structured data %q, want %q", sd, want)
		}
		wantMsg := "\uFEFF" + fmt.Sprintf(`seq=%d text=%q utf8="café 中" neg=%s frac=%s flag=%s nested="{\"a\":[1,\"x\"]}" empty=""`,
			i, text, neg, frac, flag)
		if m.Msg != wantMsg {
			bad("MSG %q, want %q", m.Msg, wantMsg)
		}
		seq, err := strconv.Atoi(m.Fields.SD["meta"]["sequenceId"])
		if err != nil || seen[seq] {
			bad("sequenceId %q: missing or repeated", m.Fields.SD["meta"]["sequenceId"])
		}
		seen[seq] = true
		if ok {
			intact++
		}
	}
	if len(msgs) != total || len(seen) != total {
		t.Errorf("rsyslog received %d messages with %d sequence numbers, %d sent", len(msgs), len(seen), total)
	}
	t.Logf("%d of %d messages intact at rsyslog, e.g. %s", intact, total, msgs[0].Raw)
}

// startCarbon runs a real carbon-cache (Debian graphite-carbon) with its
// plaintext receiver on 127.0.0.1:2003 and returns its whisper directory.
func startCarbon(t *testing.T) string {
	t.Helper()
	need(t, "carbon-cache", "whisper-fetch")
	dir := t.TempDir()
	for _, d := range []string{"conf", "storage/whisper", "log", "run"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	conf := filepath.Join(dir, "conf", "carbon.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/storage/
LOCAL_DATA_DIR = %[1]s/storage/whisper/
CONF_DIR = %[1]s/conf/
LOG_DIR = %[1]s/log/
PID_DIR = %[1]s/run/
DATABASE = whisper
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = 2003
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = 2004
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = 7002
ENABLE_UDP_LISTENER = False
WHISPER_AUTOFLUSH = True
ENABLE_TAGS = False
`, dir)), 0o644)
	os.WriteFile(filepath.Join(dir, "conf", "storage-schemas.conf"),
		[]byte("[default]\npattern = .*\nretentions = 10s:1d\n"), 0o644)
	cmd := exec.Command("carbon-cache", "--config="+conf, "--pidfile="+filepath.Join(dir, "run", "carbon.pid"), "--nodaemon", "start")
	logf, _ := os.Create(filepath.Join(dir, "log", "console.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("carbon-cache log:\n%s", b)
		}
	})
	waitFor(t, 15*time.Second, "carbon-cache listening on 127.0.0.1:2003", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:2003")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return filepath.Join(dir, "storage", "whisper")
}

// TestGraphiteScriptToCarbon runs the article's graphite.js: every 15 s it
// sends sum:load_one over the Linux hosts to a real carbon-cache, which
// stores linux.sum:load_one; /script/graphite.js/json reports it sent.
func TestGraphiteScriptToCarbon(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	whisper := startCarbon(t)
	e := startEngine(t, "-Dscript.file="+examples("graphite", "graphite.js"))
	// Three Linux hosts with load_one 0.25, 0.5 and 0.75: sum 1.5.
	sender := exec.Command(flowrt, "send", "-to", e.sflow, "-agents", "3", "-hosts", "-counters", "2s", "-rate", "50", "-duration", "20s")
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sender.Process.Kill(); sender.Wait() }()
	wsp := filepath.Join(whisper, "linux", "sum:load_one.wsp")
	waitFor(t, 25*time.Second, "linux.sum:load_one stored by carbon", func() bool {
		_, err := os.Stat(wsp)
		return err == nil
	})
	var out []byte
	waitFor(t, 10*time.Second, "a value in the whisper file", func() bool {
		out, _ = exec.Command("whisper-fetch", fmt.Sprintf("--from=%d", time.Now().Unix()-300), wsp).Output()
		return strings.Contains(string(out), "1.500000")
	})
	var st struct{ Errors, Sent int }
	e.get(t, "/script/graphite.js/json", &st)
	if st.Sent < 1 || st.Errors != 0 {
		t.Errorf("graphite.js reports %+v", st)
	}
}

// TestUnreachableScriptToRsyslog runs the ICMP unreachable article's script:
// each new unreachable flow is one syslog message at a real rsyslog, typed
// by kind, with the host and the target.
func TestUnreachableScriptToRsyslog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("rsyslog must listen on port 514: needs root")
	}
	log := startRsyslog(t, 514)
	e := startEngine(t, "-Dscript.file="+examples("icmp-unreachable", "unreachable.js"))
	send(t, e.sflow, "-agents", "1", "-flows", "8", "-mix", "unreachable", "-rate", "200", "-duration", "1s")
	var got string
	waitFor(t, 5*time.Second, "four syslog messages", func() bool {
		got = log.text()
		return strings.Count(got, "type=ports") >= 2
	})
	if !strings.Contains(got, "host=10.0.0.") || !strings.Contains(got, "target=udp_3000") {
		t.Errorf("messages:\n%s", got)
	}
}

// TestLogglyScriptPostsEvents runs loggly.js against a local HTTP endpoint
// (loggly.url): each new ICMP unreachable flow is one JSON event POSTed
// with the keys.
func TestLogglyScriptPostsEvents(t *testing.T) {
	var mu sync.Mutex
	var events []map[string]string
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]string
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		events = append(events, ev)
		paths = append(paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		mu.Unlock()
	}))
	defer srv.Close()
	e := startEngine(t, "-Dscript.file="+examples("loggly", "loggly.js"), "-Dloggly.url="+srv.URL+"/inputs/")
	send(t, e.sflow, "-agents", "1", "-flows", "8", "-mix", "unreachable", "-rate", "200", "-duration", "1s")
	waitFor(t, 5*time.Second, "events at the endpoint", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	if ev := events[0]; ev["type"] != "icmpunreachableport" || !strings.HasPrefix(ev["unreachable"], "udp_3000") ||
		ev["macsource"] == "" || !strings.HasPrefix(ev["ipdestination"], "10.0.0.") {
		t.Errorf("event %v", ev)
	}
	if !strings.HasPrefix(paths[0], "POST /inputs/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/tag/http/ application/json") {
		t.Errorf("request %s", paths[0])
	}
}

// TestPhishScriptInNamespace runs the Blacklists article's phish.js
// unmodified. It reports to a SIEM at 10.0.0.1 and downloads PhishTank's
// list from data.phishtank.com, so it runs in a network namespace the test
// makes: 10.0.0.1 is the namespace's own address, where a real rsyslog
// listens, and the download goes through HTTP_PROXY to a local web server
// holding a small list. Traffic to a listed network and DNS queries for
// listed domains each produce syslog messages naming the victim.
func TestPhishScriptInNamespace(t *testing.T) {
	need(t, "ip", "python3", "rsyslogd")
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	ns := "frtphish"
	exec.Command("ip", "netns", "del", ns).Run()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	in := []string{"ip", "netns", "exec", ns}
	run := func(args ...string) {
		if out, err := exec.Command(in[0], append(in[1:], args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	run("ip", "link", "set", "lo", "up")
	run("ip", "addr", "add", "10.0.0.1/32", "dev", "lo")

	// The list: two phishing sites, one on the network the synthetic
	// destinations are on, and domains the synthetic DNS queries ask for.
	web := t.TempDir()
	// python's http.server, asked as a proxy, maps the absolute URL
	// http://data.phishtank.com/data/… to http:/data.phishtank.com/data/….
	data := filepath.Join(web, "http:", "data.phishtank.com", "data")
	os.MkdirAll(data, 0o755)
	list := `[{"phish_id":"1001","url":"http://host1.example1.com/login","target":"Bank",
	  "details":[{"ip_address":"192.168.0.2","cidr_block":"192.168.0.0/24"}]},
	 {"phish_id":"1002","url":"http://host2.example2.com/pay","target":"Shop","details":[]}]`
	os.WriteFile(filepath.Join(data, "online-valid.json"), []byte(list), 0o644)
	srv := exec.Command(in[0], append(in[1:], "python3", "-u", "-m", "http.server", "8888", "--bind", "127.0.0.1", "--directory", web)...)
	srvOut, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	// The script fetches the list as it starts: the proxy must be listening
	// first ("Serving HTTP on …" is printed once it is).
	serving := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(srvOut)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Serving HTTP") {
				serving <- true
			}
		}
	}()
	select {
	case <-serving:
	case <-time.After(10 * time.Second):
		t.Fatal("python's http.server did not start serving in 10 s")
	}

	// rsyslog on 10.0.0.1:514 inside the namespace.
	log := startRsyslogAt(t, in, "10.0.0.1", 514)

	e := startEngineWith(t, launch{prefix: in, env: []string{"HTTP_PROXY=http://127.0.0.1:8888", "http_proxy=http://127.0.0.1:8888"}},
		"-Dscript.file="+examples("phish", "phish.js"))
	sender := exec.Command(in[0], append(in[1:], flowrt, "send", "-to", e.sflow, "-agents", "1", "-flows", "8", "-mix", "dns,udp",
		"-rate", "200", "-duration", "2s")...)
	if out, err := sender.CombinedOutput(); err != nil {
		t.Fatalf("flowrt send: %v %s", err, out)
	}
	var got string
	waitFor(t, 5*time.Second, "phishing reports at rsyslog", func() bool {
		got = log.text()
		return strings.Contains(got, "match=cidr") && strings.Contains(got, "match=dns")
	})
	for _, want := range []string{"type=phishing", "phish_id=1001", "victim=10.0.0."} {
		if !strings.Contains(got, want) {
			t.Errorf("reports lack %s:\n%s", want, got)
		}
	}
	if strings.Contains(e.log.String(), "script error") {
		t.Errorf("script errors:\n%s", e.log)
	}
}
