package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrt/flowrt/agent"
)

// sleeperSource is the one program of the test's container image: it waits
// for SIGTERM (podman stop), or exits at once with -exit (to try a runtime).
const sleeperSource = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-exit" {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
`

// sleeperBinary builds the static program containers run; it returns its
// directory, which has the program as /sleeper (a root file system).
func sleeperBinary(t *testing.T) string {
	t.Helper()
	dir, root := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(sleeperSource), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module sleeper\n\ngo 1.22\n"), 0o644)
	build := exec.Command("go", "build", "-o", filepath.Join(root, "sleeper"), ".")
	build.Dir, build.Env = dir, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the container's program: %v\n%s", err, out)
	}
	return root
}

// sleeperImage builds a FROM scratch image around a static Go program with
// buildah (images cannot be pulled here) and removes it at the end.
func sleeperImage(t *testing.T) string {
	t.Helper()
	need(t, "buildah")
	root := sleeperBinary(t)
	tag := fmt.Sprintf("localhost/flowrt-agent-test:%d", os.Getpid())
	ctr := cmdOutput(t, "buildah", "from", "scratch")
	defer exec.Command("buildah", "rm", ctr).Run()
	cmdOutput(t, "buildah", "copy", ctr, filepath.Join(root, "sleeper"), "/sleeper")
	cmdOutput(t, "buildah", "config", "--entrypoint", `["/sleeper"]`, ctr)
	cmdOutput(t, "buildah", "commit", "-q", ctr, tag)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", tag).Run() })
	return tag
}

// sleeperRuntime finds the podman options that run a container here
// (TestContainerImage's search, docs/install.md).
func sleeperRuntime(t *testing.T, image string) *podman {
	t.Helper()
	return podmanRuntime(t, image, []string{"-exit"}, nil)
}

// podmanService is "podman system service", Podman's Docker-compatible
// Engine API, on a socket of the test's own; it is stopped at the end.
func podmanService(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "podman.sock")
	svc := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	var log strings.Builder
	svc.Stdout, svc.Stderr = &log, &log
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Process.Signal(syscall.SIGTERM)
		svc.Wait()
		if t.Failed() {
			t.Logf("podman system service:\n%s", log.String())
		}
	})
	client := http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	waitFor(t, 20*time.Second, "podman's Docker API on "+sock, func() bool {
		resp, err := client.Get("http://d/_ping")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return sock
}

// dumpMetric is a metric of an agent's every data source, from the
// engine's /dump: data source → value.
func dumpMetric(t *testing.T, e *engine, agentIP, metric string) map[string]string {
	var d []struct {
		DataSource  string
		MetricValue any
	}
	out := map[string]string{}
	if code, body := e.do(t, "GET", "/dump/"+agentIP+"/"+metric+"/json", ""); code == 200 {
		json.Unmarshal([]byte(body), &d)
	}
	for _, m := range d {
		out[m.DataSource] = fmt.Sprint(m.MetricValue)
	}
	return out
}

// TestAgentDockerEvents runs real containers with podman and points the
// agent at Podman's Docker-compatible API (DOCKER_HOST): a container that
// was running when the agent started is named as podman names it, from the
// API's list; one started later is reported under its name as soon as its
// start event arrives, and one stopped sends its last sample with virt_cpu
// state shutdown or shutoff at once — both long before the next walk of the cgroup
// tree (the polling interval is 60 s here).
func TestAgentDockerEvents(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs containers with rootful podman: needs root")
	}
	need(t, "podman")
	if _, ok := agent.CgroupRoot(); !ok {
		t.Skip("no cgroup v2 hierarchy here")
	}
	p := sleeperRuntime(t, sleeperImage(t))
	sock := podmanService(t)
	prefix := fmt.Sprintf("flowrt-agent-test-%d-", os.Getpid())
	p.start(t, prefix+"db", p.image)

	e := startEngine(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	ag := startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=%s udpport=%s }\n  polling=60\n  agentIP=10.250.0.11\n  docker { }\n}\n",
		host, port), "DOCKER_HOST=unix://"+sock)
	dump := func(metric string) map[string]string { return dumpMetric(t, e, "10.250.0.11", metric) }
	sourceOf := func(name string) string {
		for ds, n := range dump("host_name") {
			if n == name {
				return ds
			}
		}
		return ""
	}
	// podman's own name for each container, as a user sees it.
	names := func() []string {
		return strings.Fields(cmdOutput(t, "podman", "ps", "--filter", "name="+prefix, "--format", "{{.Names}}"))
	}
	if got := names(); len(got) != 1 || got[0] != prefix+"db" {
		t.Fatalf("podman ps shows %v, want %sdb", got, prefix)
	}
	waitFor(t, 10*time.Second, "the container started before the agent, by podman's name", func() bool { return sourceOf(prefix+"db") != "" })

	started := time.Now()
	p.start(t, prefix+"web", p.image)
	waitFor(t, 5*time.Second, "the container that started, at once", func() bool { return sourceOf(prefix+"web") != "" })
	t.Logf("%sweb reported %v after podman run returned (polling interval 60 s)", prefix, time.Since(started).Round(time.Millisecond))
	web := sourceOf(prefix + "web")
	if got := dump("vir_cpu_state")[web]; got != "1" {
		t.Errorf("vir_cpu_state of the running container (%s) is %s, want 1 (running)", web, got)
	}
	if got := names(); len(got) != 2 {
		t.Errorf("podman ps shows %v, want two containers", got)
	}

	stopped := time.Now()
	if out, err := exec.Command("podman", "stop", "-t", "5", prefix+"web").CombinedOutput(); err != nil {
		t.Fatalf("podman stop: %v %s", err, out)
	}
	// Docker sends stop (hsflowd: shutoff, 5) after die (shutdown, 4);
	// Podman's service sends die alone when the stream is filtered by type.
	waitFor(t, 5*time.Second, "the stopped container's last sample", func() bool {
		st := dump("vir_cpu_state")[web]
		return st == "4" || st == "5"
	})
	t.Logf("%sweb reported vir_cpu_state %s %v after podman stop began", prefix, dump("vir_cpu_state")[web], time.Since(stopped).Round(time.Millisecond))
	if db := sourceOf(prefix + "db"); dump("vir_cpu_state")[db] != "1" {
		t.Errorf("the container still running (%s) is not reported running: %v", db, dump("vir_cpu_state"))
	}
	log := ag.logText()
	if !strings.Contains(log, "following Docker's events") {
		t.Errorf("the agent did not say it follows Docker's events:\n%s", log)
	}
}
