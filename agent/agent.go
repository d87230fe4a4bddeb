package agent

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// The host's own data source: class 2 (entPhysicalEntry) index 1, as
// hsflowd reports it; interfaces are class 0 by ifIndex.
const (
	hostClass, hostIndex = 2, 1
	maxDatagram          = 1400 // bytes: stays under a 1500-byte MTU with headers
	flushEvery           = 100 * time.Millisecond
)

// Agent streams the host's counters and samples to the collectors.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	host  Host
	addr  netip.Addr
	start time.Time

	conns  []*collectorConn
	sendMu sync.Mutex // the collectors' datagram sequence numbers
	mu     sync.Mutex // data source sequence numbers, the pending flow samples
	seqs   map[uint64]uint32
	flows  []sflow.Sample
	size   int

	containers map[string]uint32 // container ID or "systemd:<unit>" → data source index (class 3)
	// last is each container's latest sample (Run's goroutine only).
	last map[string]*lastContainer
	// macs maps the MACs of containers' interfaces to their data source
	// index, so that flow samples can say which container sent or received
	// a frame (extended_entities).
	macs atomic.Pointer[map[sflow.MAC]uint32]
	// services maps cgroup IDs to the data source index of the systemd
	// service they belong to (markTraffic), renewed every polling interval.
	services atomic.Pointer[map[uint64]uint32]
	// diag looks up the local socket of sampled packets (tcp { },
	// markTraffic); nil when neither is on.
	diag *SockDiag
	// nsDiag maps the MACs of containers' interfaces to a socket lookup in
	// their network namespace, for tcp { } on containers' own sockets,
	// renewed every polling interval; nsDiags holds those lookups by
	// namespace (nil for one where it could not be opened, said once) and
	// retired the ones of namespaces gone, closed a polling interval later
	// (a sampler may still hold one). Run's goroutine only.
	nsDiag  atomic.Pointer[map[sflow.MAC]*SockDiag]
	nsDiags map[string]*SockDiag
	retired []*SockDiag
	// docker follows the Docker Engine API's events (nil without its socket).
	docker *dockerWatch
	// pods names Kubernetes' containers by their pods (containerd, CRI-O).
	pods *podFinder

	// Stats, for logs and tests.
	Datagrams, SendErrors, FlowSamples, CounterSamples atomic.Uint64
}

type collectorConn struct {
	addr   netip.AddrPort
	conn   *net.UDPConn
	seq    uint32
	failed atomic.Bool // the last send failed (logged once per failure run)
}

// New checks the configuration and picks the agent address.
func New(cfg Config, log *slog.Logger) (*Agent, error) {
	if log == nil {
		log = slog.Default()
	}
	if len(cfg.Collectors) == 0 {
		return nil, fmt.Errorf("no collector configured: sflow { collector { ip=… } }")
	}
	a := &Agent{cfg: cfg, log: log, host: Host{Proc: "/proc", Sys: "/sys"}, start: time.Now(), seqs: map[uint64]uint32{},
		containers: map[string]uint32{}}
	var err error
	if a.addr, err = agentAddress(cfg); err != nil {
		return nil, err
	}
	for _, c := range cfg.Collectors {
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.Addr))
		if err != nil {
			return nil, fmt.Errorf("collector %s: %w", c.Addr, err)
		}
		a.conns = append(a.conns, &collectorConn{addr: c.Addr, conn: conn})
	}
	return a, nil
}

// agentAddress is agentIP=, else the first address of agent=<device>, else
// the first global unicast address of an interface that is up (IPv4 first).
func agentAddress(cfg Config) (netip.Addr, error) {
	if cfg.AgentIP.IsValid() {
		return cfg.AgentIP, nil
	}
	ifs, _ := net.Interfaces()
	var v6 netip.Addr
	for _, i := range ifs {
		if cfg.AgentDevice != "" && i.Name != cfg.AgentDevice || i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, ad := range addrs {
			p, err := netip.ParsePrefix(ad.String())
			if err != nil || !p.Addr().IsGlobalUnicast() {
				continue
			}
			if p.Addr().Is4() {
				return p.Addr(), nil
			}
			if !v6.IsValid() {
				v6 = p.Addr()
			}
		}
	}
	if v6.IsValid() {
		return v6, nil
	}
	if cfg.AgentDevice != "" {
		return netip.Addr{}, fmt.Errorf("agent=%s: the device has no usable address; set agentIP=", cfg.AgentDevice)
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// Run sends counters every polling interval and packet samples as they
// come, until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("sFlow agent started", "agent", a.addr, "collectors", a.cfg.Collectors, "polling", a.cfg.Polling,
		"devices", len(a.cfg.Devices))
	var wg sync.WaitGroup
	for _, d := range a.cfg.Devices {
		wg.Add(1)
		go func() { defer wg.Done(); a.sample(ctx, d) }()
	}
	for _, m := range a.cfg.Unsupported {
		name, _, _ := strings.Cut(m, " ")
		a.log.Warn("module "+name+" is not supported: "+moduleNote(name), "module", m)
	}
	if (a.cfg.Docker || a.cfg.Systemd) && a.cfg.Cgroup == "" {
		root, ok := CgroupRoot()
		if !ok {
			a.log.Error("docker { } and systemd { } need a cgroup v2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified); no container or service counters")
			a.cfg.Docker, a.cfg.Systemd, a.cfg.MarkTraffic = false, false, false
		}
		a.cfg.Cgroup = root
	}
	var containersChanged <-chan struct{}
	if a.cfg.Docker {
		a.log.Info("container counters from cgroup v2", "root", a.cfg.Cgroup)
		a.pods = newPodFinder(a.cfg.ContainerdState, a.cfg.CRIORunroot)
		a.log.Info("Kubernetes pods named from their containers' OCI bundles", "containerd", a.pods.containerd, "crio", a.pods.crio)
		if sock := dockerSocket(); sock != "" {
			a.docker = newDockerWatch(sock, a.log)
			containersChanged = a.docker.changed
			wg.Add(1)
			go func() { defer wg.Done(); a.docker.run(ctx) }()
		}
	}
	if a.cfg.Systemd {
		a.log.Info("systemd service counters from cgroup v2", "root", a.cfg.Cgroup, "markTraffic", a.cfg.MarkTraffic)
	}
	if a.cfg.TCP || a.cfg.MarkTraffic {
		d, err := NewSockDiag()
		if err != nil {
			a.log.Error("tcp { } and markTraffic need the kernel's socket tables; sampled packets go out without them", "err", err)
		} else {
			a.diag = d
			defer d.Close()
		}
	}
	poll := time.NewTicker(a.cfg.Polling)
	flush := time.NewTicker(flushEvery)
	defer poll.Stop()
	defer flush.Stop()
	a.poll()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			a.flush()
			for _, c := range a.conns {
				c.conn.Close()
			}
			for _, d := range a.nsDiags {
				if d != nil { // nil: a namespace without one
					d.Close()
				}
			}
			for _, d := range a.retired {
				d.Close()
			}
			return nil
		case <-poll.C:
			a.poll()
		case <-containersChanged: // a container started or stopped: say so now
			a.pollContainers()
		case <-flush.C:
			a.flush()
		}
	}
}

// sample runs one device's sampler, waiting for the device when it is
// missing (docker0 appears when Docker starts) and starting again when it
// goes away and comes back (a veth re-created with a new ifIndex).
func (a *Agent) sample(ctx context.Context, d Device) {
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Second):
			return true
		}
	}
	for ctx.Err() == nil {
		dev, ok := interfaceByName(a.host.Sys, d.Name)
		if !ok {
			a.log.Warn("device to sample not found; trying again every 10 s", "device", d.Name)
			if !wait() {
				return
			}
			continue
		}
		n := d.Sampling
		if n == 0 {
			n = a.cfg.Sampling
		}
		if n == 0 {
			n = DefaultSampling(dev.SpeedMb)
		}
		s, err := NewSampler(dev, n, a.cfg.HeaderBytes)
		if err != nil {
			a.log.Error("packet sampling not started", "device", d.Name, "err", err)
			return // permissions or the kernel: trying again would not help
		}
		a.log.Info("sampling packets", "device", d.Name, "ifindex", dev.Index, "sampling", n, "headerBytes", a.cfg.HeaderBytes)
		err = a.readSamples(ctx, s)
		s.Close()
		if err != nil {
			a.log.Warn("packet sampling interrupted; waiting for the device", "device", d.Name, "err", err)
			if !wait() {
				return
			}
		}
	}
}

// readSamples turns a sampler's packets into flow samples until ctx ends
// or the socket fails (the device went away).
func (a *Agent) readSamples(ctx context.Context, s *Sampler) error {
	// The pool is every packet the device saw in both directions since
	// sampling began, from its counters; they are read at most every
	// poolEvery (two sysfs reads per sample would cost more than the rest).
	const poolEvery = 50 * time.Millisecond
	startPool := s.Device.Packets()
	var pool, drops uint32
	var poolAt time.Time
	checked := time.Now()
	for ctx.Err() == nil {
		p, ok, err := s.Read()
		if err != nil {
			return err
		}
		now := time.Now()
		// The kernel does not always wake a quiet socket when its device
		// goes: look for it by name every second.
		if now.Sub(checked) >= time.Second {
			checked = now
			if dev, found := interfaceByName(a.host.Sys, s.Device.Name); !found || dev.Index != s.Device.Index {
				return fmt.Errorf("device %s (ifindex %d) is gone", s.Device.Name, s.Device.Index)
			}
		}
		if !ok {
			continue
		}
		if now.Sub(poolAt) >= poolEvery {
			pool, poolAt = uint32(s.Device.Packets()-startPool), now
			drops += s.Drops()
		}
		a.addFlowSample(s, p, pool, drops)
	}
	return nil
}

func (a *Agent) addFlowSample(s *Sampler, p Sampled, pool, drops uint32) {
	rec, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: sflow.HeaderEthernet, FrameLength: p.Length + 4, Stripped: 4,
		Header: append([]byte(nil), p.Header...)})
	if err != nil {
		return
	}
	smp := sflow.Sample{Format: sflow.FlowSample, SourceClass: 0, SourceIndex: s.Device.Index, SamplingRate: s.N,
		SamplePool: pool, Drops: drops, Records: []sflow.Record{rec}}
	ent, hasEnt := a.entities(p.Header)
	if a.diag != nil {
		// The local socket is the host's, or a container's when the frame
		// is to or from one of its interfaces (it is then in the
		// container's network namespace: the source when the container
		// sent the frame).
		diag, outgoing := a.diag, p.Outgoing
		if m := a.nsDiag.Load(); m != nil && len(*m) > 0 && len(p.Header) >= 12 {
			if d, ok := (*m)[sflow.MAC(p.Header[6:12])]; ok {
				diag, outgoing = d, true
			} else if d, ok := (*m)[sflow.MAC(p.Header[0:6])]; ok {
				diag, outgoing = d, false
			}
		}
		if c, ok := connOf(p.Header, outgoing); ok {
			info := diag.Lookup(c, time.Now())
			if a.cfg.TCP && info.HasTCP {
				if r, err := sflow.NewRecord(tcpRecord(info.TCP, outgoing)); err == nil {
					smp.Records = append(smp.Records, r)
				}
			}
			if ids := a.services.Load(); a.cfg.MarkTraffic && diag == a.diag && info.CgroupID != 0 && ids != nil {
				if idx, ok := (*ids)[info.CgroupID]; ok { // the service owns the local end
					if p.Outgoing {
						ent.SrcClass, ent.SrcIndex = 3, idx
					} else {
						ent.DstClass, ent.DstIndex = 3, idx
					}
					hasEnt = true
				}
			}
		}
	}
	if hasEnt {
		if r, err := sflow.NewRecord(&ent); err == nil {
			smp.Records = append(smp.Records, r)
		}
	}
	if p.Outgoing {
		smp.Input, smp.Output = sflow.Interface{Value: sflow.InternalIfIndex}, sflow.Interface{Value: s.Device.Index}
	} else {
		smp.Input, smp.Output = sflow.Interface{Value: s.Device.Index}, sflow.Interface{Value: sflow.InternalIfIndex}
	}
	a.mu.Lock()
	smp.Sequence = a.next(uint64(sflow.FlowSample)<<40 | uint64(s.Device.Index))
	a.flows = append(a.flows, smp)
	a.size += 40 // the sample's own fields
	for _, r := range smp.Records {
		a.size += 8 + len(r.Data)
	}
	full := a.size >= maxDatagram-200
	a.mu.Unlock()
	a.FlowSamples.Add(1)
	if full {
		a.flush()
	}
}

// entities says which containers sent and received a frame, by their MACs.
func (a *Agent) entities(frame []byte) (sflow.ExtendedEntities, bool) {
	var e sflow.ExtendedEntities
	macs := a.macs.Load()
	if macs == nil || len(*macs) == 0 || len(frame) < 12 {
		return e, false
	}
	var dst, src sflow.MAC
	copy(dst[:], frame[0:6])
	copy(src[:], frame[6:12])
	if i, ok := (*macs)[src]; ok {
		e.SrcClass, e.SrcIndex = 3, i
	}
	if i, ok := (*macs)[dst]; ok {
		e.DstClass, e.DstIndex = 3, i
	}
	return e, e.SrcIndex != 0 || e.DstIndex != 0
}

// next returns the next sequence number of a data source's samples.
func (a *Agent) next(key uint64) uint32 {
	a.seqs[key]++
	return a.seqs[key]
}

func (a *Agent) flush() {
	a.mu.Lock()
	flows := a.flows
	a.flows, a.size = nil, 0
	a.mu.Unlock()
	if len(flows) > 0 {
		a.send(flows)
	}
}

// poll sends the host's, the interfaces' and the containers' counters,
// as many datagrams as they need.
func (a *Agent) poll() {
	ifs := Interfaces(a.host.Sys)
	descr, adapters, cpu, mem, disk, nio := a.host.Descr(), Adapters(ifs), a.host.CPU(), a.host.Memory(), a.host.Disk(), a.host.NetIO()
	ip, icmp, tcp, udp := a.host.MIB2()
	hostRecs := records(&descr, &adapters, &cpu, &mem, &disk, &nio, &ip, &icmp, &tcp, &udp)
	var containers []sflow.Sample
	if a.cfg.Docker {
		var node sflow.Record
		node, containers = a.containerSamples(mem, cpu, a.docker.Ended())
		hostRecs = append(hostRecs, node)
	}
	if a.cfg.Systemd {
		containers = append(containers, a.serviceSamples(mem)...)
	}
	a.mu.Lock()
	all := []sflow.Sample{{Format: sflow.CounterSample, SourceClass: hostClass, SourceIndex: hostIndex,
		Sequence: a.next(uint64(sflow.CounterSample)<<40 | hostClass<<32 | hostIndex), Records: hostRecs}}
	for _, i := range ifs {
		g, e := i.Counters()
		all = append(all, sflow.Sample{Format: sflow.CounterSample, SourceIndex: i.Index,
			Sequence: a.next(uint64(sflow.CounterSample)<<40 | uint64(i.Index)), Records: records(&g, &e, &sflow.PortName{Name: []byte(i.Name)})})
	}
	a.mu.Unlock()
	all = append(all, containers...)
	a.CounterSamples.Add(uint64(len(all)))
	a.sendPacked(all)
}

// sendPacked sends counter samples in datagrams of at most maxDatagram bytes.
func (a *Agent) sendPacked(all []sflow.Sample) {
	var batch []sflow.Sample
	size := 0
	for _, smp := range all {
		n := 24
		for _, r := range smp.Records {
			n += 8 + len(r.Data)
		}
		if len(batch) > 0 && size+n > maxDatagram {
			a.send(batch)
			batch, size = nil, 0
		}
		batch = append(batch, smp)
		size += n
	}
	if len(batch) > 0 {
		a.send(batch)
	}
}

// pollContainers sends the containers' counters alone, out of turn.
func (a *Agent) pollContainers() {
	_, samples := a.containerSamples(a.host.Memory(), a.host.CPU(), a.docker.Ended())
	a.CounterSamples.Add(uint64(len(samples)))
	a.sendPacked(samples)
}

// records encodes counter structures as records; one that cannot be
// encoded (it never happens for this package's own values) is left out.
func records(vs ...any) []sflow.Record {
	var recs []sflow.Record
	for _, v := range vs {
		if r, err := sflow.NewRecord(v); err == nil {
			recs = append(recs, r)
		}
	}
	return recs
}

// send encodes the samples once and sends the datagram to every collector
// with that collector's own sequence number.
func (a *Agent) send(samples []sflow.Sample) {
	d := sflow.Datagram{Version: 5, Agent: a.addr, Uptime: uint32(time.Since(a.start).Milliseconds()), Samples: samples}
	b, err := d.AppendBinary(nil)
	if err != nil {
		a.log.Error("encoding a datagram", "err", err)
		return
	}
	seqAt := 4 + 4 + 4 + 4 // version, address type, IPv4 address, sub-agent
	if a.addr.Is6() {
		seqAt += 12
	}
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	for _, c := range a.conns {
		c.seq++
		binary.BigEndian.PutUint32(b[seqAt:], c.seq)
		if _, err := c.conn.Write(b); err != nil {
			a.SendErrors.Add(1)
			if !c.failed.Swap(true) {
				a.log.Warn("collector unreachable; going on sending", "collector", c.addr, "err", err)
			}
			continue
		}
		if c.failed.Swap(false) {
			a.log.Info("collector reachable again", "collector", c.addr)
		}
		a.Datagrams.Add(1)
	}
}

// tcpRecord is extended_tcp_info for a sampled packet of a local socket:
// sent when the host sent it.
func tcpRecord(t TCPInfo, outgoing bool) *sflow.ExtendedTCPInfo {
	dir := uint32(1) // received
	if outgoing {
		dir = 2
	}
	return &sflow.ExtendedTCPInfo{Direction: dir, SendMSS: t.SendMSS, ReceiveMSS: t.ReceiveMSS, Unacked: t.Unacked, Lost: t.Lost,
		Retrans: t.TotalRetrans, PathMTU: t.PathMTU, RTT: t.RTT, RTTVar: t.RTTVar, SendCwnd: t.SendCwnd, Reordering: t.Reordering,
		RTTMin: t.MinRTT}
}
