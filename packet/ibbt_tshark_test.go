package packet_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/packet"
)

// TestIBBTAgreesWithTshark: Wireshark's InfiniBand dissector (tshark,
// Debian's tshark package) reads the same opcode, flags, QP, PSN, DMA
// length and AETH syndrome from RoCEv2 frames as flowrt's ibbt keys.
func TestIBBTAgreesWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (Debian package tshark)")
	}
	reth := make([]byte, 16)
	binary.BigEndian.PutUint32(reth[12:], 4096)
	frames := [][]byte{
		rocev2(t, append(bth(0x0a, 0x80|0x10, 0xffff, 0x00beef, 777, true, reth), make([]byte, 4)...)), // + ICRC
		rocev2(t, append(bth(0x11, 0x40, 0xffff, 0x000042, 778, false, []byte{0x0d, 0, 0, 7}), make([]byte, 4)...)),
		rocev2(t, append(bth(0x06, 0, 0xffff, 0x000043, 1, false, reth), make([]byte, 4)...)),
	}
	path := filepath.Join(t.TempDir(), "roce.pcap")
	// A classic pcap file: its header, then a record header per frame.
	pcap := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	pcap = binary.LittleEndian.AppendUint16(pcap, 2)
	pcap = binary.LittleEndian.AppendUint16(pcap, 4)
	pcap = append(pcap, make([]byte, 8)...)
	pcap = binary.LittleEndian.AppendUint32(pcap, 65535)
	pcap = binary.LittleEndian.AppendUint32(pcap, 1) // Ethernet
	for i, fr := range frames {
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(i+1))
		pcap = binary.LittleEndian.AppendUint32(pcap, 0)
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(fr)))
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(fr)))
		pcap = append(pcap, fr...)
	}
	if err := os.WriteFile(path, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	fields := []struct{ tshark, flowrt string }{
		{"infiniband.bth.opcode", "ibbtopcode"}, {"infiniband.bth.se", "ibbtse"}, {"infiniband.bth.m", "ibbtm"},
		{"infiniband.bth.padcnt", "ibbtpadcnt"}, {"infiniband.bth.destqp", "ibbtdestqp"},
		{"infiniband.bth.psn", "ibbtpsn"}, {"infiniband.reth.dmalen", "ibbtrdmalen"},
		{"infiniband.aeth.syndrome", "ibbtaethsyndrome"},
	}
	args := []string{"-r", path, "-T", "fields", "-E", "separator=|"}
	for _, fl := range fields {
		args = append(args, "-e", fl.tshark)
	}
	var stderr strings.Builder
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark printed %d lines for %d frames:\n%s", len(lines), len(frames), out)
	}
	for i, line := range lines {
		got := strings.Split(line, "|")
		var p packet.Packet
		p.Decode(packet.HeaderEthernet, frames[i])
		for j, fl := range fields {
			v, ok := p.AppendKey(nil, fl.flowrt)
			want := got[j]
			switch want { // tshark prints booleans as True/False or 1/0
			case "True", "1":
				if fl.flowrt == "ibbtse" || fl.flowrt == "ibbtm" {
					want = "true"
				}
			case "False", "0":
				if fl.flowrt == "ibbtse" || fl.flowrt == "ibbtm" {
					want = "false"
				}
			}
			if strings.HasPrefix(want, "0x") { // the QP, in hex
				n, err := strconv.ParseUint(want, 0, 32)
				if err != nil {
					t.Fatal(err)
				}
				want = strconv.FormatUint(n, 10)
			}
			if want == "" && ok {
				t.Errorf("frame %d: flowrt has %s=%s, tshark has no %s", i, fl.flowrt, v, fl.tshark)
			} else if want != "" && string(v) != want {
				t.Errorf("frame %d: %s=%q, tshark %s=%q", i, fl.flowrt, v, fl.tshark, want)
			}
		}
	}
}
