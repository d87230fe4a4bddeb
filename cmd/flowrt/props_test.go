package main

import (
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
