package agent

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// Kubernetes pods where containerd or CRI-O runs them: the kubelet asks the
// runtime, through the CRI, to create each pod's sandbox and containers, and
// the runtime writes the pod's names into every container's OCI spec as
// annotations — the bundle's config.json, in the runtime's state directory,
// which is what hsflowd's containerd helper reads through containerd's API
// (the container's Spec). Like hsflowd's mod_k8s, the agent makes each pod
// one data source (class 3) for all its containers, named
// k8s__<pod>_<namespace>_u_a (the kubelet's docker-era container name
// without the container, with placeholders for the UID and attempt), which
// the engine reads as k8s_name and k8s_namespace.

// ContainerdState and CRIORunroot are where containerd keeps its tasks'
// bundles (<state>/io.containerd.runtime.v2.task/<namespace>/<id>) and
// CRI-O its containers' (<runroot>/<driver>-containers/<id>/userdata):
// their defaults, changed by k8s { containerdState=… crioRunroot=… }.
const (
	ContainerdState = "/run/containerd"
	CRIORunroot     = "/run/containers/storage"
)

// The annotations each runtime writes: containerd's CRI plugin, CRI-O.
var podAnnotations = []struct{ name, namespace, container, kind string }{
	{"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.container-name",
		"io.kubernetes.cri.container-type"},
	{"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.container.name",
		"io.kubernetes.cri-o.ContainerType"},
}

// PodOf is a container's pod, from its OCI spec's annotations.
type PodOf struct {
	Name, Namespace string
	Container       string // the container's name in the pod ("" for the sandbox)
	Sandbox         bool   // the pod's sandbox (pause) container
}

// Key names the pod among the host's data sources.
func (p PodOf) Key() string { return "k8s:" + p.Namespace + "/" + p.Name }

// Hostname is the pod data source's host_descr name, as mod_k8s writes it.
func (p PodOf) Hostname() string { return "k8s__" + p.Name + "_" + p.Namespace + "_u_a" }

// podFinder reads containers' pods from their bundles, once per container.
type podFinder struct {
	containerd, crio []string // state and runroot directories
	mu               sync.Mutex
	known            map[string]PodOf // container ID → pod (zero: a bundle without pod annotations)
}

func newPodFinder(containerd, crio []string) *podFinder {
	if len(containerd) == 0 {
		containerd = []string{ContainerdState}
	}
	if len(crio) == 0 {
		crio = []string{CRIORunroot}
	}
	return &podFinder{containerd: containerd, crio: crio, known: map[string]PodOf{}}
}

// Pod returns the pod of container id; ok is false when it is no pod's
// (no bundle found, or one without the annotations: a Docker or Podman
// container).
func (f *podFinder) Pod(id string) (PodOf, bool) {
	if f == nil {
		return PodOf{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.known[id]; ok {
		return p, p.Name != ""
	}
	spec := f.bundle(id)
	if spec == "" {
		return PodOf{}, false // not (yet) there: looked for again next time
	}
	p := readPodOf(spec)
	if len(f.known) >= 65536 {
		clear(f.known)
	}
	f.known[id] = p
	return p, p.Name != ""
}

// forget drops what is known of containers no longer running.
func (f *podFinder) forget(running map[string]bool) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.known {
		if !running[id] {
			delete(f.known, id)
		}
	}
}

// bundle finds the config.json of container id ("" when there is none).
func (f *podFinder) bundle(id string) string {
	var globs []string
	for _, s := range f.containerd {
		globs = append(globs, filepath.Join(s, "io.containerd.runtime.v2.task", "*", id, "config.json"),
			filepath.Join(s, "io.containerd.runtime.v1.linux", "*", id, "config.json"))
	}
	for _, r := range f.crio {
		globs = append(globs, filepath.Join(r, "*-containers", id, "userdata", "config.json"))
	}
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// readPodOf reads the pod annotations of an OCI spec (zero when it has none).
func readPodOf(path string) PodOf {
	b, err := os.ReadFile(path)
	if err != nil {
		return PodOf{}
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.Unmarshal(b, &spec) != nil {
		return PodOf{}
	}
	a := spec.Annotations
	for _, k := range podAnnotations {
		if a[k.name] != "" && a[k.namespace] != "" {
			return PodOf{Name: a[k.name], Namespace: a[k.namespace], Container: a[k.container], Sandbox: a[k.kind] == "sandbox"}
		}
	}
	return PodOf{}
}

// addPod adds a container's counters to its pod's: the pod's CPU, memory
// and disk are its containers' sums, its memory limit theirs (at most the
// host's memory), its state running while one of them runs; its network is
// the pod's own namespace, shared by its containers (read from the first
// container that has interfaces in it).
func addPod(pod, c *lastContainer, hostMem uint64) {
	if pod.cpu.State != virRunning {
		pod.cpu.State = c.cpu.State
	}
	pod.cpu.CPUTime += c.cpu.CPUTime
	pod.cpu.CPUCount = max(pod.cpu.CPUCount, c.cpu.CPUCount)
	pod.mem.Memory += c.mem.Memory
	pod.mem.MaxMemory = min(pod.mem.MaxMemory+c.mem.MaxMemory, hostMem)
	pod.disk.RdReq += c.disk.RdReq
	pod.disk.WrReq += c.disk.WrReq
	pod.disk.RdBytes += c.disk.RdBytes
	pod.disk.WrBytes += c.disk.WrBytes
	if len(pod.adapters.Adapters) == 0 && len(c.adapters.Adapters) > 0 {
		pod.adapters, pod.nio, pod.pid = c.adapters, c.nio, c.pid
	}
}

// podUUID is a pod data source's UUID, stable across restarts of the agent.
func podUUID(p PodOf) [16]byte {
	sum := sha256.Sum256([]byte(p.Key()))
	return [16]byte(sum[:16])
}
