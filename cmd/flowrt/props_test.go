package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProperties(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "sflow-rt.conf")
	os.WriteFile(conf, []byte("# comment\nhttp.port=9000\nflow.max = 500\nmy.app.key=x\n"), 0o644)
	p, _, rest, err := parseProperties([]string{"-Dhttp.port=8080", "-sflow.port", "6344", "--http.readonly=yes",
		"-Dsystem.propertyFiles=" + conf, "extra"}, "-Dsflow.file=a.pcap -Dflow.max=7")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"http.port": "8080", "sflow.port": "6344", "http.readonly": "yes",
		"sflow.file": "a.pcap", "flow.max": "7", "my.app.key": "x", "agent.timeout": "300"} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Errorf("rest %v", rest)
	}
	if u := p.unknown(); len(u) != 1 || u[0] != "my.app.key=x" {
		t.Errorf("unknown %v", u)
	}
	if _, _, _, err := parseProperties([]string{"-Dnovalue"}, ""); err == nil || !strings.Contains(err.Error(), "-Dname=value") {
		t.Errorf("bad property: %v", err)
	}
	os.WriteFile(conf, []byte("http.port\n"), 0o644)
	if _, _, _, err := parseProperties([]string{"-Dsystem.propertyFiles=" + conf}, ""); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := p.int("my.app.key"); err == nil {
		t.Error("int of x")
	}
}

// TestPropertyChecks: every property flowrt reads has its range checked,
// and the defaults pass.
func TestPropertyChecks(t *testing.T) {
	p, jvm, _, err := parseProperties([]string{"-Xmx2000m", "-server", "-Djava.awt.headless"}, "-XX:+UseG1GC")
	if err != nil || p.check() != nil {
		t.Fatalf("defaults: %v %v", err, p.check())
	}
	if strings.Join(jvm, " ") != "-XX:+UseG1GC -Xmx2000m -server" {
		t.Errorf("JVM options %q", jvm)
	}
	for _, c := range []struct{ name, value, want string }{
		{"flow.max", "-5", "1 or more"},
		{"flow.max", "ten", "is not an integer"},
		{"events.max", "2000000", "1 to 1000000"},
		{"sflow.sockets", "-1", "0 to 1024"},
		{"sflow.rcvbuf", "0", "1 to 2147483647 bytes"},
		{"http.port", "65536", "0 to 65535"},
		{"datasource.timeout", "NaN", "not a number of seconds"},
		{"agent.timeout", "1e12", "at most 31622400 seconds"},
		{"script.timeout", "0", "more than 0"},
		{"sflow.file.realtime", "fast", "must be yes or no"},
		{"log.level", "verbose", "is not a log level"},
		{"prometheus.metric.prefix", "", "is empty"},
		{"prometheus.metric.prefix", "sflow-", "not a Prometheus name prefix"},
		{"agents.max", "0", "1 to 100000000 agents"},
		{"agent.datasources.max", "200000000", "1 to 100000000 data sources"},
		{"datasources.max", "-1", "1 to 100000000 data sources"},
		{"flow.definitions.max", "0", "1 to 100000 definitions"},
		{"thresholds.max", "many", "is not an integer"},
		{"forwarding.sessions.max", "10001", "1 to 10000 sessions"},
		{"groups.max", "0", "1 to 100000 group sets"},
		{"maps.max", "0", "1 to 100000 maps"},
	} {
		q := maps.Clone(p)
		q[c.name] = c.value
		if err := q.check(); err == nil || !strings.Contains(err.Error(), c.name+"=") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want %q", c.name, c.value, err, c.want)
		}
	}
	for name, want := range map[string]string{"sflow.prot": "sflow.port", "flow.maxx": "flow.max", "agent.timout": "agent.timeout",
		"http.readOnly": "http.readonly", "sflow.hostnme": "sflow.hostname"} {
		if got, d := nearestProperty(name); got != want || d > 2 {
			t.Errorf("nearest to %s: %s (%d), want %s", name, got, d, want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance(kitten, sitting) = %d", d)
	}
}

// TestConfDirAndRcvPktsBuffer: conf.d's *.conf files are read in name
// order (a later one wins, arguments win over both, system.propertyFiles
// over conf.d), other files there are not; sflow.rcvpktsbuffer sets the
// receive buffer unless sflow.rcvbuf is given too.
func TestConfDirAndRcvPktsBuffer(t *testing.T) {
	dir := t.TempDir()
	confd := filepath.Join(dir, "conf.d")
	os.MkdirAll(confd, 0o755)
	extra := filepath.Join(dir, "extra.properties")
	os.WriteFile(filepath.Join(confd, "sflow-rt.conf"), []byte("http.port=9000\nflow.max=11\nsflow.rcvpktsbuffer=2048000\nsystem.propertyFiles="+extra+"\n"), 0o644)
	os.WriteFile(filepath.Join(confd, "zz-app.conf"), []byte("flow.max=22\nddos_protect.threshold=5\n"), 0o644)
	os.WriteFile(filepath.Join(confd, "notes.txt"), []byte("this is not name=value"), 0o644)
	os.WriteFile(extra, []byte("events.max=33\nflow.max=44\n"), 0o644)
	p, _, _, err := parseProperties([]string{"-Dconf.dir=" + confd, "-Dhttp.port=8080"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"http.port": "8080", "flow.max": "44", "events.max": "33",
		"ddos_protect.threshold": "5", "sflow.rcvbuf": "2048000"} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	if p, _, _, _ := parseProperties([]string{"-Dconf.dir=" + confd, "-Dsflow.rcvbuf=4096"}, ""); p["sflow.rcvbuf"] != "4096" {
		t.Errorf("sflow.rcvbuf given too: %q, want 4096 (it wins)", p["sflow.rcvbuf"])
	}
	if p, _, _, _ := parseProperties([]string{"-Dconf.dir=" + filepath.Join(dir, "none")}, ""); p["sflow.rcvbuf"] != "8388608" {
		t.Errorf("no conf.d: sflow.rcvbuf %q", p["sflow.rcvbuf"])
	}
	os.WriteFile(filepath.Join(confd, "bad.conf"), []byte("novalue\n"), 0o644)
	if _, _, _, err := parseProperties([]string{"-Dconf.dir=" + confd}, ""); err == nil || !strings.Contains(err.Error(), "bad.conf:1:") {
		t.Errorf("a bad conf.d file: %v", err)
	}
}
