package main_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netflowV9 is the start of a NetFlow v9 export packet (version 9, one
// record, uptime, time, sequence, source id): what a router configured for
// NetFlow sends to a port meant for sFlow.
func netflowV9() []byte {
	b := binary.BigEndian.AppendUint16(nil, 9)
	b = binary.BigEndian.AppendUint16(b, 1)
	for range 4 {
		b = binary.BigEndian.AppendUint32(b, 7)
	}
	return b
}

// A capture of the wrong traffic (here: HTTP over TCP and NetFlow to
// another port, captured with tcpdump on lo) says on stderr what it holds
// and where sFlow would be, instead of printing nothing.
func TestDecodeCaptureWithoutSFlow(t *testing.T) {
	need(t, "tcpdump")
	if os.Geteuid() != 0 {
		t.Skip("capturing on lo with tcpdump needs root")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }))
	defer srv.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	httpPort := srv.Listener.Addr().(*net.TCPAddr).Port
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port

	file := filepath.Join(t.TempDir(), "no-sflow.pcap")
	// Immediate mode, so that the test need not wait for a buffer to fill,
	// and a snapshot length that fits many packets in the capture ring: at
	// tcpdump's default (256 KiB a frame) it holds 8 and the kernel drops
	// the rest of a burst.
	td := exec.Command("tcpdump", "--immediate-mode", "-s", "2048", "-B", "8192", "-Z", "root", "-U", "-i", "lo", "-w", file, fmt.Sprintf("tcp port %d or udp port %d", httpPort, udpPort))
	stderr, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	defer td.Process.Kill()
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening on") {
		t.Fatalf("tcpdump did not start: %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	for range 3 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	c, err := net.Dial("udp", udp.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(netflowV9())
	c.Write([]byte("not flow data at all"))
	c.Close()
	srv.CloseClientConnections()
	// tcpdump -U writes each packet as it sees it: wait for the last ones.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if out, _ := exec.Command("tcpdump", "-n", "-r", file, "udp").Output(); len(nonEmpty(string(out))) == 2 {
			break
		}
		if time.Now().After(deadline) {
			all, _ := exec.Command("tcpdump", "-n", "-r", file).CombinedOutput()
			t.Fatalf("tcpdump did not capture the 2 UDP datagrams in 10 s; the capture holds:\n%s", all)
		}
	}
	td.Process.Signal(os.Interrupt)
	td.Wait()

	// The truth: what tcpdump itself reads from the file.
	tcp := len(nonEmpty(runCmd(t, "tcpdump", "-n", "-r", file, "tcp")))
	udpN := len(nonEmpty(runCmd(t, "tcpdump", "-n", "-r", file, "udp")))
	if tcp == 0 || udpN != 2 {
		t.Fatalf("the capture holds %d TCP packets and %d UDP datagrams, want some and 2", tcp, udpN)
	}
	out, err := exec.Command(flowrt, "decode", "-r", file).CombinedOutput()
	if err != nil {
		t.Fatalf("flowrt decode: %v\n%s", err, out)
	}
	var summary string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "flowrt decode: no sFlow datagrams") {
			summary = l
		}
	}
	for _, want := range []string{
		"in " + file,
		fmt.Sprintf("%d TCP packets", tcp),
		fmt.Sprintf("2 UDP datagrams to port %d from 127.0.0.1 that are not sFlow version 5", udpPort),
		"1 NetFlow v9", "1 not a flow protocol flowrt knows",
		"normally to port 6343", "tcpdump -i any -w FILE udp port 6343",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// Each datagram that is not sFlow is named as it is skipped.
	if !strings.Contains(string(out), "it looks like NetFlow v9") {
		t.Errorf("the NetFlow datagram is not named:\n%s", out)
	}
	t.Log(summary)
}

// Live: NetFlow sent to flowrt decode's port is named as it arrives, and
// the summary at Ctrl-C says that no sFlow came and what did.
func TestDecodeLiveWithoutSFlow(t *testing.T) {
	fl := startDecode(t, "-j")
	c, err := net.Dial("udp", fl.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(netflowV9())
	c.Close()
	if !fl.stderr.Scan() || !strings.Contains(fl.stderr.Text(), "from 127.0.0.1:") ||
		!strings.Contains(fl.stderr.Text(), "not an sFlow version 5 datagram") || !strings.Contains(fl.stderr.Text(), "it looks like NetFlow v9") {
		t.Errorf("the NetFlow datagram is not named on stderr: %q", fl.stderr.Text())
	}
	// Ctrl-C; read stderr to its end before Wait closes it.
	fl.cmd.Process.Signal(os.Interrupt)
	var rest []string
	for fl.stderr.Scan() {
		rest = append(rest, fl.stderr.Text())
	}
	if err := fl.cmd.Wait(); err != nil {
		t.Errorf("flowrt decode did not exit cleanly: %v", err)
	}
	want := "flowrt decode: no sFlow datagrams on UDP " + fl.addr + ": 1 UDP datagram from 127.0.0.1 that is not sFlow version 5 (1 NetFlow v9)"
	if len(rest) == 0 || !strings.HasPrefix(rest[len(rest)-1], want) || !strings.Contains(rest[len(rest)-1], "-p") {
		t.Errorf("at exit, stderr ends %q, want a line starting %q and naming -p", rest, want)
	}
}
