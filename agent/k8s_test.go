package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPodOfCRIO reads a pod's names from a bundle laid out as CRI-O writes
// it (<runroot>/overlay-containers/<id>/userdata/config.json, with CRI-O's
// annotations): no CRI-O runs here, so the layout is written by the test.
// containerd's layout is read from a real containerd in cmd/flowrt's
// TestAgentK8sPods.
func TestPodOfCRIO(t *testing.T) {
	runroot := t.TempDir()
	id := strings.Repeat("ab", 32)
	dir := filepath.Join(runroot, "overlay-containers", id, "userdata")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion":"1.0.2","annotations":{
		"io.kubernetes.pod.name":"coredns-5d78c9869d-x2x4q","io.kubernetes.pod.namespace":"kube-system",
		"io.kubernetes.container.name":"coredns","io.kubernetes.cri-o.ContainerType":"container"}}`), 0o644)
	other := strings.Repeat("cd", 32) // a Podman container: a bundle without pod annotations
	os.MkdirAll(filepath.Join(runroot, "overlay-containers", other, "userdata"), 0o755)
	os.WriteFile(filepath.Join(runroot, "overlay-containers", other, "userdata", "config.json"), []byte(`{"annotations":{"io.container.manager":"libpod"}}`), 0o644)
	f := newPodFinder([]string{t.TempDir()}, []string{runroot})
	p, ok := f.Pod(id)
	if !ok || p.Name != "coredns-5d78c9869d-x2x4q" || p.Namespace != "kube-system" || p.Container != "coredns" || p.Sandbox {
		t.Fatalf("Pod(%s) = %+v, %v", id, p, ok)
	}
	if got := p.Hostname(); got != "k8s__coredns-5d78c9869d-x2x4q_kube-system_u_a" {
		t.Errorf("Hostname() = %q", got)
	}
	if p, ok := f.Pod(other); ok {
		t.Errorf("a container without pod annotations is in pod %+v", p)
	}
	if _, ok := f.Pod(strings.Repeat("ef", 32)); ok {
		t.Errorf("a container without a bundle is in a pod")
	}
}
