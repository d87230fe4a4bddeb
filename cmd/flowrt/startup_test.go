package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupSaysWhatItIgnores: a typo'd property, an sFlow-RT property
// with no flowrt equivalent and the JVM options of sFlow-RT's start.sh line
// (the Blacklists article's "-Xmx2000m -Dscript.file=phish.js") start the
// engine, each with one line that says so.
func TestStartupSaysWhatItIgnores(t *testing.T) {
	e := startEngineWith(t, launch{env: []string{"RTPROP=-Xms2000m -Dhttp.readonly=yes"}},
		"-Dsflow.prot=6360", "-Xmx2000m", "-XX:+UseG1GC", "-Djava.net.preferIPv4Stack=true", "-Djava.awt.headless", "-Dworkers.number=4",
		"-Dddos_protect.router=10.0.0.1")
	log := e.log.String()
	for _, want := range []string{
		`unknown property: did you mean sflow.port?`,
		`property="ddos_protect.router=10.0.0.1"`,
		`property="workers.number=4" why="flowrt reads with -Dsflow.sockets goroutines`,
		`flowrt has no JVM heap to size`,
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("start-up log has %q %d times, want once:\n%s", want, strings.Count(log, want), log)
		}
	}
	if !strings.Contains(log, `options="-Xms2000m -Xmx2000m -XX:+UseG1GC -Djava.awt.headless= -Djava.net.preferIPv4Stack=true"`) {
		t.Errorf("the JVM options are not listed:\n%s", log)
	}
	if code, _ := e.do(t, "PUT", "/flow/x/json", "{value:'frames'}"); code != 403 {
		t.Errorf("RTPROP's -Dhttp.readonly=yes beside a JVM option: PUT answered %d", code)
	}
}

// TestStartupRefusesBadValues: a value out of range stops start-up with
// the allowed range, one line per property, before anything listens; a
// capture that is missing or not a capture likewise (not after "listening"
// and "replay finished").
func TestStartupRefusesBadValues(t *testing.T) {
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notCapture, []byte("not a capture\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"-Dflow.max=-5"}, 2, []string{`flowrt: property flow.max="-5" is out of range: 1 or more flows`}},
		{[]string{"-Dflows.max=0", "-Dsflow.port=70000"}, 2, []string{`flowrt: property sflow.port="70000" is out of range: 0 to 65535`,
			`flowrt: property flows.max="0" is out of range: 1 to 1000000 records`}},
		{[]string{"-Dagent.timeout=-1"}, 2, []string{`flowrt: property agent.timeout="-1" is out of range: more than 0`}},
		{[]string{"-Dhttp.readonly=maybe"}, 2, []string{`flowrt: property http.readonly="maybe" must be yes or no`}},
		{[]string{"-Dsflow.file=missing.pcap"}, 1, []string{`flowrt: sflow.file: open missing.pcap: no such file or directory`}},
		{[]string{"-Dsflow.file=" + notCapture}, 1, []string{`not a pcap or pcapng file`}},
	} {
		cmd := exec.Command(flowrt, append([]string{"-Dstate.dir=none", "-Dhttp.hostname=127.0.0.1", "-Dhttp.port=0",
			"-Dsflow.hostname=127.0.0.1", "-Dsflow.port=0"}, c.args...)...)
		out, err := cmd.CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != c.code || len(lines) != len(c.want) {
			t.Errorf("%v: exit %v, %d lines, want exit %d and %d lines:\n%s", c.args, err, len(lines), c.code, len(c.want), out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: %s\nwant %q", c.args, out, w)
			}
		}
		if strings.Contains(string(out), "listening") {
			t.Errorf("%v: something listened before the error:\n%s", c.args, out)
		}
	}
}
