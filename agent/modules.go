package agent

// Why hsflowd's modules that this agent does not have are absent, for the
// one warning each gets at start ("module dropmon is not supported: …").
var moduleNotes = map[string]string{
	"nflog":   "packet sampling through NFLOG is not built; sample with pcap { dev=… } (in-kernel BPF sampling)",
	"ulog":    "packet sampling through ULOG is not built; sample with pcap { dev=… } (in-kernel BPF sampling)",
	"psample": "packet sampling through psample (switch ASICs, tc sample) is not built; sample with pcap { dev=… }",
	"epcap":   "eBPF sampling is not built; pcap { dev=… } samples in the kernel with classic BPF (measured as cheap: docs/performance.md)",
	"dropmon": "dropped-packet notifications (discard samples) are not sent",
	"json":    "application metrics sent to hsflowd's JSON port are not read",
	"kvm":     "virtual machines (libvirt) are not reported",
	"xen":     "virtual machines (Xen) are not reported",
	"nvml":    "GPU counters (NVIDIA NVML) are not reported",
	"ovs":     "Open vSwitch is not configured by the agent; configure sFlow on the bridge with ovs-vsctl",
	"dnssd":   "collectors are not looked up in DNS-SD; list them with collector { ip=… }",
}

// moduleNote is the reason a module is absent.
func moduleNote(name string) string {
	if n, ok := moduleNotes[name]; ok {
		return n
	}
	return "its settings are ignored (this agent has pcap, docker, containerd, k8s, systemd and tcp)"
}
