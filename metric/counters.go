package metric

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/sflow"
)

// Apply adds one decoded counter record (a pointer to one of package
// sflow's counter structures) to the set. Structures without metrics are
// ignored.
func (s *Set) Apply(rec any) {
	switch r := rec.(type) {
	case *sflow.GenericInterface:
		s.ifCounters(r)
	case *sflow.EthernetInterface:
		s.fields(r)
	case *sflow.Processor:
		s.Gauge("cpu_5sec", float64(r.CPU5s)/100)
		s.Gauge("cpu_1min", float64(r.CPU1m)/100)
		s.Gauge("cpu_5min", float64(r.CPU5m)/100)
		s.Gauge("mem_total", float64(r.TotalMemory))
		s.Gauge("mem_free", float64(r.FreeMemory))
		if r.TotalMemory > 0 {
			s.Gauge("mem_utilization", 100*float64(r.TotalMemory-min(r.FreeMemory, r.TotalMemory))/float64(r.TotalMemory))
		}
	case *sflow.PortName:
		s.String("ifname", r.Name)
	case *sflow.OpenFlowPort:
		s.Text("of_dpid", fmt.Sprintf("%016x", r.DatapathID))
		s.Gauge("of_port", float64(r.Port))
	case *sflow.HostDescr:
		s.String("host_name", r.Hostname)
		s.Text("uuid", uuid(r.UUID))
		s.Text("machine_type", enumName(machineTypes, r.MachineType))
		s.Text("os_name", enumName(osNames, r.OSName))
		s.String("os_release", r.OSRelease)
		if s.logical {
			s.virtualHost(r)
		}
	case *sflow.HostCPU:
		s.hostCPU(r)
	case *sflow.HostMemory:
		s.hostMemory(r)
	case *sflow.HostDisk:
		s.hostDisk(r)
	case *sflow.HostNetIO:
		s.netIO("", r)
	case *sflow.MIB2IP:
		s.fields(r)
	case *sflow.MIB2ICMP:
		s.fields(r)
	case *sflow.MIB2TCP:
		s.fields(r)
	case *sflow.MIB2UDP:
		s.fields(r)
	case *sflow.VirtNode:
		s.Gauge("vir_node_mhz", float64(r.MHz))
		s.Gauge("vir_node_cpus", float64(r.CPUs))
		s.Gauge("vir_node_memory", float64(r.Memory))
		s.Gauge("vir_node_memory_free", float64(r.MemoryFree))
		s.Gauge("vir_node_domains", float64(r.NumDomains))
	case *sflow.VirtCPU:
		s.Gauge("vir_cpu_state", float64(r.State))
		s.Gauge("vir_cpu_count", float64(r.CPUCount))
		if ms, ok := s.Delta32("vir_cpu_ms", r.CPUTime); ok && s.dt > 0 {
			s.Gauge("vir_cpu_utilization", 100*ms/1000/s.dt)
		}
	case *sflow.VirtMemory:
		s.Gauge("vir_mem_memory", float64(r.Memory))
		s.Gauge("vir_mem_maxmemory", float64(r.MaxMemory))
		if r.MaxMemory > 0 {
			s.Gauge("vir_mem_utilization", 100*float64(r.Memory)/float64(r.MaxMemory))
		}
	case *sflow.VirtDisk:
		s.Gauge("vir_disk_capacity", float64(r.Capacity))
		s.Gauge("vir_disk_allocation", float64(r.Allocation))
		s.Gauge("vir_disk_available", float64(r.Available))
		s.Counter32("vir_disk_rd_req", r.RdReq)
		s.Counter64("vir_disk_rd_bytes", r.RdBytes)
		s.Counter32("vir_disk_wr_req", r.WrReq)
		s.Counter64("vir_disk_wr_bytes", r.WrBytes)
		s.Counter32("vir_disk_errs", r.Errs)
	case *sflow.VirtNetIO:
		s.netIO("vir_", (*sflow.HostNetIO)(r)) // the same structure, for a virtual machine
	case *sflow.JVMRuntime:
		s.String("jvm_name", r.Name)
		s.String("jvm_vendor", r.Vendor)
		s.String("jvm_version", r.Version)
	case *sflow.LAGPort:
		s.Text("agg_actorsystemid", hex.EncodeToString(r.ActorSystemID[:]))
		s.Text("agg_partnersystemid", hex.EncodeToString(r.PartnerSystemID[:]))
		// dot3adAggPortPartnerOperSystemID, by the LAG-MIB name that
		// sflow-test and ix-metrics read; the short name stays for
		// flowrt's existing users.
		s.Text("agg_partneropersystemid", hex.EncodeToString(r.PartnerSystemID[:]))
		s.Gauge("agg_attachedaggid", float64(r.AttachedAggID))
		s.Counter32("agg_lacpdusrx", r.LACPDUsRx)
		s.Counter32("agg_lacpdustx", r.LACPDUsTx)
		s.Counter32("agg_markerpdusrx", r.MarkerPDUsRx)
		s.Counter32("agg_markerpdustx", r.MarkerPDUsTx)
		s.Counter32("agg_unknownrx", r.UnknownRx)
		s.Counter32("agg_illegalrx", r.IllegalRx)
	case *sflow.SFP:
		s.Gauge("opt_module_id", float64(r.ModuleID))
		s.Gauge("opt_module_lanes", float64(r.TotalLanes))
		s.Gauge("opt_supply_voltage", float64(r.SupplyVoltage)/1000)
		s.Gauge("opt_temperature", float64(r.Temperature)/1000)
		if len(r.Lanes) > 0 { // the first lane: what a single-lane module reports
			l := r.Lanes[0]
			s.Gauge("opt_tx_bias_current", float64(l.TxBiasCurrent))
			s.Gauge("opt_tx_power", float64(l.TxPower))
			s.Gauge("opt_rx_power", float64(l.RxPower))
		}
	case *sflow.BroadcomTables:
		s.applyGeneric(r)
		s.bcmUtilizations(r)
	case *sflow.NVIDIAGPU:
		s.applyGeneric(r)
		// A container's or virtual machine's share of GPU time, in ms of
		// GPU time per second, as sunburst's GPU view ranks them.
		if ms, ok := s.Delta32("vir_nvml_gputime", r.GPUTime); ok && s.logical && s.dt > 0 {
			s.Gauge("vir_nvml_gputime", ms/s.dt)
		}
	default:
		s.applyGeneric(rec)
	}
}

var ifTypes = map[uint32]string{1: "other", 6: "ethernetCsmacd", 7: "iso88023Csmacd", 9: "iso88025TokenRing",
	23: "ppp", 24: "softwareLoopback", 53: "propVirtual", 71: "ieee80211", 131: "tunnel", 135: "l2vlan",
	136: "l3ipvlan", 161: "ieee8023adLag", 209: "bridge"}

var directions = [...]string{"unknown", "full-duplex", "half-duplex", "in", "out"}

func upDown(b bool) string {
	if b {
		return "up"
	}
	return "down"
}

func (s *Set) ifCounters(r *sflow.GenericInterface) {
	s.Gauge("ifindex", float64(r.Index))
	if name, ok := ifTypes[r.Type]; ok {
		s.Text("iftype", name)
	} else {
		s.Text("iftype", strconv.FormatUint(uint64(r.Type), 10))
	}
	s.Gauge("ifspeed", float64(r.Speed))
	if int(r.Direction) < len(directions) {
		s.Text("ifdirection", directions[r.Direction])
	}
	s.Text("ifadminstatus", upDown(r.Status&1 != 0))
	s.Text("ifoperstatus", upDown(r.Status&2 != 0))
	inOctets, okIn := s.Counter64("ifinoctets", r.InOctets)
	iu, ok1 := s.Counter32("ifinucastpkts", r.InUcastPkts)
	im, ok2 := s.Counter32("ifinmulticastpkts", r.InMulticastPkts)
	ib, ok3 := s.Counter32("ifinbroadcastpkts", r.InBroadcastPkts)
	s.Counter32("ifindiscards", r.InDiscards)
	s.Counter32("ifinerrors", r.InErrors)
	s.Counter32("ifinunknownprotos", r.InUnknownProtos)
	outOctets, okOut := s.Counter64("ifoutoctets", r.OutOctets)
	ou, ok4 := s.Counter32("ifoutucastpkts", r.OutUcastPkts)
	om, ok5 := s.Counter32("ifoutmulticastpkts", r.OutMulticastPkts)
	ob, ok6 := s.Counter32("ifoutbroadcastpkts", r.OutBroadcastPkts)
	s.Counter32("ifoutdiscards", r.OutDiscards)
	s.Counter32("ifouterrors", r.OutErrors)
	if ok1 && ok2 && ok3 {
		s.Gauge("ifinpkts", iu+im+ib)
	}
	if ok4 && ok5 && ok6 {
		s.Gauge("ifoutpkts", ou+om+ob)
	}
	if r.Speed > 0 {
		if okIn {
			s.Gauge("ifinutilization", inOctets*800/float64(r.Speed))
		}
		if okOut {
			s.Gauge("ifoututilization", outOctets*800/float64(r.Speed))
		}
	}
}

var ethNames = map[string]string{
	"AlignmentErrors": "alignmenterrors", "FCSErrors": "fcserrors", "SingleCollisionFrames": "singlecollisions",
	"MultipleCollisionFrames": "multiplecollisions", "SQETestErrors": "sqetesterrors",
	"DeferredTransmissions": "deferredtx", "LateCollisions": "latecollision",
	"ExcessiveCollisions": "excessivecollisions", "InternalMacTransmitErrors": "internalmactxerrors",
	"CarrierSenseErrors": "carriersenseerrors", "FrameTooLongs": "frametoolongs",
	"InternalMacReceiveErrors": "internalmacrxerrors", "SymbolErrors": "symbolerrors",
}

// mib2Gauges are the MIB-2 fields that are settings or current levels, not
// counters.
var mib2Gauges = map[string]string{"ipForwarding": "", "ipDefaultTTL": "", "tcpRtoAlgorithm": "",
	"tcpRtoMin": "", "tcpRtoMax": "", "tcpMaxConn": "", "tcpCurrEstab": ""}

type fieldPlan struct {
	names []string
	gauge []bool
	index []int
}

var plans = map[reflect.Type]*fieldPlan{}

func init() {
	for _, c := range []struct {
		v      any
		prefix string
		names  map[string]string
	}{{sflow.EthernetInterface{}, "eth_", ethNames}, {sflow.MIB2IP{}, "", mib2Gauges},
		{sflow.MIB2ICMP{}, "", nil}, {sflow.MIB2TCP{}, "", mib2Gauges}, {sflow.MIB2UDP{}, "", nil}} {
		t := reflect.TypeOf(c.v)
		p := &fieldPlan{}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type.Kind() != reflect.Uint32 {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("sflowtool"), ",")
			var name string
			var gauge bool
			if c.prefix == "eth_" {
				name = "eth_" + c.names[f.Name]
			} else {
				// ipInReceives → ip_inreceives, the sFlow-RT style of
				// prefix_lowercase.
				j := strings.IndexFunc(tag, func(r rune) bool { return r >= 'A' && r <= 'Z' })
				name = strings.ToLower(tag[:j] + "_" + tag[j:])
				_, gauge = c.names[tag]
			}
			p.names = append(p.names, name)
			p.gauge = append(p.gauge, gauge)
			p.index = append(p.index, i)
		}
		plans[t] = p
	}
}

// fields applies a structure of uint32 counters through its plan.
func (s *Set) fields(rec any) {
	v := reflect.ValueOf(rec).Elem()
	p := plans[v.Type()]
	for i, fi := range p.index {
		x := uint32(v.Field(fi).Uint())
		if p.gauge[i] {
			s.Gauge(p.names[i], float64(x))
		} else {
			s.Counter32(p.names[i], x)
		}
	}
}

func (s *Set) hostCPU(r *sflow.HostCPU) {
	s.Gauge("load_one", float64(r.LoadOne))
	s.Gauge("load_five", float64(r.LoadFive))
	s.Gauge("load_fifteen", float64(r.LoadFifteen))
	if r.CPUNum > 0 {
		s.Gauge("load_one_per_cpu", float64(r.LoadOne)/float64(r.CPUNum))
		s.Gauge("load_five_per_cpu", float64(r.LoadFive)/float64(r.CPUNum))
		s.Gauge("load_fifteen_per_cpu", float64(r.LoadFifteen)/float64(r.CPUNum))
	}
	s.Gauge("proc_run", float64(r.ProcRun))
	s.Gauge("proc_total", float64(r.ProcTotal))
	s.Gauge("cpu_num", float64(r.CPUNum))
	s.Gauge("cpu_speed", float64(r.CPUSpeed))
	s.Gauge("host_uptime", float64(r.Uptime))
	s.Gauge("uptime", float64(r.Uptime)) // seconds; the name ix-metrics reads (2.1.uptime)
	s.Counter32("cpu_interrupts", r.Interrupts)
	s.Counter32("cpu_contexts", r.Contexts)
	// Per-state times are ms counters: each state's share of their total
	// movement is its percentage.
	states := [...]struct {
		name string
		v    uint32
	}{{"cpu_user", r.User}, {"cpu_nice", r.Nice}, {"cpu_system", r.System}, {"cpu_idle", r.Idle},
		{"cpu_wio", r.WIO}, {"cpu_intr", r.Intr}, {"cpu_sintr", r.SoftIntr}, {"cpu_steal", r.Steal},
		{"cpu_guest", r.Guest}, {"cpu_guest_nice", r.GuestNice}}
	n := len(states)
	if !r.HasSteal {
		n = 7
	}
	var d [10]float64
	total, ok := 0.0, true
	for i := range n {
		var got bool
		d[i], got = s.Delta32(states[i].name, states[i].v)
		ok = ok && got
		total += d[i]
	}
	if !ok || total <= 0 {
		return
	}
	for i := range n {
		s.Gauge(states[i].name, 100*d[i]/total)
	}
	s.Gauge("cpu_utilization", 100*(total-d[3]-d[4])/total)
}

func (s *Set) hostMemory(r *sflow.HostMemory) {
	s.Gauge("mem_total", float64(r.Total))
	s.Gauge("mem_free", float64(r.Free))
	s.Gauge("mem_shared", float64(r.Shared))
	s.Gauge("mem_buffers", float64(r.Buffers))
	s.Gauge("mem_cached", float64(r.Cached))
	s.Gauge("swap_total", float64(r.SwapTotal))
	s.Gauge("swap_free", float64(r.SwapFree))
	s.Counter32("page_in", r.PageIn)
	s.Counter32("page_out", r.PageOut)
	s.Counter32("swap_in", r.SwapIn)
	s.Counter32("swap_out", r.SwapOut)
	if r.Total > 0 {
		used := float64(r.Total) - float64(r.Free) - float64(r.Buffers) - float64(r.Cached)
		s.Gauge("mem_used", max(used, 0))
		s.Gauge("mem_utilization", 100*max(used, 0)/float64(r.Total))
	}
	if r.SwapTotal > 0 {
		s.Gauge("swap_utilization", 100*float64(r.SwapTotal-min(r.SwapFree, r.SwapTotal))/float64(r.SwapTotal))
	}
}

func (s *Set) hostDisk(r *sflow.HostDisk) {
	s.Gauge("disk_total", float64(r.Total))
	s.Gauge("disk_free", float64(r.Free))
	if r.Total > 0 {
		s.Gauge("disk_utilization", 100*float64(r.Total-min(r.Free, r.Total))/float64(r.Total))
	}
	s.Gauge("part_max_used", float64(r.PartitionMaxUsed)/100)
	s.Counter32("disk_reads", r.Reads)
	s.Counter64("disk_bytes_read", r.BytesRead)
	s.Counter32("disk_read_time", r.ReadTime)
	s.Counter32("disk_writes", r.Writes)
	s.Counter64("disk_bytes_written", r.BytesWritten)
	s.Counter32("disk_write_time", r.WriteTime)
}

// Enumerations of the host_descr structure (sFlow Host Structures).
var (
	osNames = []string{"unknown", "other", "linux", "windows", "darwin", "hpux", "aix", "dragonfly",
		"freebsd", "netbsd", "openbsd", "osf", "solaris", "java"}
	machineTypes = []string{"unknown", "other", "x86", "x86_64", "ia64", "sparc", "alpha", "powerpc",
		"m68k", "mips", "arm", "hppa", "s390"}
)

func enumName(names []string, v uint32) string {
	if int(v) < len(names) {
		return names[v]
	}
	return strconv.FormatUint(uint64(v), 10)
}

func uuid(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Set) netIO(prefix string, r *sflow.HostNetIO) {
	s.Counter64(prefix+"bytes_in", r.BytesIn)
	s.Counter32(prefix+"pkts_in", r.PktsIn)
	s.Counter32(prefix+"errs_in", r.ErrsIn)
	s.Counter32(prefix+"drops_in", r.DropsIn)
	s.Counter64(prefix+"bytes_out", r.BytesOut)
	s.Counter32(prefix+"pkts_out", r.PktsOut)
	s.Counter32(prefix+"errs_out", r.ErrsOut)
	s.Counter32(prefix+"drops_out", r.DropsOut)
}
