package agent

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/flowrt/flowrt/sflow"
)

// The host's counters, read from /proc and /sys into the Host sFlow
// structures (sFlow host counters 0:2000–2010).

// Host reads the host's counters.
type Host struct {
	Proc, Sys string // /proc and /sys (elsewhere in tests)
}

// procFields returns the whitespace-separated fields of each line.
func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func u64(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }

// Descr is host_descr (2000).
func (h Host) Descr() sflow.HostDescr {
	var d sflow.HostDescr
	name, _ := os.Hostname()
	d.Hostname = []byte(name)
	d.OSName = 2 // linux
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		d.OSRelease = []byte(utsString(u.Release[:]))
		d.MachineType = machineType(utsString(u.Machine[:]))
	}
	d.UUID = h.uuid()
	return d
}

func utsString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// machineType is sFlow's machine_type enumeration.
func machineType(m string) uint32 {
	switch {
	case m == "x86_64":
		return 3
	case strings.HasPrefix(m, "i") && strings.HasSuffix(m, "86"):
		return 2
	case m == "ia64":
		return 4
	case strings.HasPrefix(m, "sparc"):
		return 5
	case strings.HasPrefix(m, "ppc") || strings.HasPrefix(m, "powerpc"):
		return 7
	case strings.HasPrefix(m, "mips"):
		return 9
	case strings.HasPrefix(m, "arm") || m == "aarch64":
		return 10
	case strings.HasPrefix(m, "s390"):
		return 12
	}
	return 1
}

// uuid is the DMI product UUID when readable (root), else the machine-id.
func (h Host) uuid() [16]byte {
	var out [16]byte
	for _, p := range []string{filepath.Join(h.Sys, "class/dmi/id/product_uuid"), "/etc/machine-id"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
		if v, err := hex.DecodeString(s); err == nil && len(v) == 16 {
			copy(out[:], v)
			return out
		}
	}
	return out
}

// CPU is host_cpu (2003); times in ms.
func (h Host) CPU() sflow.HostCPU {
	var c sflow.HostCPU
	if f := strings.Fields(strings.Join(readLines(filepath.Join(h.Proc, "loadavg")), " ")); len(f) >= 4 {
		l1, _ := strconv.ParseFloat(f[0], 32)
		l5, _ := strconv.ParseFloat(f[1], 32)
		l15, _ := strconv.ParseFloat(f[2], 32)
		c.LoadOne, c.LoadFive, c.LoadFifteen = float32(l1), float32(l5), float32(l15)
		run, total, _ := strings.Cut(f[3], "/")
		c.ProcRun, c.ProcTotal = uint32(u64(run)), uint32(u64(total))
	}
	c.CPUNum = uint32(runtime.NumCPU())
	const msPerTick = 10 // USER_HZ is 100 on Linux
	for _, l := range readLines(filepath.Join(h.Proc, "stat")) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "cpu":
			t := make([]uint32, 10)
			for i := 0; i < 10 && i+1 < len(f); i++ {
				t[i] = uint32(u64(f[i+1]) * msPerTick)
			}
			c.User, c.Nice, c.System, c.Idle, c.WIO, c.Intr, c.SoftIntr = t[0], t[1], t[2], t[3], t[4], t[5], t[6]
			c.HasSteal, c.Steal, c.Guest, c.GuestNice = true, t[7], t[8], t[9]
		case "intr":
			c.Interrupts = uint32(u64(f[1]))
		case "ctxt":
			c.Contexts = uint32(u64(f[1]))
		}
	}
	if f := strings.Fields(strings.Join(readLines(filepath.Join(h.Proc, "uptime")), " ")); len(f) > 0 {
		up, _ := strconv.ParseFloat(f[0], 64)
		c.Uptime = uint32(up)
	}
	for _, l := range readLines(filepath.Join(h.Proc, "cpuinfo")) {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			c.CPUSpeed = uint32(mhz)
			break
		}
	}
	return c
}

// keyed reads "Name: value [kB]" lines.
func keyed(path string) map[string]uint64 {
	out := map[string]uint64{}
	for _, l := range readLines(path) {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			f := strings.Fields(l) // /proc/vmstat: "name value"
			if len(f) == 2 {
				out[f[0]] = u64(f[1])
			}
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n := u64(f[0])
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[k] = n
	}
	return out
}

// Memory is host_memory (2004); bytes.
func (h Host) Memory() sflow.HostMemory {
	m := keyed(filepath.Join(h.Proc, "meminfo"))
	v := keyed(filepath.Join(h.Proc, "vmstat"))
	return sflow.HostMemory{Total: m["MemTotal"], Free: m["MemFree"], Shared: m["Shmem"], Buffers: m["Buffers"],
		Cached: m["Cached"], SwapTotal: m["SwapTotal"], SwapFree: m["SwapFree"],
		PageIn: uint32(v["pgpgin"]), PageOut: uint32(v["pgpgout"]), SwapIn: uint32(v["pswpin"]), SwapOut: uint32(v["pswpout"])}
}

// localFS are the file systems whose space counts as the host's disk.
var localFS = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "zfs": true,
	"f2fs": true, "jfs": true, "reiserfs": true, "vfat": true, "overlay": false}

// Disk is host_disk_io (2005): space of local file systems (each device
// once), I/O of whole disks from /proc/diskstats.
func (h Host) Disk() sflow.HostDisk {
	var d sflow.HostDisk
	seen := map[string]bool{}
	for _, l := range readLines(filepath.Join(h.Proc, "mounts")) {
		f := strings.Fields(l)
		if len(f) < 3 || !localFS[f[2]] || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		var st syscall.Statfs_t
		if syscall.Statfs(f[1], &st) != nil || st.Blocks == 0 {
			continue
		}
		total, free := st.Blocks*uint64(st.Bsize), st.Bavail*uint64(st.Bsize)
		d.Total += total
		d.Free += free
		used := uint32((st.Blocks - st.Bfree) * 10000 / st.Blocks)
		d.PartitionMaxUsed = max(d.PartitionMaxUsed, used)
	}
	for _, l := range readLines(filepath.Join(h.Proc, "diskstats")) {
		f := strings.Fields(l)
		if len(f) < 14 || !wholeDisk(h.Sys, f[2]) {
			continue
		}
		d.Reads += uint32(u64(f[3]))
		d.BytesRead += u64(f[5]) * 512
		d.ReadTime += uint32(u64(f[6]))
		d.Writes += uint32(u64(f[7]))
		d.BytesWritten += u64(f[9]) * 512
		d.WriteTime += uint32(u64(f[10]))
	}
	return d
}

// wholeDisk: a block device that is not a partition, loop, ram or dm device.
func wholeDisk(sys, name string) bool {
	if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "dm-") || strings.HasPrefix(name, "zram") {
		return false
	}
	if _, err := os.Stat(filepath.Join(sys, "block", name)); err != nil {
		return false // partitions live under their disk
	}
	return true
}

// NetIO is host_net_io (2006): every interface but loopback.
func (h Host) NetIO() sflow.HostNetIO {
	var n sflow.HostNetIO
	for _, l := range readLines(filepath.Join(h.Proc, "net/dev")) {
		name, rest, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 12 {
			continue
		}
		n.BytesIn += u64(f[0])
		n.PktsIn += uint32(u64(f[1]))
		n.ErrsIn += uint32(u64(f[2]))
		n.DropsIn += uint32(u64(f[3]))
		n.BytesOut += u64(f[8])
		n.PktsOut += uint32(u64(f[9]))
		n.ErrsOut += uint32(u64(f[10]))
		n.DropsOut += uint32(u64(f[11]))
	}
	return n
}

// snmp reads /proc/net/snmp: "Ip: names…" then "Ip: values…".
func (h Host) snmp() map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	lines := readLines(filepath.Join(h.Proc, "net/snmp"))
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 {
			continue
		}
		group := strings.TrimSuffix(names[0], ":")
		m := map[string]uint64{}
		for j := 1; j < len(names); j++ {
			v, err := strconv.ParseInt(values[j], 10, 64) // MaxConn is -1
			if err == nil {
				m[names[j]] = uint64(v)
			}
		}
		out[group] = m
	}
	return out
}

// MIB2 returns the IP, ICMP, TCP and UDP groups (2007–2010).
func (h Host) MIB2() (sflow.MIB2IP, sflow.MIB2ICMP, sflow.MIB2TCP, sflow.MIB2UDP) {
	s := h.snmp()
	g := func(group, name string) uint32 { return uint32(s[group][name]) }
	ip := sflow.MIB2IP{Forwarding: g("Ip", "Forwarding"), DefaultTTL: g("Ip", "DefaultTTL"), InReceives: g("Ip", "InReceives"),
		InHdrErrors: g("Ip", "InHdrErrors"), InAddrErrors: g("Ip", "InAddrErrors"), ForwDatagrams: g("Ip", "ForwDatagrams"),
		InUnknownProtos: g("Ip", "InUnknownProtos"), InDiscards: g("Ip", "InDiscards"), InDelivers: g("Ip", "InDelivers"),
		OutRequests: g("Ip", "OutRequests"), OutDiscards: g("Ip", "OutDiscards"), OutNoRoutes: g("Ip", "OutNoRoutes"),
		ReasmTimeout: g("Ip", "ReasmTimeout"), ReasmReqds: g("Ip", "ReasmReqds"), ReasmOKs: g("Ip", "ReasmOKs"),
		ReasmFails: g("Ip", "ReasmFails"), FragOKs: g("Ip", "FragOKs"), FragFails: g("Ip", "FragFails"), FragCreates: g("Ip", "FragCreates")}
	icmp := sflow.MIB2ICMP{InMsgs: g("Icmp", "InMsgs"), InErrors: g("Icmp", "InErrors"), InDestUnreachs: g("Icmp", "InDestUnreachs"),
		InTimeExcds: g("Icmp", "InTimeExcds"), InParamProbs: g("Icmp", "InParmProbs"), InSrcQuenchs: g("Icmp", "InSrcQuenchs"),
		InRedirects: g("Icmp", "InRedirects"), InEchos: g("Icmp", "InEchos"), InEchoReps: g("Icmp", "InEchoReps"),
		InTimestamps: g("Icmp", "InTimestamps"), InAddrMasks: g("Icmp", "InAddrMasks"), InAddrMaskReps: g("Icmp", "InAddrMaskReps"),
		OutMsgs: g("Icmp", "OutMsgs"), OutErrors: g("Icmp", "OutErrors"), OutDestUnreachs: g("Icmp", "OutDestUnreachs"),
		OutTimeExcds: g("Icmp", "OutTimeExcds"), OutParamProbs: g("Icmp", "OutParmProbs"), OutSrcQuenchs: g("Icmp", "OutSrcQuenchs"),
		OutRedirects: g("Icmp", "OutRedirects"), OutEchos: g("Icmp", "OutEchos"), OutEchoReps: g("Icmp", "OutEchoReps"),
		OutTimestamps: g("Icmp", "OutTimestamps"), OutTimestampReps: g("Icmp", "OutTimestampReps"),
		OutAddrMasks: g("Icmp", "OutAddrMasks"), OutAddrMaskReps: g("Icmp", "OutAddrMaskReps")}
	tcp := sflow.MIB2TCP{RtoAlgorithm: g("Tcp", "RtoAlgorithm"), RtoMin: g("Tcp", "RtoMin"), RtoMax: g("Tcp", "RtoMax"),
		MaxConn: g("Tcp", "MaxConn"), ActiveOpens: g("Tcp", "ActiveOpens"), PassiveOpens: g("Tcp", "PassiveOpens"),
		AttemptFails: g("Tcp", "AttemptFails"), EstabResets: g("Tcp", "EstabResets"), CurrEstab: g("Tcp", "CurrEstab"),
		InSegs: g("Tcp", "InSegs"), OutSegs: g("Tcp", "OutSegs"), RetransSegs: g("Tcp", "RetransSegs"), InErrs: g("Tcp", "InErrs"),
		OutRsts: g("Tcp", "OutRsts"), InCsumErrors: g("Tcp", "InCsumErrors")}
	udp := sflow.MIB2UDP{InDatagrams: g("Udp", "InDatagrams"), NoPorts: g("Udp", "NoPorts"), InErrors: g("Udp", "InErrors"),
		OutDatagrams: g("Udp", "OutDatagrams"), RcvbufErrors: g("Udp", "RcvbufErrors"), SndbufErrors: g("Udp", "SndbufErrors"),
		InCsumErrors: g("Udp", "InCsumErrors")}
	return ip, icmp, tcp, udp
}
