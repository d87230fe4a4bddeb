package agent

import (
	"crypto/sha256"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flowrt/flowrt/sflow"
)

// systemd { }: every running service is a data source of its own, as
// hsflowd's systemd module makes it — class 3 (a logical entity) with
// host_descr naming the unit ("nginx.service"), host_parent pointing at the
// host, and virt_cpu, virt_memory and virt_disk_io from its cgroup. The
// services are read from systemd's cgroup tree rather than asked of systemd
// over D-Bus: the tree is what systemd itself keeps them in, it is there
// where D-Bus is not (containers, a hybrid host's unified hierarchy), and
// its directories' inodes are the cgroup IDs the kernel reports for each
// socket, which is how markTraffic finds the service behind a packet.

// Service is one systemd service's cgroup.
type Service struct {
	Unit string // "nginx.service"
	Path string // its cgroup v2 directory
	// IDs are the cgroup IDs (directory inodes) of the service's cgroup and
	// of the cgroups below it: a socket created in any of them is the
	// service's.
	IDs []uint64
}

// FindServices walks a cgroup v2 hierarchy for systemd services that have
// processes (system.slice, nested slices, user@.service managers).
func FindServices(root string) []Service {
	var out []Service
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == root {
			return nil
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") > 5 {
			return filepath.SkipDir
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".service") {
			return nil
		}
		if !populated(p) {
			return filepath.SkipDir
		}
		out = append(out, Service{Unit: name, Path: p, IDs: cgroupIDs(p)})
		return filepath.SkipDir
	})
	return out
}

// populated says whether a cgroup or one below it has a process
// (cgroup.events "populated 1"; cgroup.procs where that file is missing).
func populated(p string) bool {
	for _, l := range readLines(filepath.Join(p, "cgroup.events")) {
		if k, v, _ := strings.Cut(l, " "); k == "populated" {
			return v == "1"
		}
	}
	return len(readLines(filepath.Join(p, "cgroup.procs"))) > 0
}

// cgroupIDs are the inodes of a cgroup's directory and those below it.
func cgroupIDs(p string) []uint64 {
	var ids []uint64
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				ids = append(ids, st.Ino)
			}
		}
		return nil
	})
	return ids
}

// serviceSamples is one counter sample per running service; it also
// renews the cgroup ID → data source map that markTraffic reads.
func (a *Agent) serviceSamples(mem sflow.HostMemory) []sflow.Sample {
	ss := FindServices(a.cfg.Cgroup)
	ids := map[uint64]uint32{}
	defer func() { a.services.Store(&ids) }()
	var out []sflow.Sample
	for _, s := range ss {
		a.mu.Lock()
		idx := a.entityIndex("systemd:" + s.Unit)
		seq := a.next(uint64(sflow.CounterSample)<<40 | 3<<32 | uint64(idx))
		a.mu.Unlock()
		for _, id := range s.IDs {
			ids[id] = idx
		}
		descr := sflow.HostDescr{Hostname: []byte(s.Unit), OSName: 2}
		sum := sha256.Sum256([]byte(s.Unit)) // stable across restarts of the agent and of the service
		copy(descr.UUID[:], sum[:16])
		parent := sflow.HostParent{ContainerType: hostClass, ContainerIndex: hostIndex}
		cpu, vmem, disk := cgroupCounters(s.Path, mem.Total, true)
		if vmem.Memory == 0 {
			vmem.Memory = v1Memory(a.cfg.Cgroup, s.Path)
		}
		out = append(out, sflow.Sample{Format: sflow.CounterSample, SourceClass: 3, SourceIndex: idx, Sequence: seq,
			Records: records(&descr, &parent, &cpu, &vmem, &disk)})
	}
	return out
}

// v1Memory reads a service's memory from the cgroup v1 memory controller
// of a hybrid host, where the unified hierarchy has no memory.current.
func v1Memory(root, path string) uint64 {
	rel := strings.TrimPrefix(path, root)
	return u64(readTrim(filepath.Join(filepath.Dir(root), "memory", rel, "memory.usage_in_bytes")))
}

// entityIndex is the data source index (class 3) of a container or a
// service, the same for as long as the agent runs. a.mu is held.
func (a *Agent) entityIndex(key string) uint32 {
	idx, ok := a.containers[key]
	if !ok {
		idx = uint32(len(a.containers) + 1)
		a.containers[key] = idx
	}
	return idx
}
