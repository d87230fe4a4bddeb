package agent

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowrt/flowrt/sflow"
)

// Iface is a network interface as /sys/class/net shows it.
type Iface struct {
	Name    string
	Index   uint32
	MAC     net.HardwareAddr
	SpeedMb uint64 // link speed in Mb/s (0: unknown, as for veth)
	sys     string
}

// Interfaces lists the interfaces under sys (/sys) except loopback.
func Interfaces(sys string) []Iface {
	dir := filepath.Join(sys, "class/net")
	ents, _ := os.ReadDir(dir)
	var out []Iface
	for _, e := range ents {
		if i, ok := interfaceByName(sys, e.Name()); ok && i.Name != "lo" {
			out = append(out, i)
		}
	}
	return out
}

func interfaceByName(sys, name string) (Iface, bool) {
	d := filepath.Join(sys, "class/net", name)
	idx := u64(readTrim(filepath.Join(d, "ifindex")))
	if idx == 0 {
		return Iface{}, false
	}
	mac, _ := net.ParseMAC(readTrim(filepath.Join(d, "address")))
	speed, err := strconv.ParseInt(readTrim(filepath.Join(d, "speed")), 10, 64)
	if err != nil || speed < 0 {
		speed = 0
	}
	return Iface{Name: name, Index: uint32(idx), MAC: mac, SpeedMb: uint64(speed), sys: d}, true
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// PhysicalDevices are the interfaces with a device behind them (not
// virtual), and docker0 when there is one: what NET=host samples.
func PhysicalDevices() []string {
	var out []string
	for _, i := range Interfaces("/sys") {
		if _, err := os.Stat(filepath.Join(i.sys, "device")); err == nil || i.Name == "docker0" {
			out = append(out, i.Name)
		}
	}
	return out
}

func (i Iface) stat(name string) uint64 {
	return u64(readTrim(filepath.Join(i.sys, "statistics", name)))
}

// Packets is the packets the interface has received and sent: the sample
// pool of a device sampled in both directions.
func (i Iface) Packets() uint64 { return i.stat("rx_packets") + i.stat("tx_packets") }

// Counters returns the generic (0:1) and Ethernet (0:2) counters.
func (i Iface) Counters() (sflow.GenericInterface, sflow.EthernetInterface) {
	flags, _ := strconv.ParseUint(strings.TrimPrefix(readTrim(filepath.Join(i.sys, "flags")), "0x"), 16, 64)
	var status uint32
	if flags&0x1 != 0 { // IFF_UP
		status |= 1
	}
	if readTrim(filepath.Join(i.sys, "operstate")) == "up" || (readTrim(filepath.Join(i.sys, "carrier")) == "1" && status&1 != 0) {
		status |= 2
	}
	var promisc uint32
	if flags&0x100 != 0 {
		promisc = 1
	}
	duplex := map[string]uint32{"full": 1, "half": 2}[readTrim(filepath.Join(i.sys, "duplex"))]
	rxPk, txPk, mc := i.stat("rx_packets"), i.stat("tx_packets"), i.stat("multicast")
	g := sflow.GenericInterface{Index: i.Index, Type: 6, Speed: i.SpeedMb * 1_000_000, Direction: duplex, Status: status,
		InOctets: i.stat("rx_bytes"), InUcastPkts: uint32(rxPk - min(mc, rxPk)), InMulticastPkts: uint32(mc),
		InDiscards: uint32(i.stat("rx_dropped")), InErrors: uint32(i.stat("rx_errors")),
		OutOctets: i.stat("tx_bytes"), OutUcastPkts: uint32(txPk), OutDiscards: uint32(i.stat("tx_dropped")),
		OutErrors: uint32(i.stat("tx_errors")), PromiscuousMode: promisc}
	e := sflow.EthernetInterface{AlignmentErrors: uint32(i.stat("rx_frame_errors")), FCSErrors: uint32(i.stat("rx_crc_errors")),
		LateCollisions: uint32(i.stat("tx_window_errors")), CarrierSenseErrors: uint32(i.stat("tx_carrier_errors")),
		FrameTooLongs: uint32(i.stat("rx_length_errors")), InternalMacReceiveErrors: uint32(i.stat("rx_fifo_errors")),
		InternalMacTransmitErrors: uint32(i.stat("tx_fifo_errors"))}
	return g, e
}

// Adapters is host_adapters (2001).
func Adapters(ifs []Iface) sflow.HostAdapters {
	var a sflow.HostAdapters
	for _, i := range ifs {
		ad := sflow.Adapter{IfIndex: i.Index}
		if len(i.MAC) == 6 {
			var m sflow.MAC
			copy(m[:], i.MAC)
			ad.MACs = append(ad.MACs, m)
		}
		a.Adapters = append(a.Adapters, ad)
	}
	return a
}

// DefaultSampling is hsflowd's rule: 1-in-1000 per Gb/s of link speed
// (1 in 100 at 100 Mb/s, 1 in 10,000 at 10 Gb/s), and 1 in 400 when the
// speed is unknown (virtual interfaces).
func DefaultSampling(speedMb uint64) uint32 {
	if speedMb == 0 {
		return 400
	}
	return uint32(max(speedMb, 100))
}
