package agent

import (
	"encoding/hex"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/flowrt/flowrt/sflow"
)

// Containers, read from cgroup v2: each container's cgroup gives its CPU
// (cpu.stat), memory (memory.current, memory.max), block I/O (io.stat) and,
// through a process in it, its network namespace's interfaces. Each is a
// data source of class 3 (a virtual entity) with host_descr naming it,
// host_parent pointing at the host, and the virtual structures 2101–2104;
// the host's own sample carries virt_node (2100).

// containerCgroup matches the cgroup directory names of Docker (systemd
// and cgroupfs drivers), containerd, CRI-O and Podman.
var containerCgroup = regexp.MustCompile(`^(?:docker-|cri-containerd-|crio-|libpod-)?([0-9a-f]{64})(?:\.scope)?$`)

// CgroupRoot finds the cgroup v2 hierarchy: /sys/fs/cgroup on a unified
// system, /sys/fs/cgroup/unified on a hybrid one.
func CgroupRoot() (string, bool) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(p, "cgroup.controllers")); err == nil {
			return p, true
		}
	}
	return "", false
}

// Container is one container's cgroup.
type Container struct {
	ID   string
	Path string
}

// FindContainers walks a cgroup v2 hierarchy for container cgroups.
func FindContainers(root string) []Container {
	var out []Container
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") > 6 {
			return filepath.SkipDir
		}
		if m := containerCgroup.FindStringSubmatch(d.Name()); m != nil {
			out = append(out, Container{ID: m[1], Path: p})
			return filepath.SkipDir
		}
		return nil
	})
	return out
}

// pid is a process in the container ("" when none is left).
func (c Container) pid() string {
	procs := readLines(filepath.Join(c.Path, "cgroup.procs"))
	if len(procs) == 0 {
		return ""
	}
	return procs[0]
}

// Adapters lists the interfaces of the network namespace of pid, a process
// in the container (none when it shares the host's): what maps sampled
// frames to the container.
func (c Container) Adapters(pid string) sflow.HostAdapters {
	var a sflow.HostAdapters
	if pid == "" {
		return a
	}
	ifs, _ := nsInterfaces(pid)
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || len(i.HardwareAddr) != 6 {
			continue
		}
		var m sflow.MAC
		copy(m[:], i.HardwareAddr)
		a.Adapters = append(a.Adapters, sflow.Adapter{IfIndex: uint32(i.Index), MACs: []sflow.MAC{m}})
	}
	return a
}

// Counters reads the container's virtual structures; pid is a process in
// it, whose network namespace's interfaces are the container's.
func (c Container) Counters(hostMem uint64, pid string) (sflow.VirtCPU, sflow.VirtMemory, sflow.VirtDisk, sflow.VirtNetIO) {
	cpu, mem, disk := cgroupCounters(c.Path, hostMem, pid != "")
	var nio sflow.VirtNetIO
	if pid != "" {
		h := Host{Proc: filepath.Join("/proc", pid)}
		nio = sflow.VirtNetIO(h.NetIO()) // the same counters, of the container's network namespace
	}
	return cpu, mem, disk, nio
}

// cgroupCounters reads a cgroup v2 directory's CPU, memory and block I/O
// (containers and systemd services alike).
func cgroupCounters(path string, hostMem uint64, running bool) (sflow.VirtCPU, sflow.VirtMemory, sflow.VirtDisk) {
	var cpu sflow.VirtCPU
	st := keyed(filepath.Join(path, "cpu.stat"))
	cpu.CPUTime = uint32(st["usage_usec"] / 1000)
	if running {
		cpu.State = 1 // running
	} else {
		cpu.State = 5 // shut off
	}
	if quota := readTrim(filepath.Join(path, "cpu.max")); quota != "" {
		f := strings.Fields(quota)
		if len(f) == 2 && f[0] != "max" {
			cpu.CPUCount = uint32((u64(f[0]) + u64(f[1]) - 1) / max(u64(f[1]), 1))
		}
	}
	mem := sflow.VirtMemory{Memory: u64(readTrim(filepath.Join(path, "memory.current"))), MaxMemory: hostMem}
	if m := readTrim(filepath.Join(path, "memory.max")); m != "" && m != "max" {
		mem.MaxMemory = u64(m)
	}
	var disk sflow.VirtDisk
	for _, l := range readLines(filepath.Join(path, "io.stat")) {
		for _, kv := range strings.Fields(l)[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "rbytes":
				disk.RdBytes += u64(v)
			case "wbytes":
				disk.WrBytes += u64(v)
			case "rios":
				disk.RdReq += uint32(u64(v))
			case "wios":
				disk.WrReq += uint32(u64(v))
			}
		}
	}
	return cpu, mem, disk
}

// lastContainer is what a container's latest sample said, for the last
// sample sent when its engine says it stopped (its cgroup is gone by then).
type lastContainer struct {
	idx      uint32
	pid      string // a process in it, in its network namespace ("" when none)
	descr    sflow.HostDescr
	adapters sflow.HostAdapters
	cpu      sflow.VirtCPU
	mem      sflow.VirtMemory
	disk     sflow.VirtDisk
	nio      sflow.VirtNetIO
}

func (l *lastContainer) records() []sflow.Record {
	parent := sflow.HostParent{ContainerType: hostClass, ContainerIndex: hostIndex}
	return records(&l.descr, &l.adapters, &parent, &l.cpu, &l.mem, &l.disk, &l.nio)
}

// containerSamples is one counter sample per container (per pod, for
// Kubernetes' containers), and the host's virt_node record (for the host's
// own sample). A container its engine said stopped (ended: ID → virt_cpu
// state) gets one last sample with that state, from its cgroup if it is
// still there, else from what its previous sample said, as hsflowd sends
// it; so does a container or pod gone from the cgroup tree without an
// event (state shutdown). Then it is forgotten. Called from Run's
// goroutine only (a.last is its own).
func (a *Agent) containerSamples(mem sflow.HostMemory, cpu sflow.HostCPU, ended map[string]uint32) (node sflow.Record, out []sflow.Sample) {
	cs := FindContainers(a.cfg.Cgroup)
	names := a.docker.Names()
	macs := map[sflow.MAC]uint32{}
	defer func() { a.macs.Store(&macs) }()
	last := make(map[string]*lastContainer, len(cs))
	walked := make(map[string]bool, len(cs))
	var pods []string
	for _, c := range cs {
		walked[c.ID] = true
		pid := c.pid()
		l := &lastContainer{pid: pid, adapters: c.Adapters(pid)}
		l.cpu, l.mem, l.disk, l.nio = c.Counters(mem.Total, pid)
		if l.mem.Memory == 0 {
			l.mem.Memory = v1Memory(a.cfg.Cgroup, c.Path)
		}
		if pod, ok := a.pods.Pod(c.ID); ok {
			p := last[pod.Key()]
			if p == nil {
				a.mu.Lock()
				p = &lastContainer{idx: a.entityIndex(pod.Key()), descr: sflow.HostDescr{Hostname: []byte(pod.Hostname()), OSName: 2, UUID: podUUID(pod)}}
				a.mu.Unlock()
				last[pod.Key()] = p
				pods = append(pods, pod.Key())
			}
			addPod(p, l, mem.Total)
			continue
		}
		name := names[c.ID]
		if name == "" {
			name = c.ID[:12]
		}
		a.mu.Lock()
		l.idx = a.entityIndex(c.ID)
		a.mu.Unlock()
		l.descr = sflow.HostDescr{Hostname: []byte(name), OSName: 2}
		if id, err := hex.DecodeString(c.ID[:32]); err == nil {
			copy(l.descr.UUID[:], id)
		}
		if st, ok := ended[c.ID]; ok {
			l.cpu.State = st
		} else {
			last[c.ID] = l
		}
		out = append(out, a.containerSample(l))
	}
	for _, k := range pods {
		out = append(out, a.containerSample(last[k]))
	}
	for _, l := range last {
		for _, ad := range l.adapters.Adapters {
			for _, m := range ad.MACs {
				macs[m] = l.idx
			}
		}
	}
	node, _ = sflow.NewRecord(&sflow.VirtNode{MHz: cpu.CPUSpeed, CPUs: cpu.CPUNum, Memory: mem.Total, MemoryFree: mem.Free,
		NumDomains: uint32(len(out))}) // the containers and pods running
	for id, st := range ended {
		if l, ok := a.last[id]; ok && !walked[id] {
			l.cpu.State = st
			out = append(out, a.containerSample(l))
		}
	}
	for id, l := range a.last {
		if _, ok := last[id]; ok || ended[id] != 0 {
			continue
		}
		// A container whose cgroup went before the event stream said it
		// stopped is kept until the stream says so; any other is gone.
		if names[id] != "" && a.docker.Live() {
			last[id] = l
			continue
		}
		l.cpu.State = virShutdown
		out = append(out, a.containerSample(l))
	}
	a.pods.forget(walked)
	a.last = last
	a.renewNSDiag(last)
	return node, out
}

// renewNSDiag maps the containers' MACs to a socket lookup in their
// network namespaces (tcp { }): one netlink socket per namespace, kept
// while the namespace is seen.
func (a *Agent) renewNSDiag(running map[string]*lastContainer) {
	if a.diag == nil || !a.cfg.TCP {
		return
	}
	for _, d := range a.retired {
		d.Close()
	}
	a.retired = nil
	if a.nsDiags == nil {
		a.nsDiags = map[string]*SockDiag{}
	}
	ours, _ := os.Readlink("/proc/self/ns/net")
	byMAC := map[sflow.MAC]*SockDiag{}
	seen := map[string]bool{}
	for _, l := range running {
		if l.pid == "" || len(l.adapters.Adapters) == 0 {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", l.pid, "ns", "net"))
		if err != nil || ns == ours {
			continue
		}
		d, ok := a.nsDiags[ns]
		if !ok {
			// A namespace that cannot have one is said once and kept as
			// nil, not tried (and warned of) again every polling interval.
			if d, err = NewSockDiagIn(l.pid); err != nil {
				a.log.Warn("no socket lookups in a container's network namespace", "pid", l.pid, "err", err)
			}
			a.nsDiags[ns] = d
		}
		seen[ns] = true
		if d == nil {
			continue
		}
		for _, ad := range l.adapters.Adapters {
			for _, m := range ad.MACs {
				byMAC[m] = d
			}
		}
	}
	for ns, d := range a.nsDiags {
		if !seen[ns] {
			delete(a.nsDiags, ns)
			if d != nil {
				a.retired = append(a.retired, d)
			}
		}
	}
	a.nsDiag.Store(&byMAC)
}

// containerSample is a container's counter sample, with its next sequence
// number.
func (a *Agent) containerSample(l *lastContainer) sflow.Sample {
	a.mu.Lock()
	seq := a.next(uint64(sflow.CounterSample)<<40 | 3<<32 | uint64(l.idx))
	a.mu.Unlock()
	return sflow.Sample{Format: sflow.CounterSample, SourceClass: 3, SourceIndex: l.idx, Sequence: seq, Records: l.records()}
}
