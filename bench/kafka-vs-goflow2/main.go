// Command kafka-vs-goflow2 measures, in one run on one machine, flowrt and
// goflow2 publishing the same sFlow datagrams to Kafka, and flowrt's
// consumer engine (sflow.source=kafka) against its UDP path. Kafka is
// franz-go's in-process cluster (kfake), started afresh for every run so
// that one run's records do not stay in memory for the next; every figure
// of CPU comes from the measured process's own counters (/proc/<pid>/stat),
// so the sender, the broker and this program's consumer, which share the
// machine, are not counted in it. See README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/bench/internal/launch"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	flowrtBin  = flag.String("flowrt", "flowrt", "flowrt binary")
	goflow2Bin = flag.String("goflow2", "goflow2", "goflow2 v2.2.6 binary")
	count      = flag.Int("count", 20000, "datagrams per run")
	rate       = flag.Int("rate", 10000, "datagrams per second (flowrt send -rate)")
	agents     = flag.Int("agents", 16, "synthetic agents")
	capture    = flag.String("r", "", "send this capture's datagrams (flowrt send -r) instead of the synthetic mix")
	repeat     = flag.Int("repeat", 3, "runs of each measurement")
	partitions = flag.Int("partitions", 8, "partitions of each topic")
	sendArgs   = flag.String("send", "", "more flowrt send flags for the synthetic mix, e.g. \"-counters 1s -ports 48\"")
	only       = flag.String("only", "publish,consume,clickhouse", "which parts: publish (flowrt vs goflow2), consume (consumer engine vs UDP), clickhouse (the direct writer)")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	for r := 1; r <= *repeat; r++ {
		if strings.Contains(*only, "publish") {
			// The order alternates so that neither tool always runs on a
			// machine the other has just warmed or loaded.
			tools := []string{"flowrt", "goflow2"}
			if r%2 == 0 {
				tools = []string{"goflow2", "flowrt"}
			}
			for _, format := range []string{"json", "protobuf"} {
				for _, tool := range tools {
					res, err := publishRun(tool, format)
					if err != nil {
						log.Fatalf("run %d %s %s: %v", r, tool, format, err)
					}
					res.print(r)
				}
			}
		}
		if strings.Contains(*only, "consume") {
			if err := consumeRun(r); err != nil {
				log.Fatalf("run %d consumer: %v", r, err)
			}
		}
		if strings.Contains(*only, "clickhouse") {
			if err := clickHouseRun(r); err != nil {
				log.Fatalf("run %d clickhouse: %v", r, err)
			}
		}
	}
}

// sent is what flowrt send reports.
type sent struct {
	Datagrams      int `json:"datagrams"`
	Bytes          int `json:"bytes"`
	FlowSamples    int `json:"flowSamples"`
	CounterSamples int `json:"counterSamples"`
	SendErrors     int `json:"sendErrors"`
}

// send runs flowrt send to a UDP address and returns its report.
func send(to string) (sent, error) {
	args := []string{"send", "-to", to, "-count", strconv.Itoa(*count), "-rate", strconv.Itoa(*rate), "-duration", "1h"}
	if *capture != "" {
		args = append(args, "-r", *capture)
	} else {
		args = append(args, "-agents", strconv.Itoa(*agents), "-counters", "0", "-seed", "1")
		args = append(args, strings.Fields(*sendArgs)...) // later flags win
	}
	out, err := exec.Command(*flowrtBin, args...).Output()
	if err != nil {
		return sent{}, fmt.Errorf("flowrt send: %w", err)
	}
	var s sent
	if err := json.Unmarshal(out, &s); err != nil {
		return sent{}, fmt.Errorf("flowrt send printed %q: %w", out, err)
	}
	return s, nil
}

// cpu is a process's user+system time in seconds, from /proc/<pid>/stat.
func cpu(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64) // field 14 of stat: utime
	st, _ := strconv.ParseFloat(f[12], 64) // field 15: stime
	return (ut + st) / 100, nil            // USER_HZ is 100 on Linux
}

func freePort(network string) int {
	p, err := launch.FreePort(network)
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// proc is a started engine: flowrt or goflow2.
type proc struct {
	*launch.Proc
	sflow   string // UDP address, "" for a consumer engine
	http    string // REST base URL of a flowrt
	metrics string // goflow2's Prometheus URL
}

// startFlowrt starts a flowrt engine with these properties and waits for
// its REST listener.
func startFlowrt(props ...string) (*proc, error) {
	dir, err := os.MkdirTemp("", "kvg-state")
	if err != nil {
		return nil, err
	}
	e, err := launch.StartEngine(*flowrtBin, dir, props...)
	if err != nil {
		return nil, err
	}
	return &proc{Proc: e.Proc, sflow: e.SFlow, http: e.HTTP}, nil
}

// startGoflow2 starts goflow2 publishing flow messages to Kafka.
func startGoflow2(brokers, topic, format string) (*proc, error) {
	sp, mp := freePort("udp"), freePort("tcp")
	if format == "protobuf" {
		format = "bin" // goflow2's name for its protobuf (length-prefixed) messages
	}
	g, err := launch.Start(exec.Command(*goflow2Bin, "-listen", fmt.Sprintf("sflow://127.0.0.1:%d", sp), "-addr", fmt.Sprintf("127.0.0.1:%d", mp),
		"-transport", "kafka", "-transport.kafka.brokers", brokers, "-transport.kafka.topic", topic,
		"-transport.kafka.compression", "lz4", "-transport.kafka.flushfreq", "1s", "-format", format))
	if err != nil {
		return nil, err
	}
	p := &proc{Proc: g, sflow: fmt.Sprintf("127.0.0.1:%d", sp), metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", mp)}
	// goflow2 logs nothing when ready; its metrics listener answers once
	// the collector and the Kafka producer are up.
	for range 150 {
		if r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mp)); err == nil {
			r.Body.Close()
			time.Sleep(500 * time.Millisecond)
			return p, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.Stop()
	return nil, fmt.Errorf("goflow2 did not start in 15 s:\n%s", p.Log())
}

// counter consumes a topic from its start, counting records and value bytes.
type counter struct {
	n, bytes atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the last record
	cancel   context.CancelFunc
	done     chan struct{}
}

func consume(brokers []string, topic string) (*counter, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &counter{cancel: cancel, done: make(chan struct{})}
	c.last.Store(time.Now().UnixNano())
	go func() {
		defer close(c.done)
		defer cl.Close()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				c.n.Add(1)
				c.bytes.Add(int64(len(r.Value)))
				c.last.Store(time.Now().UnixNano())
			})
		}
	}()
	return c, nil
}

// settle waits until n() reaches want, or has not moved for quiet.
func settle(n func() int64, want int64, quiet time.Duration) {
	last, since := n(), time.Now()
	for {
		time.Sleep(200 * time.Millisecond)
		v := n()
		if v >= want {
			return
		}
		if v != last {
			last, since = v, time.Now()
		} else if time.Since(since) > quiet {
			return
		}
	}
}

type publishResult struct {
	tool, format string
	sent         sent
	messages     int64
	bytes        int64
	sockDrops    int64  // datagrams the kernel dropped at the UDP socket
	toolDrops    string // goflow2's own counters of what it dropped
	cpu          float64
	wall         float64
}

func (r publishResult) print(run int) {
	loss := float64(r.sent.FlowSamples-int(r.messages)) / float64(r.sent.FlowSamples) * 100
	fmt.Printf("run %d publish %-8s %-8s samples %7d messages %7d loss %5.2f%% (socket drops %d datagrams%s) bytes/msg %6.1f cpu %6.2fs msgs/s/core %8.0f wall %5.1fs\n",
		run, r.tool, r.format, r.sent.FlowSamples, r.messages, loss, r.sockDrops, r.toolDrops, float64(r.bytes)/float64(max(r.messages, 1)), r.cpu,
		float64(r.messages)/r.cpu, r.wall)
}

// publishRun is one tool publishing the flow samples of -count datagrams.
func publishRun(tool, format string) (publishResult, error) {
	res := publishResult{tool: tool, format: format}
	k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(*partitions), "flows"))
	if err != nil {
		return res, err
	}
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	var p *proc
	if tool == "flowrt" {
		p, err = startFlowrt("-Dkafka.brokers="+brokers, "-Dkafka.topic.flows=flows", "-Dkafka.format="+format)
	} else {
		p, err = startGoflow2(brokers, "flows", format)
	}
	if err != nil {
		return res, err
	}
	defer p.Stop()
	c, err := consume(k.ListenAddrs(), "flows")
	if err != nil {
		return res, err
	}
	defer func() { c.cancel(); <-c.done }()
	time.Sleep(time.Second)
	c0, err := cpu(p.Cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if res.sent, err = send(p.sflow); err != nil {
		return res, err
	}
	settle(c.n.Load, int64(res.sent.FlowSamples), 5*time.Second)
	c1, err := cpu(p.Cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	res.cpu, res.wall = c1-c0, time.Since(start).Seconds()
	res.messages, res.bytes = c.n.Load(), c.bytes.Load()
	res.sockDrops = socketDrops(p.sflow)
	if p.metrics != "" {
		res.toolDrops = droppedMetrics(p.metrics)
	}
	return res, nil
}

// received is the datagrams an engine has applied, summed over its agents.
func received(p *proc) int64 {
	r, err := http.Get(p.http + "/agents/json")
	if err != nil {
		return -1
	}
	defer r.Body.Close()
	var as map[string]struct{ SFlowDatagramsReceived int64 }
	if json.NewDecoder(r.Body).Decode(&as) != nil {
		return -1
	}
	var n int64
	for _, a := range as {
		n += a.SFlowDatagramsReceived
	}
	return n
}

// defineFlow gives an engine the same flow work in both paths.
func defineFlow(p *proc) error {
	req, _ := http.NewRequest("PUT", p.http+"/flow/pair/json", strings.NewReader(`{"keys":"ipsource,ipdestination","value":"bytes"}`))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	r.Body.Close()
	if r.StatusCode/100 != 2 {
		return fmt.Errorf("PUT /flow/pair/json: %s", r.Status)
	}
	return nil
}

// consumeRun measures CPU per datagram of an engine fed by UDP, of an inlet
// (UDP → Kafka) and of a consumer engine fed by the inlet through Kafka.
func consumeRun(run int) error {
	udp, err := startFlowrt()
	if err != nil {
		return err
	}
	if err := defineFlow(udp); err != nil {
		udp.Stop()
		return err
	}
	time.Sleep(time.Second)
	c0, _ := cpu(udp.Cmd.Process.Pid)
	s, err := send(udp.sflow)
	if err != nil {
		udp.Stop()
		return err
	}
	settle(func() int64 { return received(udp) }, int64(s.Datagrams), 3*time.Second)
	c1, _ := cpu(udp.Cmd.Process.Pid)
	n := received(udp)
	rssUDP := rss(udp.Cmd.Process.Pid)
	udp.Stop()
	fmt.Printf("run %d consume  sent            datagrams %7d flow samples %d counter samples %d agents %d\n", run, s.Datagrams, s.FlowSamples, s.CounterSamples, *agents)
	fmt.Printf("run %d consume  udp-engine      datagrams %7d applied %7d cpu %6.2fs µs/datagram %6.1f rss %d MiB\n", run, s.Datagrams, n, c1-c0, (c1-c0)/float64(n)*1e6, rssUDP>>20)

	k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(*partitions), "raw"))
	if err != nil {
		return err
	}
	defer k.Close()
	brokers := strings.Join(k.ListenAddrs(), ",")
	consumer, err := startFlowrt("-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dsflow.source=kafka", "-Dkafka.group=engines",
		"-Dkafka.offset=earliest")
	if err != nil {
		return err
	}
	defer consumer.Stop()
	if err := defineFlow(consumer); err != nil {
		return err
	}
	inlet, err := startFlowrt("-Dkafka.brokers="+brokers, "-Dkafka.topic.raw=raw", "-Dkafka.inlet=yes")
	if err != nil {
		return err
	}
	defer inlet.Stop()
	time.Sleep(3 * time.Second) // the consumer has joined its group
	i0, _ := cpu(inlet.Cmd.Process.Pid)
	k0, _ := cpu(consumer.Cmd.Process.Pid)
	if s, err = send(inlet.sflow); err != nil {
		return err
	}
	settle(func() int64 { return received(consumer) }, int64(s.Datagrams), 5*time.Second)
	i1, _ := cpu(inlet.Cmd.Process.Pid)
	k1, _ := cpu(consumer.Cmd.Process.Pid)
	n = received(consumer)
	if n <= 0 {
		return errors.New("the consumer engine applied no datagram:\n" + consumer.Log())
	}
	fmt.Printf("run %d consume  inlet           datagrams %7d          cpu %6.2fs µs/datagram %6.1f\n", run, s.Datagrams, i1-i0, (i1-i0)/float64(s.Datagrams)*1e6)
	fmt.Printf("run %d consume  kafka-consumer  datagrams %7d applied %7d cpu %6.2fs µs/datagram %6.1f rss %d MiB\n", run, s.Datagrams, n, k1-k0, (k1-k0)/float64(n)*1e6, rss(consumer.Cmd.Process.Pid)>>20)
	return nil
}

// socketDrops is the kernel's drop count of the UDP socket bound to addr
// (the last column of /proc/net/udp): datagrams that found its receive
// buffer full.
func socketDrops(addr string) int64 {
	_, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	want := fmt.Sprintf(":%04X", pn)
	var n int64
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 2 && strings.HasSuffix(fs[1], want) {
				d, _ := strconv.ParseInt(fs[len(fs)-1], 10, 64)
				n += d
			}
		}
	}
	return n
}

// droppedMetrics is goflow2's non-zero Prometheus counters whose name
// says they count something dropped or in error.
func droppedMetrics(url string) string {
	r, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer r.Body.Close()
	var out []string
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || !(strings.Contains(l, "drop") || strings.Contains(l, "error")) {
			continue
		}
		if fs := strings.Fields(l); len(fs) == 2 && fs[1] != "0" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; goflow2: " + strings.Join(out, ", ")
}

// rss is a process's resident memory in bytes (VmRSS of /proc/<pid>/status).
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}
