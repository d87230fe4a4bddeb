package main_test

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// headerSample is what a flow sample's sampled header should look like
// once it has been through tcpdump or tshark.
type headerSample struct{ src, dst string }

// flowHeaders lists, per capture, the sampled headers flowrt -t writes
// (Ethernet, IPv4 and IPv6 headers), with their IP addresses as sflowtool's
// -j output names them.
func flowHeaders(t *testing.T, c testdata.Capture) []headerSample {
	var out []headerSample
	for _, line := range strings.Split(run(t, "decode", "-r", c.Path, "-j"), "\n") {
		if line == "" {
			continue
		}
		var d struct {
			Samples []struct {
				SampleType string
				Elements   []map[string]any
			}
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Samples {
			if s.SampleType != "FLOWSAMPLE" {
				continue
			}
			for _, el := range s.Elements {
				e := map[string]string{}
				for k, v := range el {
					e[k], _ = v.(string)
				}
				if e["flowBlock_tag"] != "0:1" {
					continue
				}
				switch e["headerProtocol"] {
				case "1", "11", "12":
				default:
					continue
				}
				src, dst := e["srcIP"], e["dstIP"]
				if src == "" {
					src, dst = canon(e["srcIP6"]), canon(e["dstIP6"])
				}
				out = append(out, headerSample{src, dst})
			}
		}
	}
	return out
}

func canon(a string) string {
	if ip := net.ParseIP(a); ip != nil {
		return ip.String()
	}
	return a
}

func TestPcapOutputIntoTcpdumpAndTshark(t *testing.T) {
	need(t, "tcpdump", "tshark")
	total := 0
	for _, c := range testdata.Captures(t) {
		if strings.HasPrefix(c.Name, "raw_") {
			continue
		}
		want := flowHeaders(t, c)
		if len(want) == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			// tcpdump: one line per packet, addresses as sampled.
			out, _, err := pipe(t, []string{"decode", "-r", c.Path, "-t"}, "tcpdump", "-#", "-n", "-r", "-")
			if err != nil {
				t.Fatal(err)
			}
			lines := numbered(out)
			if len(lines) != len(want) {
				t.Fatalf("tcpdump read %d packets, flowrt had %d sampled headers:\n%s", len(lines), len(want), out)
			}
			for i, w := range want {
				if w.src != "" && !strings.Contains(lines[i], w.src) {
					t.Errorf("packet %d: tcpdump shows %q, want source %s", i+1, lines[i], w.src)
				}
			}
			// tshark: the same packets, addresses field by field.
			out, _, err = pipe(t, []string{"decode", "-r", c.Path, "-t"}, "tshark", "-r", "-",
				"-T", "fields", "-E", "occurrence=f", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst")
			if err != nil {
				t.Fatal(err)
			}
			lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) != len(want) {
				t.Fatalf("tshark read %d packets, want %d", len(lines), len(want))
			}
			for i, w := range want {
				f := strings.Split(lines[i], "\t")
				src, dst := f[0], f[2] // the outer header: IPv4 if any, else IPv6
				if src == "" {
					src, dst = f[1], f[3]
				}
				if w.src != "" && (canon(src) != w.src || canon(dst) != w.dst) {
					t.Errorf("packet %d: tshark %s > %s, want %s > %s", i+1, src, dst, w.src, w.dst)
				}
			}
			total += len(want)
		})
	}
	if total == 0 {
		t.Fatal("no sampled header went through tcpdump")
	}
	t.Logf("%d sampled headers read back by tcpdump and tshark", total)
}

// numbered keeps the lines tcpdump -# starts with a packet number (a
// tunnelled packet takes more than one line).
func numbered(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				out = append(out, l)
				continue
			}
		}
		if len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
		}
	}
	return out
}

func nonEmpty(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "reading from") {
			out = append(out, l)
		}
	}
	return out
}

// The seeds' tcpdump command lines: a filter, and -w file -c N, which closes
// the pipe early; flowrt must end cleanly when it does.
func TestTcpdumpFiltersAndEarlyClose(t *testing.T) {
	need(t, "tcpdump")
	capture := filepath.Join(testdata.Dir(t), "gopacket_SFlowTestPacket1.pcap")
	out, _, err := pipe(t, []string{"decode", "-r", capture, "-t"}, "tcpdump", "-n", "-r", "-", "tcp", "and", "port", "9092")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range nonEmpty(out) {
		if !strings.Contains(l, ".9092") {
			t.Errorf("filter let through %q", l)
		}
	}
	if len(nonEmpty(out)) == 0 {
		t.Error("filter matched nothing")
	}
	// A stream longer than -c: replay the capture 200 times through a pipe.
	big := filepath.Join(t.TempDir(), "big.pcap")
	writeRepeated(t, capture, big, 200)
	file := filepath.Join(t.TempDir(), "packets.pcap")
	_, _, err = pipe(t, []string{"decode", "-r", big, "-t"}, "tcpdump", "-r", "-", "-w", file, "-c", "10")
	if err != nil {
		t.Fatalf("flowrt did not end cleanly when tcpdump closed the pipe: %v", err)
	}
	n := len(nonEmpty(runCmd(t, "tcpdump", "-n", "-r", file)))
	if n != 10 {
		t.Errorf("tcpdump -c 10 wrote %d packets", n)
	}
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out)
}

// writeRepeated writes a pcap made of n copies of src's packets.
func writeRepeated(t *testing.T, src, dst string, n int) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), b[:24]...)
	for range n {
		out = append(out, b[24:]...)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tshark as a field-level oracle on the original captures (not our
// output): datagram and sample headers and generic counters. tshark 4.0
// does not skip sFlow records it does not know (OVS 0:1004/0:1005, host
// structures 0:2000+); it marks those frames malformed and everything after
// the unknown record is garbage, so such frames are not compared.
func TestAgreesWithTshark(t *testing.T) {
	need(t, "tshark")
	fields := []string{"frame.number", "sflow_245.agent", "sflow_245.agent.v6", "sflow_245.sequence_number",
		"sflow_245.numsamples", "sflow.flow_sample.sequence_number", "sflow.flow_sample.sampling_rate",
		"sflow.flow_sample.sample_pool", "sflow.counters_sample.sequence_number", "sflow_245.ifinoct", "_ws.malformed"}
	compared, skipped := 0, 0
	for _, c := range testdata.Captures(t) {
		if strings.HasPrefix(c.Name, "raw_") {
			continue
		}
		args := []string{"-r", c.Path, "-d", "udp.port==6343,sflow", "-T", "fields", "-E", "separator=;", "-E", "aggregator=,"}
		for _, f := range fields {
			args = append(args, "-e", f)
		}
		out := runCmd(t, "tshark", args...)
		var d sflow.Datagram
		for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			f := strings.Split(line, ";")
			if len(f) != len(fields) {
				t.Fatalf("%s: tshark line %q", c.Name, line)
			}
			if f[10] != "" || f[3] == "" {
				skipped++
				continue
			}
			if err := sflow.Decode(c.Datagrams[i].Payload, &d); err != nil {
				t.Errorf("%s frame %d: tshark decodes it, flowrt: %v", c.Name, i+1, err)
				continue
			}
			agent := f[1] + f[2]
			if canon(agent) != d.Agent.String() {
				t.Errorf("%s frame %d: agent %s, tshark %s", c.Name, i+1, d.Agent, agent)
			}
			var fseq, rate, pool, cseq, octets []string
			for _, s := range d.Samples {
				switch {
				case s.Format.IsFlow():
					fseq = append(fseq, u(s.Sequence))
					rate = append(rate, u(s.SamplingRate))
					pool = append(pool, u(s.SamplePool))
				case s.Format.IsCounter():
					cseq = append(cseq, u(s.Sequence))
					for _, r := range s.Records {
						var g sflow.GenericInterface
						if r.Format == 1 && r.Decode(&g) == nil {
							octets = append(octets, strconv.FormatUint(g.InOctets, 10))
						}
					}
				}
			}
			for j, want := range []string{u(d.Sequence), u(d.NumSamples), strings.Join(fseq, ","), strings.Join(rate, ","),
				strings.Join(pool, ","), strings.Join(cseq, ","), strings.Join(octets, ",")} {
				if got := f[3+j]; got != want {
					t.Errorf("%s frame %d: %s: tshark %q, flowrt %q", c.Name, i+1, fields[3+j], got, want)
				}
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("no frame compared with tshark")
	}
	t.Logf("%d datagrams agree with tshark field by field; %d frames tshark cannot decode were left out", compared, skipped)
}

func u(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// The seeds' Python scripts (the sFlow to JSON, sflowtool and sflow/tshark
// articles), ported to Python 3, run as the README prints them: executable,
// in their directory, reading flowrt's output from a pipe exactly as they
// read sflowtool's or tshark's.
func TestSeedPythonScripts(t *testing.T) {
	need(t, "python3", "sh")
	capture := filepath.Join(testdata.Dir(t), "gopacket_SFlowTestPacket1.pcap")
	srv := serveText(t, "# compromised\n10.1.8.19\n192.0.2.1\n")
	run := func(pipeline string) []string {
		t.Helper()
		cmd := exec.Command("sh", "-c", pipeline)
		cmd.Dir = "../../examples/sflow-to-json"
		cmd.Env = append(os.Environ(), "TZ=UTC", "FLOWRT="+flowrt, "CAPTURE="+capture, "BLACKLIST_URL="+srv)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", pipeline, err, out)
		}
		return nonEmpty(string(out))
	}

	lines := run(`"$FLOWRT" decode -r "$CAPTURE" -j | ./sflow.py`)
	if len(lines) != 6 {
		t.Fatalf("sflow.py printed %d flows, want the capture's 6:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if lines[0] != "1970-01-01T00:00:00+0000 10.1.14.22 54.240.235.69 1490" {
		t.Errorf("sflow.py first flow: %q", lines[0])
	}

	// emerging.py: the blacklist comes from a local web server instead of
	// the Emerging Threats site.
	lines = run(`"$FLOWRT" decode -r "$CAPTURE" -j | ./emerging.py`)
	if len(lines) != 1 || lines[0] != "1970-01-01T00:00:00+0000 10.1.14.16 10.1.8.19" {
		t.Errorf("emerging.py printed %q, want the one flow to 10.1.8.19", lines)
	}

	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark.py not run: tshark is not installed (apt-get install tshark)")
		return
	}
	lines = run(`"$FLOWRT" decode -r "$CAPTURE" -t | tshark -r - -T ek 2>/dev/null | ./tshark.py`)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], " 10.1.14.16 10.1.8.19") {
		t.Errorf("tshark.py printed %q, want the one packet to 10.1.8.19", lines)
	}
}

// flowrt decode -p on a real UDP socket on 127.0.0.1.
func TestDecodeFromUDP(t *testing.T) {
	dir := testdata.Dir(t)
	datagrams := testdata.ReadPcap(t, filepath.Join(dir, "ndpi_sflow.pcap"))
	fl := startDecode(t, "-j")
	conn, err := net.Dial("udp", fl.addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range datagrams {
		conn.Write(d.Payload)
	}
	conn.Write([]byte{0, 0, 0, 4, 1, 2}) // junk: reported, not fatal
	conn.Write(datagrams[0].Payload)
	got := 0
	timeout := time.After(10 * time.Second)
	for got < len(datagrams)+2 {
		var line string
		select {
		case line = <-fl.lines:
		case <-timeout:
			t.Fatalf("received %d datagrams in 10 s, sent %d", got, len(datagrams)+2)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["datagramSourceIP"] != "127.0.0.1" {
			t.Errorf("datagramSourceIP %v", m["datagramSourceIP"])
		}
		got++
	}
	if got != len(datagrams)+2 {
		t.Fatalf("received %d datagrams, sent %d", got, len(datagrams)+2)
	}
	if fl.stderr.Scan(); !strings.Contains(fl.stderr.Text(), "not an sFlow version 5 datagram") {
		t.Errorf("junk datagram not reported on stderr: %q", fl.stderr.Text())
	}
	if err := fl.stop(); err != nil {
		t.Errorf("flowrt did not exit cleanly on interrupt: %v", err)
	}
}

// A pcapng capture (as Wireshark saves by default) decodes exactly like the
// same packets in a classic pcap.
func TestPcapngInput(t *testing.T) {
	need(t, "editcap")
	capture := filepath.Join(testdata.Dir(t), "tcpdump_sflow-print-v6.pcap")
	ng := filepath.Join(t.TempDir(), "v6.pcapng")
	runCmd(t, "editcap", "-F", "pcapng", capture, ng)
	want, got := run(t, "decode", "-r", capture, "-j"), run(t, "decode", "-r", ng, "-j")
	if want != got || len(want) == 0 {
		t.Fatalf("pcapng output differs from pcap output (%d vs %d bytes)", len(got), len(want))
	}
}
