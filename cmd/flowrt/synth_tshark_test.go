package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
)

// flowrt send's synthetic sampled headers are well-formed packets: sent over
// UDP on 127.0.0.1 to flowrt decode -t and read back by tshark, no frame is
// malformed, tshark's expert analysis finds nothing wrong, and the lengths
// and checksums tshark reads agree with the frame, for every traffic mix.
func TestSynthHeadersWellFormedInTshark(t *testing.T) {
	need(t, "tshark")
	for _, mix := range []string{"tcp", "udp", "dns", "unreachable", "reflection", "syn", "roce", "tcp,udp,dns,unreachable,reflection,syn,roce"} {
		t.Run(mix, func(t *testing.T) {
			file, samples := synthCapture(t, mix)
			// Malformed frames, as tshark finds them by default.
			if out := nonEmpty(runCmd(t, "tshark", "-r", file, "-Y", "_ws.malformed")); len(out) > 0 {
				t.Errorf("tshark finds %d malformed frames, first: %s", len(out), out[0])
			}
			// The checksums tshark can verify, verified (the TCP checksum
			// covers the payload, which a sampled header does not hold).
			checks := []string{"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}
			// Expert information from notes up (chats are ordinary events,
			// such as a SYN's "connection establish request"). A sampled TCP stream has gaps
			// by nature (999 of 1000 segments are not sampled), which TCP
			// sequence analysis would report on every frame: it is off.
			expert := runCmd(t, "tshark", append([]string{"-r", file, "-q", "-z", "expert,note", "-o", "tcp.analyze_sequence_numbers:FALSE"}, checks...)...)
			if strings.TrimSpace(expert) != "" {
				t.Errorf("tshark expert information:\n%s", expert)
			}
			// The values: every frame is there, and its lengths add up.
			fields := []string{"frame.len", "ip.len", "ip.checksum.status", "ip.proto", "udp.length", "tcp.hdr_len", "tcp.len",
				"icmp.checksum.status", "dns.qry.name", "dns.id", "_ws.short"}
			args := append([]string{"-r", file, "-T", "fields", "-E", "separator=;", "-E", "occurrence=f"}, checks...)
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			lines := nonEmpty(runCmd(t, "tshark", args...))
			if len(lines) != samples {
				t.Fatalf("tshark reads %d frames, flowrt send sent %d flow samples", len(lines), samples)
			}
			ids := map[string]bool{}
			for _, l := range lines {
				f := strings.Split(l, ";")
				n := func(i int) int { v, _ := strconv.Atoi(f[i]); return v }
				frame, ipLen := n(0), n(1)
				// The frame length counts the 4-byte FCS, which agents strip,
				// and a short packet's padding to Ethernet's 64 bytes.
				if max(14+ipLen+4, 64) != frame {
					t.Fatalf("IP total length %d in a %d-byte frame: %s", ipLen, frame, l)
				}
				if f[2] != "1" { // 0 bad, 1 good, 2 unverified
					t.Fatalf("IP checksum status %s: %s", f[2], l)
				}
				switch f[3] {
				case "17":
					if n(4) != ipLen-20 {
						t.Fatalf("UDP length %d in an IP packet of %d: %s", n(4), ipLen, l)
					}
					if f[8] != "" { // a DNS query, sampled whole
						if f[10] != "" {
							t.Fatalf("DNS query truncated: %s", l)
						}
						ids[f[9]] = true
					}
				case "6":
					if n(5) != 20 || n(6) != ipLen-40 {
						t.Fatalf("TCP header %d bytes, segment %d, in an IP packet of %d: %s", n(5), n(6), ipLen, l)
					}
				case "1":
					if f[7] != "1" {
						t.Fatalf("ICMP checksum status %s: %s", f[7], l)
					}
				default:
					t.Fatalf("IP protocol %s: %s", f[3], l)
				}
			}
			if strings.Contains(mix, "dns") && len(ids) < 2 {
				t.Errorf("DNS queries share their transaction IDs (%d distinct): tshark takes them for retransmissions", len(ids))
			}
			t.Logf("%d frames well-formed; first: %s", len(lines), lines[0])
		})
	}
}

// synthCapture runs flowrt send -mix mix into flowrt decode -t over UDP on
// 127.0.0.1 and returns the pcap file and the number of flow samples sent.
func synthCapture(t *testing.T, mix string) (string, int) {
	t.Helper()
	addr := freeUDP(t)
	file := filepath.Join(t.TempDir(), "synth.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := exec.Command(flowrt, "decode", "-listen", addr, "-t")
	dec.Stdout = f
	errs, _ := dec.StderrPipe()
	if err := dec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Process.Kill(); dec.Wait() })
	sc := bufio.NewScanner(errs)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening") {
		t.Fatalf("flowrt decode did not start listening: %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
			t.Logf("flowrt decode: %s", sc.Text())
		}
	}()
	rep := send(t, addr, "-mix", mix, "-count", "60", "-rate", "2000", "-counters", "0")
	if rep.FlowSamples == 0 {
		t.Fatalf("flowrt send sent no flow samples: %+v", rep)
	}
	// Wait until every sample is in the file (decode writes each datagram
	// as it arrives), then stop decode.
	for deadline := time.Now().Add(10 * time.Second); pcapRecords(t, file) < rep.FlowSamples; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("flowrt decode wrote %d of %d samples in 10 s", pcapRecords(t, file), rep.FlowSamples)
		}
	}
	dec.Process.Signal(os.Interrupt)
	if err := dec.Wait(); err != nil {
		t.Fatalf("flowrt decode: %v", err)
	}
	return file, rep.FlowSamples
}

func pcapRecords(t *testing.T, file string) int {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		return 0 // the header is not written yet
	}
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}
