// Package synth makes realistic sFlow traffic for tests, benchmarks and
// flowrt send: agents with ports, flows whose sizes follow a Zipf law, a
// protocol mix (TCP, UDP, DNS queries, ICMP port unreachable), flow samples
// with real Ethernet/IP headers and counter samples every polling interval,
// with every sequence number right. The same seed gives the same traffic.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/flowrt/flowrt/sflow"
)

// Config describes the traffic.
type Config struct {
	Agents          int     // agents (10.255.x.y)
	Ports           int     // sampled ports per agent
	Flows           int     // distinct flows
	Zipf            float64 // exponent of the flow-size law (1.1: a few large flows, a long tail)
	SamplingRate    uint32
	SamplesPerDgram int
	Mix             []Proto // protocols, chosen per flow round robin
	Seed            uint64
	// Hosts adds a Host sFlow data source (2.1) to each agent's counters:
	// host_descr (Linux, host-<n>) and host_cpu with load_one = HostLoad(n).
	Hosts bool
	// Discards adds one discarded-packet sample (sFlow drops extension,
	// format 5) to every datagram: a packet of a Zipf-picked flow, dropped
	// on input for one of DropReasons in turn, as browse-drops shows them.
	Discards bool
	// Containers adds that many containers to each agent's counters, as
	// Host sFlow's container modules report them: logical data sources
	// (class 3, index 2 …) with a host_descr named as mod_k8s, mod_systemd,
	// Docker Swarm and mod_docker name them (ContainerNames, in turn) and a
	// virt_cpu whose CPU time grows at ContainerCPU(c) of one CPU.
	Containers int
}

// ContainerNames are the containers' hostnames, in turn: a Kubernetes pod's
// container (namespace shop, pod web-7d9f), a systemd service, a Swarm
// task and a plain Docker container.
var ContainerNames = []string{"k8s_web_web-7d9f_shop_0f3c2a9e-1b2d-4e5f-8a7b-6c5d4e3f2a1b_0",
	"nginx.service", "db.1.x5k2m9p4q7r1s3t6u8v0w2y4z", "redis"}

// ContainerCPU is the share of one CPU the c-th container uses (0.1, 0.2, …).
func ContainerCPU(c int) float64 { return 0.1 * float64(c+1) }

// DropReasons are the reasons the discard samples give, in turn
// (sflow_drops.txt codes: unknown_l3, ttl_exceeded, acl, no_buffer_space).
var DropReasons = []uint32{285, 257, 258, 259}

// Proto is a kind of flow.
type Proto string

// The protocols synth makes.
const (
	TCP         Proto = "tcp"
	UDP         Proto = "udp"
	DNS         Proto = "dns"         // queries to port 53, some for ANY
	Unreachable Proto = "unreachable" // ICMP port unreachable quoting a UDP datagram
	// Reflection is a DNS amplification attack as the victim's switch
	// sees it: large UDP datagrams from port 53 (hping3 --udp -k -s 53).
	Reflection Proto = "reflection"
	// SYNFlood is a TCP SYN flood as the target's switch sees it: minimum
	// size SYNs from many sources to port 80 (hping3 -S -p 80 --flood).
	SYNFlood Proto = "syn"
	// RoCE is RoCEv2 as a GPU cluster's switches see it: UDP to port 4791
	// carrying InfiniBand's base transport header. Most flows are RDMA
	// WRITE Only (opcode 10, with an RDMA extended header whose DMA length
	// is the frame's payload), one in CNPEvery is a congestion notification
	// (opcode 129), as ai-metrics counts them.
	RoCE Proto = "roce"
)

// DTN is a data transfer node's bulk transfer: XRootD (TCP port 1094)
// over IPv6, each sample carrying the sender's kernel TCP state (extended
// tcp_info, 0:2209) as Host sFlow's mod_tcp adds it, and a flow label
// whose bits name a SciTag experiment. The dtn and scitags apps read them.
const DTN Proto = "dtn"

// DTNPort is XRootD's port.
const DTNPort = 1094

// DTNRTT is the round trip time, in µs, the i-th flow's tcp_info reports
// (flows are numbered as Flows returns them).
func DTNRTT(i int) uint32 { return 20_000 + 1000*uint32(i%50) }

// RoCEPort is RoCEv2's UDP port.
const RoCEPort = 4791

// CNPEvery: one RoCE flow in CNPEvery is a congestion notification packet.
const CNPEvery = 8

// DefaultConfig is a small mixed network.
func DefaultConfig() Config {
	return Config{Agents: 4, Ports: 8, Flows: 1000, Zipf: 1.1, SamplingRate: 1000, SamplesPerDgram: 8,
		Mix: []Proto{TCP, UDP, DNS, Unreachable}, Seed: 1}
}

// Flow is one synthetic flow.
type Flow struct {
	Proto    Proto
	Src, Dst netip.Addr
	SrcPort  uint16
	DstPort  uint16
	Size     uint32 // frame length
	QName    string // DNS
	QType    uint16 // DNS
	RTT      uint32 // DTN: tcp_info's round trip time (µs)
	header   []byte
	// Where the header's per-packet fields are, so that each sample is a
	// different packet of the flow (0: none).
	seqAt, idAt int
}

// Key returns the flow as sFlow-RT would key it by ipsource,ipdestination.
func (f *Flow) Key() string { return f.Src.String() + "," + f.Dst.String() }

// Generator makes datagrams.
type Generator struct {
	cfg     Config
	flows   []Flow
	cdf     []float64
	rng     *rand.Rand
	agents  []agentState
	next    int // agent round robin
	scratch sflow.Datagram
	// Sent counts samples per flow index, for checking what a collector saw.
	Sent []uint64
}

type agentState struct {
	addr    netip.Addr
	seq     uint32
	hostSeq uint32
	flowSeq []uint32
	dropSeq []uint32
	drops   int // discard samples sent, for the reason round robin
	contSeq uint32
	ctrSeq  []uint32
	pool    []uint32
	octets  []uint64
	packets []uint32
}

// New makes a generator.
func New(cfg Config) (*Generator, error) {
	d := DefaultConfig()
	if cfg.Agents <= 0 {
		cfg.Agents = d.Agents
	}
	if cfg.Ports <= 0 {
		cfg.Ports = d.Ports
	}
	if cfg.Flows <= 0 {
		cfg.Flows = d.Flows
	}
	if cfg.Zipf <= 0 {
		cfg.Zipf = d.Zipf
	}
	if cfg.SamplingRate == 0 {
		cfg.SamplingRate = d.SamplingRate
	}
	if cfg.SamplesPerDgram <= 0 {
		cfg.SamplesPerDgram = d.SamplesPerDgram
	}
	if len(cfg.Mix) == 0 {
		cfg.Mix = d.Mix
	}
	if cfg.Agents > 65000 {
		return nil, fmt.Errorf("at most 65000 agents")
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5f10)), Sent: make([]uint64, cfg.Flows)}
	total := 0.0
	for i := range cfg.Flows {
		total += 1 / math.Pow(float64(i+1), cfg.Zipf)
		g.cdf = append(g.cdf, total)
	}
	for i := range g.cdf {
		g.cdf[i] /= total
	}
	for i := range cfg.Flows {
		g.flows = append(g.flows, g.makeFlow(i, cfg.Mix[i%len(cfg.Mix)]))
	}
	for i := range cfg.Agents {
		g.agents = append(g.agents, agentState{
			addr:    netip.AddrFrom4([4]byte{10, 255, byte((i + 1) >> 8), byte(i + 1)}),
			flowSeq: make([]uint32, cfg.Ports), dropSeq: make([]uint32, cfg.Ports), ctrSeq: make([]uint32, cfg.Ports),
			pool: make([]uint32, cfg.Ports), octets: make([]uint64, cfg.Ports), packets: make([]uint32, cfg.Ports),
		})
	}
	return g, nil
}

// Flows returns the flows, largest expected first.
func (g *Generator) Flows() []Flow { return g.flows }

// Share returns the expected fraction of samples that flow i gets.
func (g *Generator) Share(i int) float64 {
	if i == 0 {
		return g.cdf[0]
	}
	return g.cdf[i] - g.cdf[i-1]
}

// Agents returns the agent addresses.
func (g *Generator) Agents() []netip.Addr {
	out := make([]netip.Addr, len(g.agents))
	for i, a := range g.agents {
		out[i] = a.addr
	}
	return out
}

// Config returns the configuration in use.
func (g *Generator) Config() Config { return g.cfg }

func (g *Generator) makeFlow(i int, p Proto) Flow {
	f := Flow{Proto: p,
		Src:     netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
		Dst:     netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i%250 + 1)}),
		SrcPort: uint16(1024 + i%60000),
	}
	switch p {
	case TCP:
		f.DstPort, f.Size = []uint16{443, 80, 22, 3306}[i%4], 1514
	case UDP:
		f.DstPort, f.Size = []uint16{4789, 123, 5004, 9999}[i%4], 1000
	case DNS:
		f.DstPort = 53
		f.QName = fmt.Sprintf("host%d.example%d.com", i%97, i%13)
		f.QType = 1
		if i%3 == 0 {
			f.QType = 255
		}
	case Unreachable:
		f.DstPort = uint16(30000 + i%8) // the port quoted in the ICMP message
	case Reflection:
		f.SrcPort, f.DstPort, f.Size = 53, uint16(1024+i%60000), 1400
	case SYNFlood:
		f.DstPort = 80
	case DTN:
		f.Src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
		f.Dst = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 14: byte(i >> 8), 15: byte(i%250 + 1)})
		f.DstPort, f.Size = DTNPort, 9014 // jumbo frames, as DTNs run
		f.RTT = DTNRTT(i)
	case RoCE:
		// The source port is the flow's entropy, as RoCEv2 NICs set it.
		f.SrcPort, f.DstPort, f.Size = uint16(49152+i%16384), RoCEPort, 1086
		if i%CNPEvery == CNPEvery-1 {
			f.Size = 0 // a CNP is a minimum frame
		}
	}
	buildHeader(&f)
	return f
}

// pick draws a flow index by the Zipf law.
func (g *Generator) pick() int {
	i, _ := slices.BinarySearch(g.cdf, g.rng.Float64())
	return min(i, len(g.flows)-1)
}

// Datagram appends the next datagram (flow samples from the next agent) to
// dst, at agent uptime ms.
func (g *Generator) Datagram(dst []byte, uptime uint32) ([]byte, error) {
	a := &g.agents[g.next]
	g.next = (g.next + 1) % len(g.agents)
	d := &g.scratch
	d.Version, d.Agent, d.SubAgentID = 5, a.addr, 0
	a.seq++
	d.Sequence, d.Uptime = a.seq, uptime
	d.Samples = d.Samples[:0]
	for range g.cfg.SamplesPerDgram {
		fi := g.pick()
		g.Sent[fi]++
		f := &g.flows[fi]
		f.nextPacket(g.Sent[fi], g.cfg.SamplingRate)
		port := int(fi) % g.cfg.Ports
		a.flowSeq[port]++
		a.pool[port] += g.cfg.SamplingRate
		a.octets[port] += uint64(f.Size) * uint64(g.cfg.SamplingRate)
		a.packets[port] += g.cfg.SamplingRate
		hdr, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: f.Size, Stripped: 4, Header: f.header})
		if err != nil {
			return dst, err
		}
		recs := []sflow.Record{hdr}
		if f.Proto == DTN {
			ti, err := sflow.NewRecord(&sflow.ExtendedTCPInfo{Direction: 2, SendMSS: 8948, ReceiveMSS: 8948,
				Unacked: 10 + uint32(fi%5), Retrans: uint32(fi % 3), PathMTU: 9000, RTT: f.RTT, RTTVar: f.RTT / 10,
				SendCwnd: 400, RTTMin: f.RTT * 9 / 10})
			if err != nil {
				return dst, err
			}
			recs = append(recs, ti)
		}
		d.Samples = append(d.Samples, sflow.Sample{Format: sflow.FlowSample, Sequence: a.flowSeq[port],
			SourceClass: 0, SourceIndex: uint32(port + 1), SamplingRate: g.cfg.SamplingRate, SamplePool: a.pool[port],
			Input: sflow.Interface{Value: uint32(port + 1)}, Output: sflow.Interface{Value: uint32(100 + port)},
			Records: recs})
	}
	if g.cfg.Discards {
		fi := g.pick()
		f := &g.flows[fi]
		port := fi % g.cfg.Ports
		a.dropSeq[port]++
		reason := DropReasons[a.drops%len(DropReasons)]
		a.drops++
		hdr, err := sflow.NewRecord(&sflow.SampledHeader{Protocol: 1, FrameLength: f.Size, Stripped: 4, Header: f.header})
		if err != nil {
			return dst, err
		}
		d.Samples = append(d.Samples, sflow.Sample{Format: sflow.DiscardedPacketSample, Sequence: a.dropSeq[port],
			SourceIndex: uint32(port + 1), Drops: 0, Input: sflow.Interface{Value: uint32(port + 1)},
			DropReason: reason, Records: []sflow.Record{hdr}})
	}
	d.NumSamples = uint32(len(d.Samples))
	return d.AppendBinary(dst)
}

// The interface counters report one input error per ErrorEvery frames and
// one input discard per DiscardEvery frames (half as many on output).
const (
	ErrorEvery   = 1000
	DiscardEvery = 500
)

// Counters appends one datagram per agent with a generic and an ethernet
// interface counter sample for every port, as agents send every polling
// interval. The counters agree with the flow samples sent so far.
func (g *Generator) Counters(dst [][]byte, uptime uint32) ([][]byte, error) {
	for i := range g.agents {
		a := &g.agents[i]
		d := &g.scratch
		a.seq++
		d.Version, d.Agent, d.Sequence, d.Uptime = 5, a.addr, a.seq, uptime
		d.Samples = d.Samples[:0]
		for p := range g.cfg.Ports {
			a.ctrSeq[p]++
			gen, err := sflow.NewRecord(&sflow.GenericInterface{Index: uint32(p + 1), Type: 6, Speed: 10_000_000_000,
				Direction: 1, Status: 3, InOctets: a.octets[p], InUcastPkts: a.packets[p], OutOctets: a.octets[p] / 2,
				OutUcastPkts: a.packets[p] / 2,
				// Loss, for the Packet loss article's query: one frame in
				// ErrorEvery is an error, one in DiscardEvery a discard.
				InErrors: a.packets[p] / ErrorEvery, InDiscards: a.packets[p] / DiscardEvery,
				OutErrors: a.packets[p] / (2 * ErrorEvery), OutDiscards: a.packets[p] / (2 * DiscardEvery)})
			if err != nil {
				return dst, err
			}
			eth, err := sflow.NewRecord(&sflow.EthernetInterface{})
			if err != nil {
				return dst, err
			}
			d.Samples = append(d.Samples, sflow.Sample{Format: sflow.CounterSample, Sequence: a.ctrSeq[p],
				SourceIndex: uint32(p + 1), Records: []sflow.Record{gen, eth}})
		}
		if g.cfg.Hosts {
			a.hostSeq++
			descr, err := sflow.NewRecord(&sflow.HostDescr{Hostname: []byte(fmt.Sprintf("host-%d", i+1)), OSName: 2,
				MachineType: 3, OSRelease: []byte("6.1.0")})
			if err != nil {
				return dst, err
			}
			cpu, err := sflow.NewRecord(&sflow.HostCPU{LoadOne: float32(HostLoad(i)), CPUNum: 4})
			if err != nil {
				return dst, err
			}
			d.Samples = append(d.Samples, sflow.Sample{Format: sflow.CounterSample, Sequence: a.hostSeq,
				SourceClass: 2, SourceIndex: 1, Records: []sflow.Record{descr, cpu}})
		}
		if g.cfg.Containers > 0 {
			a.contSeq++
		}
		for c := range g.cfg.Containers {
			name := ContainerNames[c%len(ContainerNames)]
			if c >= len(ContainerNames) {
				name = fmt.Sprintf("%s-%d", name, c/len(ContainerNames))
			}
			descr, err := sflow.NewRecord(&sflow.HostDescr{Hostname: []byte(name), OSName: 2, MachineType: 3})
			if err != nil {
				return dst, err
			}
			cpu, err := sflow.NewRecord(&sflow.VirtCPU{State: 1, CPUTime: uint32(float64(uptime) * ContainerCPU(c)), CPUCount: 1})
			if err != nil {
				return dst, err
			}
			d.Samples = append(d.Samples, sflow.Sample{Format: sflow.CounterSample, Sequence: a.contSeq,
				SourceClass: 3, SourceIndex: uint32(c + 2), Records: []sflow.Record{descr, cpu}})
		}
		d.NumSamples = uint32(len(d.Samples))
		b, err := d.AppendBinary(nil)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b)
	}
	return dst, nil
}

// HostLoad is the load_one the i-th agent's host reports (0.25, 0.5, …).
func HostLoad(i int) float64 { return 0.25 * float64(i+1) }
