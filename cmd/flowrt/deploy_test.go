package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDeployFiles checks deploy/: the systemd units pass systemd-analyze
// verify (with ExecStart pointing at the flowrt under test), and the
// DaemonSet's container environment (COLLECTOR, NET=host, no file) starts
// an agent whose host counters reach a collector.
func TestDeployFiles(t *testing.T) {
	deploy := filepath.Join(examples(), "..", "deploy")
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		dir := t.TempDir()
		for _, unit := range []string{"flowrt.service", "flowrt-agent.service"} {
			b, err := os.ReadFile(filepath.Join(deploy, unit))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(b), "/usr/local/bin/flowrt", flowrt)
			os.WriteFile(filepath.Join(dir, unit), []byte(text), 0o644)
			out, err := exec.Command("systemd-analyze", "verify", filepath.Join(dir, unit)).CombinedOutput()
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, unit) {
					t.Errorf("systemd-analyze verify %s: %s", unit, l)
				}
			}
			_ = err // it also reports unrelated units installed on the machine
		}
	}
	need(t, "python3")
	out, err := exec.Command("python3", "-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
		filepath.Join(deploy, "host-sflow-daemonset.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("reading the DaemonSet: %v %s", err, out)
	}
	var ds struct {
		Kind string
		Spec struct {
			Template struct {
				Spec struct {
					HostNetwork bool
					Containers  []struct {
						Args []string
						Env  []struct{ Name, Value string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatal(err)
	}
	pod := ds.Spec.Template.Spec
	if ds.Kind != "DaemonSet" || !pod.HostNetwork || len(pod.Containers) != 1 || strings.Join(pod.Containers[0].Args, " ") != "agent" {
		t.Fatalf("DaemonSet %+v", ds)
	}
	d := startDecoder(t)
	var env []string
	for _, e := range pod.Containers[0].Env {
		v := e.Value
		if e.Name == "COLLECTOR" {
			v = fmt.Sprintf("127.0.0.1:%d", d.port) // the article's 10.0.0.70, here
		}
		env = append(env, e.Name+"="+v)
	}
	if _, err := os.Stat("/etc/hsflowd.conf"); err == nil {
		t.Skip("/etc/hsflowd.conf exists here: the image's environment-only start cannot be shown")
	}
	a := exec.Command(flowrt, "agent") // as the image runs it: no file, the environment
	a.Env = append(append(os.Environ(), env...), "POLLING=1")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	a.Stderr = logf
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Process.Signal(interrupt); a.Wait() })
	waitFor(t, 10*time.Second, "host counters from the DaemonSet's agent", func() bool { return len(d.values("mem_total")) > 0 })
	b, _ := os.ReadFile(logf.Name())
	t.Logf("agent with %v: %s", env, strings.SplitN(string(b), "\n", 2)[0])
}
