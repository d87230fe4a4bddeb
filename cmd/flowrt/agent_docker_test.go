package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/agent"
)

// dockerAPI is a Docker Engine API socket standing in for the daemon: no
// container engine can run containers in this sandbox (podman stops at
// setrlimit, see docs/install.md), so the test answers the two calls the
// agent makes — GET /containers/json and the GET /events stream — as
// Docker documents them, and sends the events it is told to.
type dockerAPI struct {
	sock   string
	mu     chan struct{}
	names  map[string]string
	events chan string
}

func startDockerAPI(t *testing.T) *dockerAPI {
	t.Helper()
	d := &dockerAPI{sock: filepath.Join(t.TempDir(), "docker.sock"), names: map[string]string{}, events: make(chan string, 8),
		mu: make(chan struct{}, 1)}
	ln, err := net.Listen("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containers/json", func(w http.ResponseWriter, r *http.Request) {
		d.mu <- struct{}{}
		var list []map[string]any
		for id, name := range d.names {
			list = append(list, map[string]any{"Id": id, "Names": []string{"/" + name}})
		}
		<-d.mu
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		var f map[string][]string
		if json.Unmarshal([]byte(r.URL.Query().Get("filters")), &f) != nil || strings.Join(f["type"], ",") != "container" {
			http.Error(w, "filters: want type container", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case ev := <-d.events:
				fmt.Fprintln(w, ev)
				w.(http.Flusher).Flush()
			}
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return d
}

// event records a container starting or dying and streams the event.
func (d *dockerAPI) event(action, id, name string) {
	d.mu <- struct{}{}
	if action == "start" {
		d.names[id] = name
	} else {
		delete(d.names, id)
	}
	<-d.mu
	b, _ := json.Marshal(map[string]any{"Type": "container", "Action": action, "time": time.Now().Unix(),
		"Actor": map[string]any{"ID": id, "Attributes": map[string]string{"name": name, "image": "nginx"}}})
	d.events <- string(b)
}

// TestAgentDockerEvents: with the Engine API's socket (DOCKER_HOST), a
// container that starts is reported, under the name Docker gave it, as soon
// as its start event arrives — long before the next polling interval (60 s
// here) — and one started before the agent is named from the list.
func TestAgentDockerEvents(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a cgroup")
	}
	root, ok := agent.CgroupRoot()
	if !ok {
		t.Skip("no cgroup v2 hierarchy here")
	}
	t.Log("no container engine runs containers here: a Docker Engine API socket stands in for the daemon")
	api := startDockerAPI(t)
	parent := filepath.Join(root, "flowrt-docker-test")
	container := func(id string) {
		cg := filepath.Join(parent, "docker-"+id+".scope")
		if err := os.MkdirAll(cg, 0o755); err != nil {
			t.Skipf("cannot make a cgroup: %v", err)
		}
		p := exec.Command("sleep", "60")
		p.Start()
		t.Cleanup(func() {
			p.Process.Kill()
			p.Wait()
			time.Sleep(50 * time.Millisecond)
			os.Remove(cg)
			os.Remove(parent)
		})
		os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(p.Process.Pid)), 0o644)
	}
	early, late := strings.Repeat("e0", 32), strings.Repeat("1a", 32)
	container(early)
	api.event("start", early, "db-1")

	e := startEngine(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	ag := startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=%s udpport=%s }\n  polling=60\n  agentIP=10.250.0.11\n  docker { }\n}\n",
		host, port), "DOCKER_HOST=unix://"+api.sock)
	names := func() map[string]string {
		var dump []struct {
			DataSource  string
			MetricValue any
		}
		out := map[string]string{}
		if code, body := e.do(t, "GET", "/dump/10.250.0.11/host_name/json", ""); code == 200 {
			json.Unmarshal([]byte(body), &dump)
		}
		for _, d := range dump {
			out[fmt.Sprint(d.MetricValue)] = d.DataSource
		}
		return out
	}
	waitFor(t, 10*time.Second, "the container started before the agent, by its Docker name", func() bool {
		_, ok := names()["db-1"]
		return ok
	})
	time.Sleep(500 * time.Millisecond)
	container(late)
	started := time.Now()
	api.event("start", late, "web-1")
	waitFor(t, 5*time.Second, "the container that started, at once", func() bool {
		_, ok := names()["web-1"]
		return ok
	})
	t.Logf("web-1 reported %v after its start event (polling interval 60 s)", time.Since(started).Round(time.Millisecond))
	if !strings.Contains(ag.logText(), "following Docker's events") {
		t.Errorf("the agent did not say it follows Docker's events:\n%s", ag.logText())
	}
}
