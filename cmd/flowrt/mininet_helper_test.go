package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMininetHelperWithoutEngine: extras/sflow.py loaded with no engine
// listening for the topology still enables sFlow as configured (the row
// Open vSwitch holds for s1: agent, target, sampling, polling), says that
// the topology was not sent and why, and leaves Mininet running (its CLI
// answers).
func TestMininetHelperWithoutEngine(t *testing.T) {
	rest := freePort(t, "tcp") // nothing listens there
	lab := startMininet(t, []string{"COLLECTOR=127.0.0.1", "SFLOW_PORT=16399", fmt.Sprintf("REST_PORT=%d", rest),
		"SAMPLING=64", "POLLING=7"},
		"--custom", extrasFile("sflow.py"), "--switch", "ovs,datapath=user", "--controller", "none", "--topo", "single,2")
	want := fmt.Sprintf("topology not sent: PUT http://127.0.0.1:%d/topology/json:", rest)
	if out := lab.out.String(); !strings.Contains(out, want) || !strings.Contains(out, "is flowrt running there?") {
		t.Errorf("mn output lacks %q … (is flowrt running there?):\n%s", want, out)
	}
	row, err := lab.command("ovs-vsctl", "--columns=agent,targets,sampling,polling,header", "list", "sflow").CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-vsctl list sflow: %v\n%s", err, row)
	}
	for _, w := range []string{`agent               : "127.0.0.1"`, `targets             : ["127.0.0.1:16399"]`,
		"sampling            : 64", "polling             : 7", "header              : 128"} {
		if !strings.Contains(string(row), w) {
			t.Errorf("s1's sFlow row lacks %q:\n%s", w, row)
		}
	}
	if got, _ := lab.command("ovs-vsctl", "get", "bridge", "s1", "sflow").Output(); len(strings.TrimSpace(string(got))) != 36 {
		t.Errorf("s1's sflow column is %q, not the row's UUID", got)
	}
	if out := lab.cli("py 'nodes=%d' % len(net.hosts + net.switches)", 10*time.Second); !strings.Contains(out, "nodes=3") {
		t.Errorf("the CLI after the failed PUT: %q", out)
	}
}

// TestMininetHelperRefusesBadSettings: a setting that is not a number in
// range is named, nothing is configured, and Mininet runs on.
func TestMininetHelperRefusesBadSettings(t *testing.T) {
	lab := startMininet(t, []string{"SAMPLING=0"},
		"--custom", extrasFile("sflow.py"), "--switch", "ovs,datapath=user", "--controller", "none", "--topo", "single,2")
	if out := lab.out.String(); !strings.Contains(out, "SAMPLING='0': want a whole number from 1 to 4294967295; sFlow is not enabled") {
		t.Errorf("mn output does not name the bad setting:\n%s", out)
	}
	if got, _ := lab.command("ovs-vsctl", "get", "bridge", "s1", "sflow").Output(); strings.TrimSpace(string(got)) != "[]" {
		t.Errorf("s1's sflow column is %q after a refused setting", got)
	}
	if out := lab.cli("py 'nodes=%d' % len(net.hosts + net.switches)", 10*time.Second); !strings.Contains(out, "nodes=3") {
		t.Errorf("the CLI after the refused setting: %q", out)
	}
}
