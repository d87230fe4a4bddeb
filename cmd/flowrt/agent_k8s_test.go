package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrt/flowrt/agent"
)

// containerd is a containerd of the test's own: root, state and sockets in
// a temporary directory, no CRI plugin (no kubelet here); stopped at the end.
type containerd struct {
	sock, state string
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	dir := t.TempDir()
	c := &containerd{sock: filepath.Join(dir, "containerd.sock"), state: filepath.Join(dir, "state")}
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"+
		"[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n", filepath.Join(dir, "root"), c.state, c.sock, c.sock+".ttrpc")
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(conf), 0o644)
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("containerd:\n%s", log.String())
		}
	})
	waitFor(t, 20*time.Second, "containerd on "+c.sock, func() bool { return c.ctr("version").Run() == nil })
	return c
}

func (c *containerd) ctr(args ...string) *exec.Cmd {
	return exec.Command("ctr", append([]string{"-a", c.sock, "-n", "k8s.io"}, args...)...)
}

// run starts a container on rootfs in the cgroup given, as the CRI plugin
// would (the annotations it writes), and removes it at the end.
func (c *containerd) run(t *testing.T, rootfs, id, cgroup string, flags ...string) int {
	t.Helper()
	args := append(append([]string{"run", "-d", "--rootfs", "--cgroup", cgroup}, flags...), rootfs, id, "/sleeper")
	if out, err := c.ctr(args...).CombinedOutput(); err != nil {
		t.Fatalf("ctr %v: %v %s", args, err, out)
	}
	t.Cleanup(func() {
		c.ctr("task", "kill", "-s", "KILL", id).Run()
		for range 50 {
			if c.ctr("task", "rm", id).Run() == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.ctr("container", "rm", id).Run()
	})
	out, err := c.ctr("task", "ls").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid
		}
	}
	t.Fatalf("ctr task ls does not show %s:\n%s", id, out)
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// removeCgroups removes a cgroup tree in every hierarchy (the parents
// the runtime leaves: kubepods/…/pod<uid>), deepest first.
func removeCgroups(top string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", top))
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", top)); err == nil {
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", top))
	}
	for _, d := range dirs {
		var all []string
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			os.Remove(all[i])
		}
	}
}

// TestAgentK8sPods runs a real containerd (Debian's) with containers
// started as its CRI plugin starts a pod's — a sandbox and an application
// container sharing its network namespace, each with the CRI's annotations
// in its OCI spec, in the kubelet's cgroup layout — and checks that the
// agent reports each pod as one data source named as hsflowd's mod_k8s
// names it, which the engine reads as k8s_name and k8s_namespace; that the
// pod's memory is its containers' sum; that a container without the
// annotations stays a container of its own; and that a pod whose
// containers end sends a last sample with virt_cpu state shutdown.
func TestAgentK8sPods(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs containerd: needs root")
	}
	need(t, "containerd", "ctr")
	root, ok := agent.CgroupRoot()
	if !ok {
		t.Skip("no cgroup v2 hierarchy here")
	}
	c := startContainerd(t)
	rootfs := sleeperBinary(t)
	top := fmt.Sprintf("flowrt-test-%d", os.Getpid())
	t.Cleanup(func() { removeCgroups(top) })
	pod := func(name, ns string, containers ...string) (ids []string) {
		uid := randomHex(16)
		annotations := func(kind, cname string) []string {
			a := []string{"io.kubernetes.cri.container-type=" + kind, "io.kubernetes.cri.sandbox-name=" + name,
				"io.kubernetes.cri.sandbox-namespace=" + ns, "io.kubernetes.cri.sandbox-uid=" + uid}
			if cname != "" {
				a = append(a, "io.kubernetes.cri.container-name="+cname)
			}
			var flags []string
			for _, s := range a {
				flags = append(flags, "--annotation", s)
			}
			return flags
		}
		cg := fmt.Sprintf("/%s/kubepods/besteffort/pod%s/", top, uid)
		sandbox := randomHex(32)
		pid := c.run(t, rootfs, sandbox, cg+sandbox, annotations("sandbox", "")...)
		ids = append(ids, sandbox)
		for _, cname := range containers {
			id := randomHex(32)
			c.run(t, rootfs, id, cg+id, append(annotations("container", cname), "--with-ns", fmt.Sprintf("network:/proc/%d/ns/net", pid))...)
			ids = append(ids, id)
		}
		return ids
	}
	web := pod("web-7d9f", "shop", "web")
	db := pod("db-0", "data", "postgres")
	plain := randomHex(32) // a container no pod's (ctr run by hand)
	c.run(t, rootfs, plain, fmt.Sprintf("/%s/%s", top, plain))

	e := startEngine(t)
	host, port, _ := strings.Cut(e.sflow, ":")
	startAgent(t, fmt.Sprintf("sflow {\n  collector { ip=%s udpport=%s }\n  polling=2\n  agentIP=10.250.0.12\n  k8s { containerdState=%s }\n}\n",
		host, port, c.state))
	dump := func(metric string) map[string]string { // of the containers and pods (class 3) alone
		m := dumpMetric(t, e, "10.250.0.12", metric)
		for ds := range m {
			if !strings.HasPrefix(ds, "3.") {
				delete(m, ds)
			}
		}
		return m
	}
	var hostNames map[string]string
	waitFor(t, 15*time.Second, "three data sources", func() bool { hostNames = dump("host_name"); return len(hostNames) >= 3 })
	want := map[string]bool{"k8s__web-7d9f_shop_u_a": true, "k8s__db-0_data_u_a": true, plain[:12]: true}
	src := map[string]string{}
	for ds, n := range hostNames {
		if !want[n] {
			t.Errorf("data source %s is named %q, want one of %v", ds, n, want)
		}
		src[n] = ds
	}
	if len(hostNames) != 3 {
		t.Errorf("%d data sources, want 3 (two pods of two containers each, one container): %v", len(hostNames), hostNames)
	}
	names, spaces := dump("k8s_name"), dump("k8s_namespace")
	for _, p := range [][3]string{{"k8s__web-7d9f_shop_u_a", "web-7d9f", "shop"}, {"k8s__db-0_data_u_a", "db-0", "data"}} {
		ds := src[p[0]]
		if names[ds] != p[1] || spaces[ds] != p[2] {
			t.Errorf("pod %s (%s): k8s_name %q k8s_namespace %q, want %s %s", p[0], ds, names[ds], spaces[ds], p[1], p[2])
		}
	}
	if ds := src[plain[:12]]; names[ds] != "" {
		t.Errorf("the container of no pod has k8s_name %q", names[ds])
	}

	// The pod's memory is its containers' (v2 memory.current, or the v1
	// memory controller on a hybrid host).
	memOf := func(id string) float64 {
		rel := filepath.Join(fmt.Sprintf("/%s/kubepods/besteffort", top), "*", id)
		for _, g := range []string{filepath.Join(root, rel, "memory.current"), filepath.Join("/sys/fs/cgroup/memory", rel, "memory.usage_in_bytes")} {
			if m, _ := filepath.Glob(g); len(m) > 0 {
				b, _ := os.ReadFile(m[0])
				v, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
				return v
			}
		}
		t.Fatalf("no memory counter for container %s", id)
		return 0
	}
	sum := memOf(web[0]) + memOf(web[1])
	got, _ := strconv.ParseFloat(dump("vir_mem_memory")[src["k8s__web-7d9f_shop_u_a"]], 64)
	if math.Abs(got-sum) > 0.1*sum {
		t.Errorf("pod web-7d9f's memory %.0f bytes, its two containers' cgroups %.0f", got, sum)
	}
	t.Logf("pod web-7d9f: memory %.0f bytes, its containers' cgroups %.0f", got, sum)

	// The db pod ends: the next walk says so, with state shutoff (5) while
	// its containers' cgroups are there without a process, shutdown (4) in
	// its last sample once they are gone.
	for _, id := range db {
		c.ctr("task", "kill", "-s", "KILL", id).Run()
	}
	dbds := src["k8s__db-0_data_u_a"]
	waitFor(t, 10*time.Second, "the ended pod's last sample (virt_cpu state 4 or 5)", func() bool {
		st := dump("vir_cpu_state")[dbds]
		return st == "4" || st == "5"
	})
	if st := dump("vir_cpu_state")[src["k8s__web-7d9f_shop_u_a"]]; st != "1" {
		t.Errorf("the running pod's vir_cpu_state is %s, want 1", st)
	}
}
