package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startRsyslog runs a real rsyslogd in the foreground, receiving UDP syslog
// on 127.0.0.1:port into a file, and returns the file.
func startRsyslog(t *testing.T, port int) string {
	t.Helper()
	need(t, "rsyslogd")
	dir := t.TempDir()
	out := filepath.Join(dir, "messages.log")
	conf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory="%s")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d" ruleset="flowrt")
template(name="raw" type="string" string="%%syslogtag%% %%msg%%\n")
ruleset(name="flowrt") { action(type="omfile" file="%s" template="raw") }
`, dir, port, out)), 0o644)
	cmd := exec.Command("rsyslogd", "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	if b, err := exec.Command("rsyslogd", "-N1", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslog configuration: %v\n%s", err, b)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(300 * time.Millisecond)
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
		b, _ := os.ReadFile(log)
		got = string(b)
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
		b, _ := os.ReadFile(log)
		got = string(b)
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
	srv := exec.Command(in[0], append(in[1:], "python3", "-m", "http.server", "8888", "--bind", "127.0.0.1", "--directory", web)...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	// rsyslog on 10.0.0.1:514 inside the namespace.
	rs := t.TempDir()
	log := filepath.Join(rs, "messages.log")
	conf := filepath.Join(rs, "rsyslog.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory="%s")
module(load="imudp")
input(type="imudp" address="10.0.0.1" port="514" ruleset="flowrt")
template(name="raw" type="string" string="%%msg%%\n")
ruleset(name="flowrt") { action(type="omfile" file="%s" template="raw") }
`, rs, log)), 0o644)
	syslogd := exec.Command(in[0], append(in[1:], "rsyslogd", "-n", "-f", conf, "-i", filepath.Join(rs, "pid"))...)
	if err := syslogd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syslogd.Process.Kill(); syslogd.Wait() })
	time.Sleep(500 * time.Millisecond)

	e := startEngineWith(t, launch{prefix: in, env: []string{"HTTP_PROXY=http://127.0.0.1:8888", "http_proxy=http://127.0.0.1:8888"}},
		"-Dscript.file="+examples("phish", "phish.js"))
	sender := exec.Command(in[0], append(in[1:], flowrt, "send", "-to", e.sflow, "-agents", "1", "-flows", "8", "-mix", "dns,udp",
		"-rate", "200", "-duration", "2s")...)
	if out, err := sender.CombinedOutput(); err != nil {
		t.Fatalf("flowrt send: %v %s", err, out)
	}
	var got string
	waitFor(t, 5*time.Second, "phishing reports at rsyslog", func() bool {
		b, _ := os.ReadFile(log)
		got = string(b)
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
