package sflow

// Counter records (counter_data), in wire order. See flowrecords.go for the
// meaning of the struct tags.

// GenericInterface (0:1): RFC 2233 interface counters.
type GenericInterface struct {
	Index            uint32 `sflowtool:"ifIndex"`
	Type             uint32 `sflowtool:"networkType"`
	Speed            uint64 `sflowtool:"ifSpeed"`
	Direction        uint32 `sflowtool:"ifDirection"` // 0 unknown, 1 full, 2 half, 3 in, 4 out
	Status           uint32 `sflowtool:"ifStatus"`    // bit 0 admin up, bit 1 oper up
	InOctets         uint64 `sflowtool:"ifInOctets"`
	InUcastPkts      uint32 `sflowtool:"ifInUcastPkts"`
	InMulticastPkts  uint32 `sflowtool:"ifInMulticastPkts"`
	InBroadcastPkts  uint32 `sflowtool:"ifInBroadcastPkts"`
	InDiscards       uint32 `sflowtool:"ifInDiscards"`
	InErrors         uint32 `sflowtool:"ifInErrors"`
	InUnknownProtos  uint32 `sflowtool:"ifInUnknownProtos"`
	OutOctets        uint64 `sflowtool:"ifOutOctets"`
	OutUcastPkts     uint32 `sflowtool:"ifOutUcastPkts"`
	OutMulticastPkts uint32 `sflowtool:"ifOutMulticastPkts"`
	OutBroadcastPkts uint32 `sflowtool:"ifOutBroadcastPkts"`
	OutDiscards      uint32 `sflowtool:"ifOutDiscards"`
	OutErrors        uint32 `sflowtool:"ifOutErrors"`
	PromiscuousMode  uint32 `sflowtool:"ifPromiscuousMode"`
}

// EthernetInterface (0:2): RFC 2358 dot3 statistics.
type EthernetInterface struct {
	AlignmentErrors           uint32 `sflowtool:"dot3StatsAlignmentErrors"`
	FCSErrors                 uint32 `sflowtool:"dot3StatsFCSErrors"`
	SingleCollisionFrames     uint32 `sflowtool:"dot3StatsSingleCollisionFrames"`
	MultipleCollisionFrames   uint32 `sflowtool:"dot3StatsMultipleCollisionFrames"`
	SQETestErrors             uint32 `sflowtool:"dot3StatsSQETestErrors"`
	DeferredTransmissions     uint32 `sflowtool:"dot3StatsDeferredTransmissions"`
	LateCollisions            uint32 `sflowtool:"dot3StatsLateCollisions"`
	ExcessiveCollisions       uint32 `sflowtool:"dot3StatsExcessiveCollisions"`
	InternalMacTransmitErrors uint32 `sflowtool:"dot3StatsInternalMacTransmitErrors"`
	CarrierSenseErrors        uint32 `sflowtool:"dot3StatsCarrierSenseErrors"`
	FrameTooLongs             uint32 `sflowtool:"dot3StatsFrameTooLongs"`
	InternalMacReceiveErrors  uint32 `sflowtool:"dot3StatsInternalMacReceiveErrors"`
	SymbolErrors              uint32 `sflowtool:"dot3StatsSymbolErrors"`
}

// TokenRing (0:3): RFC 1748 dot5 statistics.
type TokenRing struct {
	LineErrors         uint32 `sflowtool:"dot5StatsLineErrors"`
	BurstErrors        uint32 `sflowtool:"dot5StatsBurstErrors"`
	ACErrors           uint32 `sflowtool:"dot5StatsACErrors"`
	AbortTransErrors   uint32 `sflowtool:"dot5StatsAbortTransErrors"`
	InternalErrors     uint32 `sflowtool:"dot5StatsInternalErrors"`
	LostFrameErrors    uint32 `sflowtool:"dot5StatsLostFrameErrors"`
	ReceiveCongestions uint32 `sflowtool:"dot5StatsReceiveCongestions"`
	FrameCopiedErrors  uint32 `sflowtool:"dot5StatsFrameCopiedErrors"`
	TokenErrors        uint32 `sflowtool:"dot5StatsTokenErrors"`
	SoftErrors         uint32 `sflowtool:"dot5StatsSoftErrors"`
	HardErrors         uint32 `sflowtool:"dot5StatsHardErrors"`
	SignalLoss         uint32 `sflowtool:"dot5StatsSignalLoss"`
	TransmitBeacons    uint32 `sflowtool:"dot5StatsTransmitBeacons"`
	Recoverys          uint32 `sflowtool:"dot5StatsRecoverys"`
	LobeWires          uint32 `sflowtool:"dot5StatsLobeWires"`
	Removes            uint32 `sflowtool:"dot5StatsRemoves"`
	Singles            uint32 `sflowtool:"dot5StatsSingles"`
	FreqErrors         uint32 `sflowtool:"dot5StatsFreqErrors"`
}

// VG (0:4): RFC 2020 100BaseVG statistics.
type VG struct {
	InHighPriorityFrames    uint32 `sflowtool:"dot12InHighPriorityFrames"`
	InHighPriorityOctets    uint64 `sflowtool:"dot12InHighPriorityOctets"`
	InNormPriorityFrames    uint32 `sflowtool:"dot12InNormPriorityFrames"`
	InNormPriorityOctets    uint64 `sflowtool:"dot12InNormPriorityOctets"`
	InIPMErrors             uint32 `sflowtool:"dot12InIPMErrors"`
	InOversizeFrameErrors   uint32 `sflowtool:"dot12InOversizeFrameErrors"`
	InDataErrors            uint32 `sflowtool:"dot12InDataErrors"`
	InNullAddressedFrames   uint32 `sflowtool:"dot12InNullAddressedFrames"`
	OutHighPriorityFrames   uint32 `sflowtool:"dot12OutHighPriorityFrames"`
	OutHighPriorityOctets   uint64 `sflowtool:"dot12OutHighPriorityOctets"`
	TransitionIntoTrainings uint32 `sflowtool:"dot12TransitionIntoTrainings"`
	HCInHighPriorityOctets  uint64 `sflowtool:"dot12HCInHighPriorityOctets"`
	HCInNormPriorityOctets  uint64 `sflowtool:"dot12HCInNormPriorityOctets"`
	HCOutHighPriorityOctets uint64 `sflowtool:"dot12HCOutHighPriorityOctets"`
}

// VLAN (0:5).
type VLAN struct {
	ID            uint32 `sflowtool:"in_vlan"`
	Octets        uint64 `sflowtool:"octets"`
	UcastPkts     uint32 `sflowtool:"ucastPkts"`
	MulticastPkts uint32 `sflowtool:"multicastPkts"`
	BroadcastPkts uint32 `sflowtool:"broadcastPkts"`
	Discards      uint32 `sflowtool:"discards"`
}

// IEEE80211 (0:6): 802.11 MIB counters.
type IEEE80211 struct {
	TransmittedFragmentCount       uint32 `sflowtool:"dot11TransmittedFragmentCount"`
	MulticastTransmittedFrameCount uint32 `sflowtool:"dot11MulticastTransmittedFrameCount"`
	FailedCount                    uint32 `sflowtool:"dot11FailedCount"`
	RetryCount                     uint32 `sflowtool:"dot11RetryCount"`
	MultipleRetryCount             uint32 `sflowtool:"dot11MultipleRetryCount"`
	FrameDuplicateCount            uint32 `sflowtool:"dot11FrameDuplicateCount"`
	RTSSuccessCount                uint32 `sflowtool:"dot11RTSSuccessCount"`
	RTSFailureCount                uint32 `sflowtool:"dot11RTSFailureCount"`
	ACKFailureCount                uint32 `sflowtool:"dot11ACKFailureCount"`
	ReceivedFragmentCount          uint32 `sflowtool:"dot11ReceivedFragmentCount"`
	MulticastReceivedFrameCount    uint32 `sflowtool:"dot11MulticastReceivedFrameCount"`
	FCSErrorCount                  uint32 `sflowtool:"dot11FCSErrorCount"`
	TransmittedFrameCount          uint32 `sflowtool:"dot11TransmittedFrameCount"`
	WEPUndecryptableCount          uint32 `sflowtool:"dot11WEPUndecryptableCount"`
	QoSDiscardedFragmentCount      uint32 `sflowtool:"dot11QoSDiscardedFragmentCount"`
	AssociatedStationCount         uint32 `sflowtool:"dot11AssociatedStationCount"`
	QoSCFPollsReceivedCount        uint32 `sflowtool:"dot11QoSCFPollsReceivedCount"`
	QoSCFPollsUnusedCount          uint32 `sflowtool:"dot11QoSCFPollsUnusedCount"`
	QoSCFPollsUnusableCount        uint32 `sflowtool:"dot11QoSCFPollsUnusableCount"`
	QoSCFPollsLostCount            uint32 `sflowtool:"dot11QoSCFPollsLostCount"`
}

// LAGPort (0:7): IEEE 802.3ad link aggregation port statistics.
type LAGPort struct {
	ActorSystemID        MAC     `sflowtool:"actorSystemID"`
	PartnerSystemID      MAC     `sflowtool:"partnerSystemID"`
	AttachedAggID        uint32  `sflowtool:"attachedAggID"`
	PortState            [4]byte `sflowtool:"portState,lacpstate"` // actor admin, actor oper, partner admin, partner oper
	LACPDUsRx            uint32  `sflowtool:"LACPDUsRx"`
	MarkerPDUsRx         uint32  `sflowtool:"markerPDUsRx"`
	MarkerResponsePDUsRx uint32  `sflowtool:"markerResponsePDUsRx"`
	UnknownRx            uint32  `sflowtool:"unknownRx"`
	IllegalRx            uint32  `sflowtool:"illegalRx"`
	LACPDUsTx            uint32  `sflowtool:"LACPDUsTx"`
	MarkerPDUsTx         uint32  `sflowtool:"markerPDUsTx"`
	MarkerResponsePDUsTx uint32  `sflowtool:"markerResponsePDUsTx"`
}

// SFPLane is one lane of an optical module.
type SFPLane struct {
	Index         uint32
	TxBiasCurrent uint32 // µA
	TxPower       uint32 // µW
	TxPowerMin    uint32
	TxPowerMax    uint32
	TxWavelength  uint32 // nm
	RxPower       uint32 // µW
	RxPowerMin    uint32
	RxPowerMax    uint32
	RxWavelength  uint32
}

// SFP (0:10): optical module (SFP/QSFP) diagnostics.
type SFP struct {
	ModuleID      uint32
	TotalLanes    uint32
	SupplyVoltage uint32 // mV
	Temperature   int32  // thousandths of a degree C
	Lanes         []SFPLane
}

// Processor (0:1001): switch CPU and memory.
type Processor struct {
	CPU5s       uint32 `sflowtool:"5s_cpu,pct"` // hundredths of a percent
	CPU1m       uint32 `sflowtool:"1m_cpu,pct"`
	CPU5m       uint32 `sflowtool:"5m_cpu,pct"`
	TotalMemory uint64 `sflowtool:"total_memory_bytes"`
	FreeMemory  uint64 `sflowtool:"free_memory_bytes"`
}

// Radio (0:1002): 802.11 radio utilisation.
type Radio struct {
	ElapsedTime       uint32 `sflowtool:"radio_elapsed_time"`
	OnChannelTime     uint32 `sflowtool:"radio_on_channel_time"`
	OnChannelBusyTime uint32 `sflowtool:"radio_on_channel_busy_time"`
}

// OpenFlowPort (0:1004).
type OpenFlowPort struct {
	DatapathID uint64 `sflowtool:"openflow_datapath_id,hex16"`
	Port       uint32 `sflowtool:"openflow_port"`
}

// PortName (0:1005).
type PortName struct {
	Name []byte `sflowtool:"ifName,nonempty"`
}

// HostDescr (0:2000).
type HostDescr struct {
	Hostname    []byte   `sflowtool:"hostname,nonempty"`
	UUID        [16]byte `sflowtool:"UUID,uuid"`
	MachineType uint32   `sflowtool:"machine_type"`
	OSName      uint32   `sflowtool:"os_name"`
	OSRelease   []byte   `sflowtool:"os_release,nonempty"`
}

// Adapter is one network adapter of a host and its MAC addresses.
type Adapter struct {
	IfIndex uint32
	MACs    []MAC
}

// HostAdapters (0:2001).
type HostAdapters struct {
	Adapters []Adapter
}

// HostParent (0:2002): the data source containing this one (a VM's host).
type HostParent struct {
	ContainerType  uint32 `sflowtool:"parent_dsClass"`
	ContainerIndex uint32 `sflowtool:"parent_dsIndex"`
}

// HostCPU (0:2003). Times are in milliseconds.
type HostCPU struct {
	LoadOne     float32 `sflowtool:"cpu_load_one,float"`
	LoadFive    float32 `sflowtool:"cpu_load_five,float"`
	LoadFifteen float32 `sflowtool:"cpu_load_fifteen,float"`
	ProcRun     uint32  `sflowtool:"cpu_proc_run"`
	ProcTotal   uint32  `sflowtool:"cpu_proc_total"`
	CPUNum      uint32  `sflowtool:"cpu_num"`
	CPUSpeed    uint32  `sflowtool:"cpu_speed"`  // MHz
	Uptime      uint32  `sflowtool:"cpu_uptime"` // seconds
	User        uint32  `sflowtool:"cpu_user"`
	Nice        uint32  `sflowtool:"cpu_nice"`
	System      uint32  `sflowtool:"cpu_system"`
	Idle        uint32  `sflowtool:"cpu_idle"`
	WIO         uint32  `sflowtool:"cpu_wio"`
	Intr        uint32  `sflowtool:"cpuintr"`
	SoftIntr    uint32  `sflowtool:"cpu_sintr"`
	Interrupts  uint32  `sflowtool:"cpuinterrupts"`
	Contexts    uint32  `sflowtool:"cpu_contexts"`
	HasSteal    bool    `xdr:"more"` // steal/guest were added in 2014
	Steal       uint32  `sflowtool:"cpu_steal"`
	Guest       uint32  `sflowtool:"cpu_guest"`
	GuestNice   uint32  `sflowtool:"cpu_guest_nice"`
}

// HostMemory (0:2004). Sizes in bytes.
type HostMemory struct {
	Total     uint64 `sflowtool:"mem_total"`
	Free      uint64 `sflowtool:"mem_free"`
	Shared    uint64 `sflowtool:"mem_shared"`
	Buffers   uint64 `sflowtool:"mem_buffers"`
	Cached    uint64 `sflowtool:"mem_cached"`
	SwapTotal uint64 `sflowtool:"swap_total"`
	SwapFree  uint64 `sflowtool:"swap_free"`
	PageIn    uint32 `sflowtool:"page_in"`
	PageOut   uint32 `sflowtool:"page_out"`
	SwapIn    uint32 `sflowtool:"swap_in"`
	SwapOut   uint32 `sflowtool:"swap_out"`
}

// HostDisk (0:2005).
type HostDisk struct {
	Total            uint64 `sflowtool:"disk_total"`
	Free             uint64 `sflowtool:"disk_free"`
	PartitionMaxUsed uint32 `sflowtool:"disk_partition_max_used,pct"` // hundredths of a percent
	Reads            uint32 `sflowtool:"disk_reads"`
	BytesRead        uint64 `sflowtool:"disk_bytes_read"`
	ReadTime         uint32 `sflowtool:"disk_read_time"` // ms
	Writes           uint32 `sflowtool:"disk_writes"`
	BytesWritten     uint64 `sflowtool:"disk_bytes_written"`
	WriteTime        uint32 `sflowtool:"disk_write_time"`
}

// HostNetIO (0:2006).
type HostNetIO struct {
	BytesIn  uint64 `sflowtool:"nio_bytes_in"`
	PktsIn   uint32 `sflowtool:"nio_pkts_in"`
	ErrsIn   uint32 `sflowtool:"nio_errs_in"`
	DropsIn  uint32 `sflowtool:"nio_drops_in"`
	BytesOut uint64 `sflowtool:"nio_bytes_out"`
	PktsOut  uint32 `sflowtool:"nio_pkts_out"`
	ErrsOut  uint32 `sflowtool:"nio_errs_out"`
	DropsOut uint32 `sflowtool:"nio_drops_out"`
}

// MIB2IP (0:2007): RFC 4293 IP group.
type MIB2IP struct {
	Forwarding      uint32 `sflowtool:"ipForwarding"`
	DefaultTTL      uint32 `sflowtool:"ipDefaultTTL"`
	InReceives      uint32 `sflowtool:"ipInReceives"`
	InHdrErrors     uint32 `sflowtool:"ipInHdrErrors"`
	InAddrErrors    uint32 `sflowtool:"ipInAddrErrors"`
	ForwDatagrams   uint32 `sflowtool:"ipForwDatagrams"`
	InUnknownProtos uint32 `sflowtool:"ipInUnknownProtos"`
	InDiscards      uint32 `sflowtool:"ipInDiscards"`
	InDelivers      uint32 `sflowtool:"ipInDelivers"`
	OutRequests     uint32 `sflowtool:"ipOutRequests"`
	OutDiscards     uint32 `sflowtool:"ipOutDiscards"`
	OutNoRoutes     uint32 `sflowtool:"ipOutNoRoutes"`
	ReasmTimeout    uint32 `sflowtool:"ipReasmTimeout"`
	ReasmReqds      uint32 `sflowtool:"ipReasmReqds"`
	ReasmOKs        uint32 `sflowtool:"ipReasmOKs"`
	ReasmFails      uint32 `sflowtool:"ipReasmFails"`
	FragOKs         uint32 `sflowtool:"ipFragOKs"`
	FragFails       uint32 `sflowtool:"ipFragFails"`
	FragCreates     uint32 `sflowtool:"ipFragCreates"`
}

// MIB2ICMP (0:2008): RFC 4293 ICMP group.
type MIB2ICMP struct {
	InMsgs           uint32 `sflowtool:"icmpInMsgs"`
	InErrors         uint32 `sflowtool:"icmpInErrors"`
	InDestUnreachs   uint32 `sflowtool:"icmpInDestUnreachs"`
	InTimeExcds      uint32 `sflowtool:"icmpInTimeExcds"`
	InParamProbs     uint32 `sflowtool:"icmpInParamProbs"`
	InSrcQuenchs     uint32 `sflowtool:"icmpInSrcQuenchs"`
	InRedirects      uint32 `sflowtool:"icmpInRedirects"`
	InEchos          uint32 `sflowtool:"icmpInEchos"`
	InEchoReps       uint32 `sflowtool:"icmpInEchoReps"`
	InTimestamps     uint32 `sflowtool:"icmpInTimestamps"`
	InAddrMasks      uint32 `sflowtool:"icmpInAddrMasks"`
	InAddrMaskReps   uint32 `sflowtool:"icmpInAddrMaskReps"`
	OutMsgs          uint32 `sflowtool:"icmpOutMsgs"`
	OutErrors        uint32 `sflowtool:"icmpOutErrors"`
	OutDestUnreachs  uint32 `sflowtool:"icmpOutDestUnreachs"`
	OutTimeExcds     uint32 `sflowtool:"icmpOutTimeExcds"`
	OutParamProbs    uint32 `sflowtool:"icmpOutParamProbs"`
	OutSrcQuenchs    uint32 `sflowtool:"icmpOutSrcQuenchs"`
	OutRedirects     uint32 `sflowtool:"icmpOutRedirects"`
	OutEchos         uint32 `sflowtool:"icmpOutEchos"`
	OutEchoReps      uint32 `sflowtool:"icmpOutEchoReps"`
	OutTimestamps    uint32 `sflowtool:"icmpOutTimestamps"`
	OutTimestampReps uint32 `sflowtool:"icmpOutTimestampReps"`
	OutAddrMasks     uint32 `sflowtool:"icmpOutAddrMasks"`
	OutAddrMaskReps  uint32 `sflowtool:"icmpOutAddrMaskReps"`
}

// MIB2TCP (0:2009): RFC 4022 TCP group.
type MIB2TCP struct {
	RtoAlgorithm uint32 `sflowtool:"tcpRtoAlgorithm"`
	RtoMin       uint32 `sflowtool:"tcpRtoMin"`
	RtoMax       uint32 `sflowtool:"tcpRtoMax"`
	MaxConn      uint32 `sflowtool:"tcpMaxConn"`
	ActiveOpens  uint32 `sflowtool:"tcpActiveOpens"`
	PassiveOpens uint32 `sflowtool:"tcpPassiveOpens"`
	AttemptFails uint32 `sflowtool:"tcpAttemptFails"`
	EstabResets  uint32 `sflowtool:"tcpEstabResets"`
	CurrEstab    uint32 `sflowtool:"tcpCurrEstab"`
	InSegs       uint32 `sflowtool:"tcpInSegs"`
	OutSegs      uint32 `sflowtool:"tcpOutSegs"`
	RetransSegs  uint32 `sflowtool:"tcpRetransSegs"`
	InErrs       uint32 `sflowtool:"tcpInErrs"`
	OutRsts      uint32 `sflowtool:"tcpOutRsts"`
	InCsumErrors uint32 `sflowtool:"tcpInCsumErrors"`
}

// MIB2UDP (0:2010): RFC 4113 UDP group.
type MIB2UDP struct {
	InDatagrams  uint32 `sflowtool:"udpInDatagrams"`
	NoPorts      uint32 `sflowtool:"udpNoPorts"`
	InErrors     uint32 `sflowtool:"udpInErrors"`
	OutDatagrams uint32 `sflowtool:"udpOutDatagrams"`
	RcvbufErrors uint32 `sflowtool:"udpRcvbufErrors"`
	SndbufErrors uint32 `sflowtool:"udpSndbufErrors"`
	InCsumErrors uint32 `sflowtool:"udpInCsumErrors"`
}

// VirtNode (0:2100): hypervisor.
type VirtNode struct {
	MHz        uint32 `sflowtool:"vnode_mhz"`
	CPUs       uint32 `sflowtool:"vnode_cpus"`
	Memory     uint64 `sflowtool:"vnode_memory"`
	MemoryFree uint64 `sflowtool:"vnode_memory_free"`
	NumDomains uint32 `sflowtool:"vnode_num_domains"`
}

// VirtCPU (0:2101): a virtual machine or container's CPU.
type VirtCPU struct {
	State    uint32 `sflowtool:"vcpu_state"`
	CPUTime  uint32 `sflowtool:"vcpu_cpu_mS"`
	CPUCount uint32 `sflowtool:"vcpu_cpuCount"`
}

// VirtMemory (0:2102).
type VirtMemory struct {
	Memory    uint64 `sflowtool:"vmem_memory"`
	MaxMemory uint64 `sflowtool:"vmem_maxMemory"`
}

// VirtDisk (0:2103).
type VirtDisk struct {
	Capacity   uint64 `sflowtool:"vdsk_capacity"`
	Allocation uint64 `sflowtool:"vdsk_allocation"`
	Available  uint64 `sflowtool:"vdsk_available"`
	RdReq      uint32 `sflowtool:"vdsk_rd_req"`
	RdBytes    uint64 `sflowtool:"vdsk_rd_bytes"`
	WrReq      uint32 `sflowtool:"vdsk_wr_req"`
	WrBytes    uint64 `sflowtool:"vdsk_wr_bytes"`
	Errs       uint32 `sflowtool:"vdsk_errs"`
}

// VirtNetIO (0:2104).
type VirtNetIO struct {
	BytesIn  uint64 `sflowtool:"vnio_bytes_in"`
	PktsIn   uint32 `sflowtool:"vnio_pkts_in"`
	ErrsIn   uint32 `sflowtool:"vnio_errs_in"`
	DropsIn  uint32 `sflowtool:"vnio_drops_in"`
	BytesOut uint64 `sflowtool:"vnio_bytes_out"`
	PktsOut  uint32 `sflowtool:"vnio_pkts_out"`
	ErrsOut  uint32 `sflowtool:"vnio_errs_out"`
	DropsOut uint32 `sflowtool:"vnio_drops_out"`
}

// JVMRuntime (0:2105).
type JVMRuntime struct {
	Name    []byte `sflowtool:"jvm_name,nonempty"`
	Vendor  []byte `sflowtool:"jvm_vendor,nonempty"`
	Version []byte `sflowtool:"jvm_version,nonempty"`
}

// JVMStatistics (0:2106): JMX counters.
type JVMStatistics struct {
	HeapInitial      uint64 `sflowtool:"heap_mem_initial"`
	HeapUsed         uint64 `sflowtool:"heap_mem_used"`
	HeapCommitted    uint64 `sflowtool:"heap_mem_committed"`
	HeapMax          uint64 `sflowtool:"heap_mem_max"`
	NonHeapInitial   uint64 `sflowtool:"non_heap_mem_initial"`
	NonHeapUsed      uint64 `sflowtool:"non_heap_mem_used"`
	NonHeapCommitted uint64 `sflowtool:"non_heap_mem_committed"`
	NonHeapMax       uint64 `sflowtool:"non_heap_mem_max"`
	GCCount          uint32 `sflowtool:"gc_count"`
	GCTime           uint32 `sflowtool:"gc_mS"`
	ClassesLoaded    uint32 `sflowtool:"classes_loaded"`
	ClassesTotal     uint32 `sflowtool:"classes_total"`
	ClassesUnloaded  uint32 `sflowtool:"classes_unloaded"`
	CompilationTime  uint32 `sflowtool:"compilation_mS"`
	ThreadsLive      uint32 `sflowtool:"threads_live"`
	ThreadsDaemon    uint32 `sflowtool:"threads_daemon"`
	ThreadsStarted   uint32 `sflowtool:"threads_started"`
	HasFDs           bool   `xdr:"more"`
	FDsOpen          uint32 `sflowtool:"fds_open"`
	FDsMax           uint32 `sflowtool:"fds_max"`
}

// MemcacheCounters (0:2200, deprecated by 0:2204).
type MemcacheCounters struct {
	Uptime               uint32 `sflowtool:"memcache_uptime"`
	RusageUser           uint32 `sflowtool:"memcache_rusage_user"`
	RusageSystem         uint32 `sflowtool:"memcache_rusage_system"`
	CurrConnections      uint32 `sflowtool:"memcache_curr_connections"`
	TotalConnections     uint32 `sflowtool:"memcache_total_connections"`
	ConnectionStructures uint32 `sflowtool:"memcache_connection_structures"`
	CmdGet               uint32 `sflowtool:"memcache_cmd_get"`
	CmdSet               uint32 `sflowtool:"memcache_cmd_set"`
	CmdFlush             uint32 `sflowtool:"memcache_cmd_flush"`
	GetHits              uint32 `sflowtool:"memcache_get_hits"`
	GetMisses            uint32 `sflowtool:"memcache_get_misses"`
	DeleteMisses         uint32 `sflowtool:"memcache_delete_misses"`
	DeleteHits           uint32 `sflowtool:"memcache_delete_hits"`
	IncrMisses           uint32 `sflowtool:"memcache_incr_misses"`
	IncrHits             uint32 `sflowtool:"memcache_incr_hits"`
	DecrMisses           uint32 `sflowtool:"memcache_decr_misses"`
	DecrHits             uint32 `sflowtool:"memcache_decr_hits"`
	CasMisses            uint32 `sflowtool:"memcache_cas_misses"`
	CasHits              uint32 `sflowtool:"memcache_cas_hits"`
	CasBadval            uint32 `sflowtool:"memcache_cas_badval"`
	AuthCmds             uint32 `sflowtool:"memcache_auth_cmds"`
	AuthErrors           uint32 `sflowtool:"memcache_auth_errors"`
	BytesRead            uint64 `sflowtool:"memcache_bytes_read"`
	BytesWritten         uint64 `sflowtool:"memcache_bytes_written"`
	LimitMaxbytes        uint32 `sflowtool:"memcache_limit_maxbytes"`
	AcceptingConns       uint32 `sflowtool:"memcache_accepting_conns"`
	ListenDisabledNum    uint32 `sflowtool:"memcache_listen_disabled_num"`
	Threads              uint32 `sflowtool:"memcache_threads"`
	ConnYields           uint32 `sflowtool:"memcache_conn_yields"`
	Bytes                uint64 `sflowtool:"memcache_bytes"`
	CurrItems            uint32 `sflowtool:"memcache_curr_items"`
	TotalItems           uint32 `sflowtool:"memcache_total_items"`
	Evictions            uint32 `sflowtool:"memcache_evictions"`
}

// HTTPCounters (0:2201).
type HTTPCounters struct {
	MethodOption  uint32 `sflowtool:"http_method_option_count"`
	MethodGet     uint32 `sflowtool:"http_method_get_count"`
	MethodHead    uint32 `sflowtool:"http_method_head_count"`
	MethodPost    uint32 `sflowtool:"http_method_post_count"`
	MethodPut     uint32 `sflowtool:"http_method_put_count"`
	MethodDelete  uint32 `sflowtool:"http_method_delete_count"`
	MethodTrace   uint32 `sflowtool:"http_method_trace_count"`
	MethodConnect uint32 `sflowtool:"http_methd_connect_count"`
	MethodOther   uint32 `sflowtool:"http_method_other_count"`
	Status1XX     uint32 `sflowtool:"http_status_1XX_count"`
	Status2XX     uint32 `sflowtool:"http_status_2XX_count"`
	Status3XX     uint32 `sflowtool:"http_status_3XX_count"`
	Status4XX     uint32 `sflowtool:"http_status_4XX_count"`
	Status5XX     uint32 `sflowtool:"http_status_5XX_count"`
	StatusOther   uint32 `sflowtool:"http_status_other_count"`
}

// AppCounters (0:2202): transaction outcomes of an application.
type AppCounters struct {
	Application          []byte `sflowtool:"application,nonempty"`
	StatusOK             uint32 `sflowtool:"status_OK"`
	ErrorsOther          uint32 `sflowtool:"errors_OTHER"`
	ErrorsTimeout        uint32 `sflowtool:"errors_TIMEOUT"`
	ErrorsInternalError  uint32 `sflowtool:"errors_INTERNAL_ERROR"`
	ErrorsBadRequest     uint32 `sflowtool:"errors_BAD_REQUEST"`
	ErrorsForbidden      uint32 `sflowtool:"errors_FORBIDDEN"`
	ErrorsTooLarge       uint32 `sflowtool:"errors_TOO_LARGE"`
	ErrorsNotImplemented uint32 `sflowtool:"errors_NOT_IMPLEMENTED"`
	ErrorsNotFound       uint32 `sflowtool:"errors_NOT_FOUND"`
	ErrorsUnavailable    uint32 `sflowtool:"errors_UNAVAILABLE"`
	ErrorsUnauthorized   uint32 `sflowtool:"errors_UNAUTHORIZED"`
}

// AppResources (0:2203).
type AppResources struct {
	UserTime        uint32 `sflowtool:"user_time"`
	SystemTime      uint32 `sflowtool:"system_time"`
	MemoryUsed      uint64 `sflowtool:"memory_used"`
	MemoryMax       uint64 `sflowtool:"memory_max"`
	FilesOpen       uint32 `sflowtool:"files_open"`
	FilesMax        uint32 `sflowtool:"files_max"`
	ConnectionsOpen uint32 `sflowtool:"connections_open"`
	ConnectionsMax  uint32 `sflowtool:"connections_max"`
}

// MemcacheCounters2 (0:2204).
type MemcacheCounters2 struct {
	CmdSet               uint32 `sflowtool:"memcache_cmd_set"`
	CmdTouch             uint32 `sflowtool:"memcache_cmd_touch"`
	CmdFlush             uint32 `sflowtool:"memcache_cmd_flush"`
	GetHits              uint32 `sflowtool:"memcache_get_hits"`
	GetMisses            uint32 `sflowtool:"memcache_get_misses"`
	DeleteHits           uint32 `sflowtool:"memcache_delete_hits"`
	DeleteMisses         uint32 `sflowtool:"memcache_delete_misses"`
	IncrHits             uint32 `sflowtool:"memcache_incr_hits"`
	IncrMisses           uint32 `sflowtool:"memcache_incr_misses"`
	DecrHits             uint32 `sflowtool:"memcache_decr_hits"`
	DecrMisses           uint32 `sflowtool:"memcache_decr_misses"`
	CasHits              uint32 `sflowtool:"memcache_cas_hits"`
	CasMisses            uint32 `sflowtool:"memcache_cas_misses"`
	CasBadval            uint32 `sflowtool:"memcache_cas_badval"`
	AuthCmds             uint32 `sflowtool:"memcache_auth_cmds"`
	AuthErrors           uint32 `sflowtool:"memcache_auth_errors"`
	Threads              uint32 `sflowtool:"memcache_threads"`
	ConnYields           uint32 `sflowtool:"memcache_conn_yields"`
	ListenDisabledNum    uint32 `sflowtool:"memcache_listen_disabled_num"`
	CurrConnections      uint32 `sflowtool:"memcache_curr_connections"`
	RejectedConnections  uint32 `sflowtool:"memcache_rejected_connections"`
	TotalConnections     uint32 `sflowtool:"memcache_total_connections"`
	ConnectionStructures uint32 `sflowtool:"memcache_connection_structures"`
	Evictions            uint32 `sflowtool:"memcache_evictions"`
	Reclaimed            uint32 `sflowtool:"memcache_reclaimed"`
	CurrItems            uint32 `sflowtool:"memcache_curr_items"`
	TotalItems           uint32 `sflowtool:"memcache_total_items"`
	BytesRead            uint64 `sflowtool:"memcache_bytes_read"`
	BytesWritten         uint64 `sflowtool:"memcache_bytes_written"`
	Bytes                uint64 `sflowtool:"memcache_bytes"`
	LimitMaxbytes        uint64 `sflowtool:"memcache_limit_maxbytes"`
}

// VDI (0:2205): virtual desktop session counters.
type VDI struct {
	SessionsCurrent  uint32 `sflowtool:"vdi_sessions_current"`
	SessionsTotal    uint32 `sflowtool:"vdi_sessions_total"`
	SessionsDuration uint32 `sflowtool:"vdi_sessions_duration"`
	RxBytes          uint32 `sflowtool:"vdi_rx_bytes"`
	TxBytes          uint32 `sflowtool:"vdi_tx_bytes"`
	RxPackets        uint32 `sflowtool:"vdi_rx_packets"`
	TxPackets        uint32 `sflowtool:"vdi_tx_packets"`
	RxPacketsLost    uint32 `sflowtool:"vdi_rx_packets_lost"`
	TxPacketsLost    uint32 `sflowtool:"vdi_tx_packets_lost"`
	RTTMin           uint32 `sflowtool:"vdi_rtt_min_ms"`
	RTTMax           uint32 `sflowtool:"vdi_rtt_max_ms"`
	RTTAvg           uint32 `sflowtool:"vdi_rtt_avg_ms"`
	AudioRxBytes     uint32 `sflowtool:"vdi_audio_rx_bytes"`
	AudioTxBytes     uint32 `sflowtool:"vdi_audio_tx_bytes"`
	AudioTxLimit     uint32 `sflowtool:"vdi_audio_tx_limit"`
	ImgRxBytes       uint32 `sflowtool:"vdi_img_rx_bytes"`
	ImgTxBytes       uint32 `sflowtool:"vdi_img_tx_bytes"`
	ImgFrames        uint32 `sflowtool:"vdi_img_frames"`
	ImgQualMin       uint32 `sflowtool:"vdi_img_qual_min"`
	ImgQualMax       uint32 `sflowtool:"vdi_img_qual_max"`
	ImgQualAvg       uint32 `sflowtool:"vdi_img_qual_avg"`
	USBRxBytes       uint32 `sflowtool:"vdi_usb_rx_bytes"`
	USBTxBytes       uint32 `sflowtool:"vdi_usb_tx_bytes"`
}

// AppWorkers (0:2206).
type AppWorkers struct {
	Active          uint32 `sflowtool:"workers_active"`
	Idle            uint32 `sflowtool:"workers_idle"`
	Max             uint32 `sflowtool:"workers_max"`
	RequestsDelayed uint32 `sflowtool:"requests_delayed"`
	RequestsDropped uint32 `sflowtool:"requests_dropped"`
}

// OVSDatapath (0:2207): Open vSwitch datapath statistics.
type OVSDatapath struct {
	Hits     uint32 `sflowtool:"OVS_dp_hits"`
	Misses   uint32 `sflowtool:"OVS_dp_misses"`
	Lost     uint32 `sflowtool:"OVS_dp_lost"`
	MaskHits uint32 `sflowtool:"OVS_dp_mask_hits"`
	Flows    uint32 `sflowtool:"OVS_dp_flows"`
	Masks    uint32 `sflowtool:"OVS_dp_masks"`
}

// NVIDIAGPU (5703:1): NVML GPU counters, summed over a host's devices.
type NVIDIAGPU struct {
	DeviceCount uint32 `sflowtool:"nvml_device_count"`
	Processes   uint32 `sflowtool:"nvml_processes"`
	GPUTime     uint32 `sflowtool:"nvml_gpu_mS"`
	MemTime     uint32 `sflowtool:"nvml_mem_mS"`
	MemTotal    uint64 `sflowtool:"nvml_mem_bytes_total"`
	MemFree     uint64 `sflowtool:"nvml_mem_bytes_free"`
	ECCErrors   uint32 `sflowtool:"nvml_ecc_errors"`
	Energy      uint32 `sflowtool:"nvml_energy_mJ"`
	Temperature uint32 `sflowtool:"nvml_temperature_C"`
	FanSpeed    uint32 `sflowtool:"nvml_fan_speed_pc"`
}

// BroadcomTables (4413:3): switch ASIC table utilisation.
type BroadcomTables struct {
	HostEntries           uint32 `sflowtool:"bcm_asic_host_entries"`
	HostEntriesMax        uint32 `sflowtool:"bcm_host_entries_max"`
	IPv4Entries           uint32 `sflowtool:"bcm_ipv4_entries"`
	IPv4EntriesMax        uint32 `sflowtool:"bcm_ipv4_entries_max"`
	IPv6Entries           uint32 `sflowtool:"bcm_ipv6_entries"`
	IPv6EntriesMax        uint32 `sflowtool:"bcm_ipv6_entries_max"`
	IPv4IPv6Entries       uint32 `sflowtool:"bcm_ipv4_ipv6_entries"`
	IPv4IPv6EntriesMax    uint32 `sflowtool:"bcm_ipv4_ipv6_entries_max"`
	LongIPv6Entries       uint32 `sflowtool:"bcm_long_ipv6_entries"`
	LongIPv6EntriesMax    uint32 `sflowtool:"bcm_long_ipv6_entries_max"`
	TotalRoutes           uint32 `sflowtool:"bcm_total_routes"`
	TotalRoutesMax        uint32 `sflowtool:"bcm_total_routes_max"`
	ECMPNexthops          uint32 `sflowtool:"bcm_ecmp_nexthops"`
	ECMPNexthopsMax       uint32 `sflowtool:"bcm_ecmp_nexthops_max"`
	MACEntries            uint32 `sflowtool:"bcm_mac_entries"`
	MACEntriesMax         uint32 `sflowtool:"bcm_mac_entries_max"`
	IPv4Neighbors         uint32 `sflowtool:"bcm_ipv4_neighbors"`
	IPv6Neighbors         uint32 `sflowtool:"bcm_ipv6_neighbors"`
	IPv4Routes            uint32 `sflowtool:"bcm_ipv4_routes"`
	IPv6Routes            uint32 `sflowtool:"bcm_ipv6_routes"`
	ACLIngressEntries     uint32 `sflowtool:"bcm_acl_ingress_entries"`
	ACLIngressEntriesMax  uint32 `sflowtool:"bcm_acl_ingress_entries_max"`
	ACLIngressCounters    uint32 `sflowtool:"bcm_acl_ingress_counters"`
	ACLIngressCountersMax uint32 `sflowtool:"bcm_acl_ingress_counters_max"`
	ACLIngressMeters      uint32 `sflowtool:"bcm_acl_ingress_meters"`
	ACLIngressMetersMax   uint32 `sflowtool:"bcm_acl_ingress_meters_max"`
	ACLIngressSlices      uint32 `sflowtool:"bcm_acl_ingress_slices"`
	ACLIngressSlicesMax   uint32 `sflowtool:"bcm_acl_ingress_slices_max"`
	ACLEgressEntries      uint32 `sflowtool:"bcm_acl_egress_entries"`
	ACLEgressEntriesMax   uint32 `sflowtool:"bcm_acl_egress_entries_max"`
	ACLEgressCounters     uint32 `sflowtool:"bcm_acl_egress_counters"`
	ACLEgressCountersMax  uint32 `sflowtool:"bcm_acl_egress_counters_max"`
	ACLEgressMeters       uint32 `sflowtool:"bcm_acl_egress_meters"`
	ACLEgressMetersMax    uint32 `sflowtool:"bcm_acl_egress_meters_max"`
	ACLEgressSlices       uint32 `sflowtool:"bcm_acl_egress_slices"`
	ACLEgressSlicesMax    uint32 `sflowtool:"bcm_acl_egress_slices_max"`
}
