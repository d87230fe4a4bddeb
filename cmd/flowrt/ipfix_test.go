package main_test

import (
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
)

// Real IPFIX / NetFlow collectors from Debian on 127.0.0.1, with their
// files in temporary directories: nfdump's nfcapd (read back with nfdump)
// and pmacct's nfacctd (its print plugin's CSV).

// flowTotals are a collector's packets and bytes per "source,destination",
// and its record count (nfcapd only; -1 for nfacctd).
type flowTotals struct {
	packets, bytes map[string]float64
	ports          map[string]map[string]bool // destination ports seen per pair (nfacctd)
	records        float64
	recs           map[string]float64 // records per pair (nfcapd)
}

func (f flowTotals) sumPackets() float64 {
	n := 0.0
	for _, v := range f.packets {
		n += v
	}
	return n
}

// procLog collects a peer's output.
type procLog struct{ syncLog }

func (l *procLog) Write(b []byte) (int, error) { l.WriteString(string(b)); return len(b), nil }

type nfcapd struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func startNfcapd(t *testing.T) *nfcapd {
	t.Helper()
	need(t, "nfcapd", "nfdump")
	c := &nfcapd{port: freePort(t, "udp"), dir: t.TempDir()}
	c.cmd = exec.Command("nfcapd", "-b", "127.0.0.1", "-p", strconv.Itoa(c.port), "-w", c.dir, "-t", "3600")
	log := &procLog{}
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		if t.Failed() {
			t.Logf("nfcapd:\n%s", log)
		}
	})
	waitFor(t, 5*time.Second, "nfcapd to listen", func() bool { return strings.Contains(log.String(), "Startup") })
	return c
}

// totals stops nfcapd (which writes its file then) and reads the records
// back with nfdump, aggregated by source and destination.
func (c *nfcapd) totals(t *testing.T) flowTotals {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
	files, _ := filepath.Glob(filepath.Join(c.dir, "nfcapd.*"))
	if len(files) != 1 {
		t.Fatalf("nfcapd wrote %v, want one file", files)
	}
	out := runCmd(t, "nfdump", "-r", files[0], "-q", "-N", "-A", "srcip,dstip", "-o", "fmt:%sa,%da,%pkt,%byt,%fl")
	f := flowTotals{packets: map[string]float64{}, bytes: map[string]float64{}, recs: map[string]float64{}}
	for _, l := range nonEmpty(out) {
		v := strings.Split(strings.ReplaceAll(l, " ", ""), ",")
		if len(v) != 5 {
			t.Fatalf("nfdump line %q", l)
		}
		n := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x }
		key := v[0] + "," + v[1]
		f.packets[key] += n(v[2])
		f.bytes[key] += n(v[3])
		f.records += n(v[4])
		f.recs[key] += n(v[4])
	}
	return f
}

type nfacctd struct {
	port int
	out  string
	cmd  *exec.Cmd
}

func startNfacctd(t *testing.T) *nfacctd {
	t.Helper()
	need(t, "nfacctd")
	dir := t.TempDir()
	c := &nfacctd{port: freePort(t, "udp"), out: filepath.Join(dir, "out.csv")}
	conf := fmt.Sprintf(`daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: %d
plugins: print[p]
aggregate[p]: src_host, dst_host, proto, dst_port
print_output[p]: csv
print_output_file[p]: %s
print_output_file_append[p]: true
print_refresh_time[p]: 1
`, c.port, c.out)
	if err := os.WriteFile(filepath.Join(dir, "nfacctd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command("nfacctd", "-f", filepath.Join(dir, "nfacctd.conf"))
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its plugin is a child process
	log := &procLog{}
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) // nfacctd does not end on SIGTERM while its plugin waits
		c.cmd.Wait()
		if t.Failed() {
			t.Logf("nfacctd:\n%s", tail(log.String(), 3000))
		}
	})
	waitFor(t, 5*time.Second, "nfacctd's print plugin to start", func() bool { return strings.Contains(log.String(), "p/print") })
	return c
}

// totals reads what nfacctd has printed so far (every second it appends
// the aggregates of the second).
func (c *nfacctd) totals(t *testing.T) flowTotals {
	t.Helper()
	f := flowTotals{packets: map[string]float64{}, bytes: map[string]float64{}, ports: map[string]map[string]bool{}, records: -1}
	b, err := os.ReadFile(c.out)
	if err != nil {
		return f
	}
	rows, _ := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	for _, r := range rows {
		if len(r) != 6 || r[0] == "SRC_IP" {
			continue
		}
		n := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x }
		key := r[0] + "," + r[1]
		f.packets[key] += n(r[4])
		f.bytes[key] += n(r[5])
		if f.ports[key] == nil {
			f.ports[key] = map[string]bool{}
		}
		f.ports[key][r[2]] = true
	}
	return f
}

// nfacctdTotals waits until nfacctd has printed want packets in all.
func nfacctdTotals(t *testing.T, c *nfacctd, want float64) flowTotals {
	t.Helper()
	var f flowTotals
	ok := false
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f = c.totals(t); f.sumPackets() >= want {
			ok = true
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !ok {
		t.Errorf("nfacctd printed %v packets in 10 s, want %v", f.sumPackets(), want)
	}
	time.Sleep(1500 * time.Millisecond) // anything past the total would be an error too
	return c.totals(t)
}

// exportStats is /analyzer/json's exports entry of one exporter.
func exportStats(t *testing.T, e *engine, name string) (sent uint64, dropped map[string]uint64) {
	t.Helper()
	var an struct {
		Exports map[string]struct {
			Sent    uint64
			Dropped map[string]uint64
		}
	}
	e.get(t, "/analyzer/json", &an)
	return an.Exports[name].Sent, an.Exports[name].Dropped
}

// checkTotals compares a collector's flows with what flowrt send sent:
// each of the sender's top flows has exactly its frames and bytes, and all
// flows add up to every flow sample × the sampling rate.
func checkTotals(t *testing.T, who string, got flowTotals, rep sendReport, sampling float64) {
	t.Helper()
	if len(rep.TopFlows) == 0 {
		t.Fatal("the sender reported no flows")
	}
	for _, f := range rep.TopFlows {
		if got.packets[f.Key] != f.Frames || got.bytes[f.Key] != f.Bytes {
			t.Errorf("%s: %s has %v packets, %v bytes; sent %v frames, %v bytes", who, f.Key, got.packets[f.Key], got.bytes[f.Key], f.Frames, f.Bytes)
		}
		if got.ports != nil && (f.Proto == "tcp" || f.Proto == "udp") && !got.ports[f.Key][strconv.Itoa(f.DstPort)] {
			t.Errorf("%s: %s (%s) has destination ports %v, sent to %d", who, f.Key, f.Proto, got.ports[f.Key], f.DstPort)
		}
	}
	if want := float64(rep.FlowSamples) * sampling; got.sumPackets() != want {
		t.Errorf("%s: %v packets in all, want %d flow samples × %v = %v", who, got.sumPackets(), rep.FlowSamples, sampling, want)
	}
}

// TestSampleConversion: with netflow.collectors (NetFlow v9) or
// ipfix.collectors (IPFIX), every flow sample reaches the collector as one
// record scaled by the sampling rate: nfcapd stores as many records as
// samples were sent, and in nfcapd and nfacctd each of the sender's top
// flows has exactly the frames and bytes the sender counts, to the
// destination port it sent to.
func TestSampleConversion(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	for _, tc := range []struct {
		name, prop, collector, exporter string
	}{
		{"v9-nfcapd", "netflow.collectors", "nfcapd", "netflow"},
		{"ipfix-nfcapd", "ipfix.collectors", "nfcapd", "netflow"},
		{"v9-nfacctd", "netflow.collectors", "nfacctd", "netflow"},
		{"ipfix-nfacctd", "ipfix.collectors", "nfacctd", "netflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cd *nfcapd
			var ca *nfacctd
			port := 0
			if tc.collector == "nfcapd" {
				cd = startNfcapd(t)
				port = cd.port
			} else {
				ca = startNfacctd(t)
				port = ca.port
			}
			e := startEngine(t, fmt.Sprintf("-D%s=127.0.0.1:%d", tc.prop, port))
			rep := send(t, e.sflow, "-agents", "2", "-flows", "50", "-count", "400", "-rate", "400", "-sampling", "500", "-seed", "4")
			waitFor(t, 5*time.Second, "every sample to be sent", func() bool {
				sent, _ := exportStats(t, e, tc.exporter)
				return sent >= uint64(rep.FlowSamples)
			})
			if sent, dropped := exportStats(t, e, tc.exporter); sent != uint64(rep.FlowSamples) || len(dropped) != 0 {
				t.Errorf("/analyzer/json exports.%s: %d sent, dropped %v; %d flow samples sent", tc.exporter, sent, dropped, rep.FlowSamples)
			}
			var got flowTotals
			if cd != nil {
				time.Sleep(200 * time.Millisecond) // the last message in flight
				got = cd.totals(t)
				if got.records != float64(rep.FlowSamples) {
					t.Errorf("nfcapd stored %v records, %d flow samples sent", got.records, rep.FlowSamples)
				}
			} else {
				got = nfacctdTotals(t, ca, float64(rep.FlowSamples)*500)
			}
			checkTotals(t, tc.collector, got, rep, 500)
		})
	}
}

// TestIPFIXCollectors: a flow definition with ipfixCollectors sends its
// flows, as they end and every activeTimeout (1 s) while they last, to
// nfcapd and nfacctd at once; each collector holds,
// for each of the sender's top flows, exactly the frames and bytes sent
// (the engine's records are exact sums of the scaled samples), and the
// flows add up to every sample; /flows/json has none of them (no
// log:true). A definition with a key IPFIX has no element for is refused
// with a 400 naming the key.
func TestIPFIXCollectors(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	cd, ca := startNfcapd(t), startNfacctd(t)
	e := startEngine(t)
	if code, msg := e.do(t, "PUT", "/flow/bad/json", `{keys:'ipsource,dnsqname', value:'bytes', ipfixCollectors:['127.0.0.1']}`); code != 400 || !strings.Contains(msg, `"dnsqname"`) {
		t.Errorf("a definition with key dnsqname and ipfixCollectors: %d %q, want 400 naming the key", code, msg)
	}
	body := fmt.Sprintf(`{keys:'ipsource,ipdestination', value:'bytes', values:['frames'], t:0.5, activeTimeout:1, ipfixCollectors:['127.0.0.1:%d','127.0.0.1:%d']}`, cd.port, ca.port)
	if code, msg := e.do(t, "PUT", "/flow/pairs/json", body); code != 204 {
		t.Fatalf("PUT pairs: %d %s", code, msg)
	}
	start := time.Now()
	rep := send(t, e.sflow, "-agents", "1", "-ports", "1", "-flows", "30", "-count", "600", "-rate", "200", "-seed", "5")
	// Each flow ends 2 s after its last sample; its record goes to both.
	waitFor(t, 15*time.Second, "the flows to end", func() bool {
		var flows []any
		e.get(t, "/activeflows/ALL/pairs/json?maxFlows=100", &flows)
		return len(flows) == 0
	})
	time.Sleep(1500 * time.Millisecond) // the exporter's flush, every second
	if _, dropped := exportStats(t, e, "ipfix"); len(dropped) != 0 {
		t.Errorf("/analyzer/json exports.ipfix dropped %v", dropped)
	}
	var logged []any // the definition has no log:true: its records are for IPFIX only
	if e.get(t, "/flows/json?maxFlows=10", &logged); len(logged) != 0 {
		t.Errorf("/flows/json has %d records of a definition without log:true", len(logged))
	}
	got := cd.totals(t)
	checkTotals(t, "nfcapd", got, rep, 1000)
	// The largest flow lasts the 3 s of sending: a record each second.
	if top := rep.TopFlows[0].Key; got.recs[top] < 3 {
		t.Errorf("nfcapd: %v records of %s, which lasted 3 s with activeTimeout 1 s", got.recs[top], top)
	}
	fa := nfacctdTotals(t, ca, float64(rep.FlowSamples)*1000)
	fa.ports = nil // the definition has no port key
	checkTotals(t, "nfacctd", fa, rep, 1000)
	if sent, _ := exportStats(t, e, "ipfix"); sent != 2*uint64(got.records) {
		t.Errorf("/analyzer/json exports.ipfix sent %d records, nfcapd stored %v (one of two collectors)", sent, got.records)
	}
	t.Logf("%d flow samples in %v; nfcapd stored %v records of %d flows", rep.FlowSamples, time.Since(start).Round(time.Millisecond), got.records, len(got.packets))
}

// captureUDP receives on a UDP socket of 127.0.0.1 (standing for a
// collector) and writes what arrives to a pcap file as IPv4/UDP packets to
// port, so that tshark dissects them as it would a capture on the wire.
type captureUDP struct {
	conn  *net.UDPConn
	file  string
	count atomic.Int64
	done  chan struct{}
}

func startCapture(t *testing.T, port uint16) *captureUDP {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := &captureUDP{conn: conn, file: filepath.Join(t.TempDir(), "collector.pcap"), done: make(chan struct{})}
	f, err := os.Create(c.file)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcap.NewWriter(f, 101, 65535) // LINKTYPE_RAW: the packet starts with its IP header
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer f.Close()
		b := make([]byte, 65536)
		for {
			n, src, err := conn.ReadFromUDP(b)
			if err != nil {
				return
			}
			hdr := make([]byte, 28)
			hdr[0], hdr[8], hdr[9] = 0x45, 64, 17
			binary.BigEndian.PutUint16(hdr[2:], uint16(28+n))
			copy(hdr[12:16], src.IP.To4())
			copy(hdr[16:20], []byte{127, 0, 0, 1})
			var sum uint32
			for i := 0; i < 20; i += 2 {
				sum += uint32(binary.BigEndian.Uint16(hdr[i:]))
			}
			for sum > 0xffff {
				sum = sum&0xffff + sum>>16
			}
			binary.BigEndian.PutUint16(hdr[10:], ^uint16(sum))
			binary.BigEndian.PutUint16(hdr[20:], uint16(src.Port))
			binary.BigEndian.PutUint16(hdr[22:], port)
			binary.BigEndian.PutUint16(hdr[24:], uint16(8+n))
			w.WritePacket(time.Now(), uint32(28+n), hdr, b[:n])
			c.count.Add(1)
		}
	}()
	t.Cleanup(func() { conn.Close(); <-c.done })
	return c
}

// stop ends the capture and returns the file.
func (c *captureUDP) stop() string {
	c.conn.Close()
	<-c.done
	return c.file
}

// TestIPFIXWellFormedInTshark: what flowrt sends — converted samples as
// NetFlow v9 and as IPFIX, and a flow definition's records as IPFIX in the
// same stream — is dissected by tshark with no malformed packet and no
// expert warning, and tshark reads one data record per sample sent.
func TestIPFIXWellFormedInTshark(t *testing.T) {
	need(t, "tshark")
	for _, tc := range []struct {
		name, prop string
		port       uint16
	}{{"v9", "netflow.collectors", 2055}, {"ipfix", "ipfix.collectors", 4739}} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCapture(t, tc.port)
			addr := c.conn.LocalAddr().String()
			e := startEngine(t, "-D"+tc.prop+"="+addr)
			if tc.name == "ipfix" {
				body := fmt.Sprintf(`{keys:'macsource,macdestination,ethernetprotocol,ipsource,ipdestination,ipprotocol,inputifindex,outputifindex', value:'frames', values:['bytes'], t:0.5, ipfixCollectors:['%s']}`, addr)
				if code, msg := e.do(t, "PUT", "/flow/all/json", body); code != 204 {
					t.Fatalf("PUT: %d %s", code, msg)
				}
			}
			rep := send(t, e.sflow, "-agents", "2", "-flows", "20", "-count", "100", "-rate", "200", "-seed", "6")
			waitFor(t, 10*time.Second, "every sample to be sent", func() bool {
				sent, _ := exportStats(t, e, "netflow")
				return sent >= uint64(rep.FlowSamples)
			})
			records := 0
			if tc.name == "ipfix" {
				waitFor(t, 15*time.Second, "the definition's flows to end and be sent", func() bool {
					var flows []any
					e.get(t, "/activeflows/ALL/all/json?maxFlows=100", &flows)
					sent, _ := exportStats(t, e, "ipfix")
					return len(flows) == 0 && sent > 0
				})
				time.Sleep(1500 * time.Millisecond)
				sent, _ := exportStats(t, e, "ipfix")
				records = int(sent)
			}
			file := c.stop()
			decodeAs := fmt.Sprintf("udp.port==%d,cflow", tc.port)
			if out := nonEmpty(runCmd(t, "tshark", "-r", file, "-d", decodeAs, "-Y", "_ws.malformed || _ws.expert.severity >= 6291456")); len(out) > 0 {
				t.Errorf("tshark finds %d malformed packets or warnings, first: %s", len(out), out[0])
			}
			if out := strings.TrimSpace(runCmd(t, "tshark", "-r", file, "-d", decodeAs, "-q", "-z", "expert,warn")); out != "" {
				t.Errorf("tshark expert information:\n%s", out)
			}
			// One line per data record: its source address and packets.
			lines := nonEmpty(runCmd(t, "tshark", "-r", file, "-d", decodeAs, "-T", "fields", "-E", "occurrence=a",
				"-E", "aggregator=\n", "-e", "cflow.packets"))
			var packets float64
			for _, l := range lines {
				v, err := strconv.ParseFloat(l, 64)
				if err != nil {
					t.Fatalf("tshark packets %q", l)
				}
				packets += v
			}
			if want := rep.FlowSamples + records; len(lines) != want {
				t.Errorf("tshark reads %d records, want %d (%d samples, %d definition records)", len(lines), want, rep.FlowSamples, records)
			}
			if want := float64(rep.FlowSamples) * 1000 * float64(1+min(records, 1)); packets != want {
				t.Errorf("tshark: %v packets in the records, want %v", packets, want)
			}
			t.Logf("%d messages, %d records well-formed", c.count.Load(), len(lines))
		})
	}
}

// TestDecodeNetFlow: flowrt decode -c host -d port -N 10 (sflowtool's
// NetFlow output flags) sends every sample it receives to nfcapd as one
// IPFIX record: as many records as samples, each top flow's frames and
// bytes exact; and it says what it sent when interrupted.
func TestDecodeNetFlow(t *testing.T) {
	cd := startNfcapd(t)
	addr := freeUDP(t)
	dec := exec.Command(flowrt, "decode", "-listen", addr, "-c", "127.0.0.1", "-d", strconv.Itoa(cd.port), "-N", "10")
	log := &procLog{}
	dec.Stderr = log
	if err := dec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Process.Kill(); dec.Wait() })
	waitFor(t, 5*time.Second, "flowrt decode to listen", func() bool { return strings.Contains(log.String(), "listening for sFlow") })
	rep := send(t, addr, "-agents", "3", "-flows", "40", "-count", "300", "-rate", "300", "-sampling", "200", "-seed", "7")
	time.Sleep(1500 * time.Millisecond) // its flush, every second
	dec.Process.Signal(os.Interrupt)
	if err := dec.Wait(); err != nil {
		t.Errorf("flowrt decode -c: %v\n%s", err, log)
	}
	if want := fmt.Sprintf("records=%d ", rep.FlowSamples); !strings.Contains(log.String(), want) {
		t.Errorf("flowrt decode -c did not say %q:\n%s", want, log)
	}
	got := cd.totals(t)
	if got.records != float64(rep.FlowSamples) {
		t.Errorf("nfcapd stored %v records, %d flow samples sent", got.records, rep.FlowSamples)
	}
	checkTotals(t, "nfcapd", got, rep, 200)
	for _, bad := range [][]string{{"-c", "127.0.0.1", "-N", "5"}, {"-d", "9995"}, {"-c", "127.0.0.1", "-j"}} {
		out, err := exec.Command(flowrt, append([]string{"decode"}, bad...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "flowrt decode: -") {
			t.Errorf("flowrt decode %v: %v, %q; want a refusal naming the flag", bad, err, out)
		}
	}
}
