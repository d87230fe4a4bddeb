package main_test

import (
	"bufio"
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
)

// Live input is sflowtool's live input: the receive time wherever sflowtool
// puts a time (unixSecondsUTC, localtime, the start of -g lines, -t record
// timestamps) and no pcapTimestamp, which sflowtool prints only for a
// capture. Each case sends a shared capture's datagrams to flowrt decode
// over real UDP on 127.0.0.1 and reads what tcpdump, tshark or a
// line-reader sees.

// liveCapture is what the live tests send: one datagram with six sampled
// Ethernet headers and a counter sample.
func liveCapture(t *testing.T) ([]testdata.Datagram, int) {
	path := filepath.Join(testdata.Dir(t), "gopacket_SFlowTestPacket1.pcap")
	c := testdata.Capture{Name: "gopacket_SFlowTestPacket1", Path: path, Datagrams: testdata.ReadPcap(t, path)}
	return c.Datagrams, len(flowHeaders(t, c))
}

// livePeer is "flowrt decode -listen 127.0.0.1:port args... | peer peerArgs...".
type livePeer struct {
	addr         string
	decode, peer *exec.Cmd
	lines        chan string // the peer's standard output, line by line
}

func startLivePeer(t *testing.T, args []string, peer string, peerArgs ...string) *livePeer {
	t.Helper()
	addr := freeUDP(t)
	lp := &livePeer{addr: addr, lines: make(chan string, 10000)}
	lp.decode = exec.Command(flowrt, append([]string{"decode", "-listen", addr}, args...)...)
	lp.peer = exec.Command(peer, peerArgs...)
	lp.decode.Env = append(os.Environ(), "TZ=UTC")
	lp.peer.Env = lp.decode.Env
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	lp.decode.Stdout, lp.peer.Stdin = w, r
	out, _ := lp.peer.StdoutPipe()
	errs, _ := lp.decode.StderrPipe()
	if err := lp.peer.Start(); err != nil {
		t.Fatal(err)
	}
	if err := lp.decode.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.Close()
	t.Cleanup(func() {
		lp.decode.Process.Kill()
		lp.decode.Wait()
		lp.peer.Process.Kill()
		lp.peer.Wait()
	})
	sc := bufio.NewScanner(errs)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening") {
		t.Fatalf("flowrt decode did not start listening: %q", sc.Text())
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lp.lines <- sc.Text()
		}
		close(lp.lines)
	}()
	return lp
}

func freeUDP(t *testing.T) string {
	t.Helper()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.LocalAddr().String()
}

// sendAll sends the datagrams to addr and returns the time before sending.
func sendAll(t *testing.T, addr string, datagrams []testdata.Datagram) time.Time {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	for _, d := range datagrams {
		if _, err := conn.Write(d.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return start
}

// collect reads n lines, or fails after 30 s.
func collect(t *testing.T, lines <-chan string, n int) []string {
	t.Helper()
	var got []string
	// The peers (tshark loads every dissector first) can take seconds to
	// start on a busy 2-core CI machine: a generous bound, not a speed test.
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended after %d lines, want %d: %q", len(got), n, got)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("%d lines in 30 s, want %d: %q", len(got), n, got)
		}
	}
	return got
}

// collectUntil reads lines up to the first for which last is true, or
// fails after 30 s.
func collectUntil(t *testing.T, lines <-chan string, last func(string) bool) []string {
	t.Helper()
	var got []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended after %d lines: %q", len(got), got)
			}
			got = append(got, l)
			if last(l) {
				return got
			}
		case <-timeout:
			t.Fatalf("%d lines in 30 s and no end: %q", len(got), got)
		}
	}
}

// stop interrupts flowrt decode (Ctrl-C), which ends the pipe and so the
// peer; it returns whatever else the peer printed.
func (lp *livePeer) stop(t *testing.T) []string {
	t.Helper()
	lp.decode.Process.Signal(os.Interrupt)
	if err := lp.decode.Wait(); err != nil {
		t.Errorf("flowrt decode did not exit cleanly on interrupt: %v", err)
	}
	var rest []string
	for l := range lp.lines {
		rest = append(rest, l)
	}
	if err := lp.peer.Wait(); err != nil {
		t.Errorf("%s: %v", lp.peer.Path, err)
	}
	return rest
}

// near fails unless got is within 2 s of [from, now].
func nearNow(t *testing.T, what string, got, from time.Time) {
	t.Helper()
	if got.Before(from.Add(-2*time.Second)) || got.After(time.Now().Add(2*time.Second)) {
		t.Errorf("%s: %s, want the receive time (%s … now)", what, got.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano))
	}
}

func TestLivePcapIntoTcpdump(t *testing.T) {
	need(t, "tcpdump")
	datagrams, headers := liveCapture(t)
	// -tt: seconds since the epoch, so the check does not depend on a zone.
	lp := startLivePeer(t, []string{"-t"}, "tcpdump", "-l", "-n", "-tt", "-r", "-")
	from := sendAll(t, lp.addr, datagrams)
	lines := collect(t, lp.lines, headers)
	if rest := lp.stop(t); len(rest) > 0 {
		t.Errorf("tcpdump printed more packets than were sampled: %q", rest)
	}
	for _, l := range lines {
		if strings.Contains(l, "Error converting time") {
			t.Fatalf("tcpdump cannot read the record time: %q", l)
		}
		f := strings.Fields(l)
		secs, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("tcpdump line does not start with a time: %q", l)
		}
		nearNow(t, "tcpdump packet time", time.Unix(0, int64(secs*1e9)), from)
		if f[1] != "IP" {
			t.Errorf("tcpdump does not see an IPv4 packet: %q", l)
		}
	}
	t.Logf("%d live packets through tcpdump, first: %s", len(lines), lines[0])
}

func TestLivePcapIntoTshark(t *testing.T) {
	need(t, "tshark")
	datagrams, headers := liveCapture(t)
	lp := startLivePeer(t, []string{"-t"}, "tshark", "-l", "-r", "-", "-T", "fields", "-E", "separator=;",
		"-e", "frame.time", "-e", "frame.time_epoch", "-e", "ip.src")
	from := sendAll(t, lp.addr, datagrams)
	lines := collect(t, lp.lines, headers)
	lp.stop(t)
	for _, l := range lines {
		f := strings.Split(l, ";")
		if len(f) != 3 {
			t.Fatalf("tshark line %q", l)
		}
		secs, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("tshark frame.time_epoch %q", f[1])
		}
		at := time.Unix(0, int64(secs*1e9)).UTC()
		if nearNow(t, "tshark frame time", at, from); t.Failed() {
			break
		}
		// frame.time is the date a user reads ("Dec  1, 2026 21:50:40.27 UTC"): today's.
		if today := from.UTC().Format("Jan _2, 2006"); !strings.HasPrefix(f[0], today) && !strings.HasPrefix(f[0], at.Format("Jan _2, 2006")) {
			t.Errorf("tshark shows %q, want today, %s", f[0], today)
		}
		if f[2] == "" {
			t.Errorf("tshark sees no IPv4 source in %q", l)
		}
	}
	t.Logf("%d live packets through tshark, first: %s", len(lines), lines[0])
}

// -g: every line starts with the time the datagram arrived.
func TestLiveGrepTime(t *testing.T) {
	datagrams, _ := liveCapture(t)
	fl := startDecode(t, "-g")
	from := sendAll(t, fl.addr, datagrams)
	lines := collectUntil(t, fl.lines, func(l string) bool { return strings.Contains(l, "endDatagram") })
	if len(lines) < 100 {
		t.Fatalf("-g printed %d lines for a datagram of 7 samples", len(lines))
	}
	for _, l := range lines {
		at, err := time.Parse("2006-01-02T15:04:05-0700", strings.Fields(l)[0])
		if err != nil {
			t.Fatalf("-g line does not start with a time: %q", l)
		}
		// -g prints whole seconds.
		if nearNow(t, "-g line time", at, from.Truncate(time.Second)); t.Failed() {
			break
		}
	}
	if err := fl.stop(); err != nil {
		t.Errorf("flowrt did not exit cleanly: %v", err)
	}
}

// -j, -J and the default text: unixSecondsUTC and localtime are the receive
// time, and there is no pcapTimestamp.
func TestLiveTextAndJSONTimes(t *testing.T) {
	datagrams, _ := liveCapture(t)
	for _, mode := range []string{"-j", "-J", "text"} {
		t.Run(mode, func(t *testing.T) {
			var args []string
			if mode != "text" {
				args = append(args, mode)
			}
			fl := startDecode(t, args...)
			from := sendAll(t, fl.addr, datagrams)
			fields := map[string]string{}
			switch mode {
			case "-j":
				line := collect(t, fl.lines, 1)[0]
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not JSON: %q", line)
				}
				for k, v := range m {
					fields[k], _ = v.(string)
				}
			default:
				// -J and text: read the datagram's fields, which come
				// before its first sample.
				first := func(l string) bool { return strings.Contains(l, "startSample") || strings.Contains(l, `"samples":[`) }
				for _, l := range collectUntil(t, fl.lines, first) {
					k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
					if mode == "-J" {
						k, v, _ = strings.Cut(strings.TrimSpace(l), ":")
						k, v = strings.Trim(k, `"`), strings.Trim(strings.TrimSuffix(v, ","), `"`)
					}
					fields[k] = v
				}
			}
			if err := fl.stop(); err != nil {
				t.Errorf("flowrt did not exit cleanly: %v", err)
			}
			for k := range fields {
				if strings.HasPrefix(k, "pcapTimestamp") {
					t.Errorf("live output has %s %q; sflowtool prints it only for a capture", k, fields[k])
				}
			}
			secs, err1 := strconv.ParseInt(fields["unixSecondsUTC"], 10, 64)
			us, err2 := strconv.ParseInt(fields["unixSecondsUTC_uS"], 10, 64)
			if err1 != nil || err2 != nil || us >= 1e6 {
				t.Fatalf("unixSecondsUTC %q unixSecondsUTC_uS %q", fields["unixSecondsUTC"], fields["unixSecondsUTC_uS"])
			}
			at := time.Unix(secs, us*1000)
			nearNow(t, "unixSecondsUTC", at, from)
			if want := time.Unix(secs, 0).Local().Format("2006-01-02T15:04:05-0700"); fields["localtime"] != want {
				t.Errorf("localtime %q, want %q (unixSecondsUTC in the local zone)", fields["localtime"], want)
			}
			if fields["datagramSourceIP"] != "127.0.0.1" {
				t.Errorf("datagramSourceIP %q", fields["datagramSourceIP"])
			}
		})
	}
}
