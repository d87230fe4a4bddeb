package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clickhouse is a real ClickHouse server (Debian's clickhouse-server) on
// 127.0.0.1 with its data in a temporary directory.
type clickhouse struct {
	url string
	cmd *exec.Cmd
}

// extra are more of the server's settings, as --key=value.
func startClickHouse(t *testing.T, extra ...string) *clickhouse {
	t.Helper()
	need(t, "clickhouse-server")
	if _, err := os.Stat("/etc/clickhouse-server/config.xml"); err != nil {
		t.Skip("clickhouse-server has no /etc/clickhouse-server/config.xml")
	}
	dir := t.TempDir()
	port := freePort(t, "tcp")
	args := []string{"--config-file=/etc/clickhouse-server/config.xml", "--",
		"--path=" + dir + "/data/", "--tmp_path=" + dir + "/tmp/", "--user_files_path=" + dir + "/uf/",
		"--format_schema_path=" + dir + "/fs/", fmt.Sprintf("--http_port=%d", port), fmt.Sprintf("--tcp_port=%d", freePort(t, "tcp")),
		fmt.Sprintf("--interserver_http_port=%d", freePort(t, "tcp")), "--listen_host=127.0.0.1",
		"--logger.log=" + dir + "/log", "--logger.errorlog=" + dir + "/err", "--logger.console=0"}
	args = append(args, extra...)
	c := &clickhouse{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: exec.Command("clickhouse-server", args...)}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "err"))
			t.Logf("clickhouse-server errors (tail):\n%s", tail(string(b), 2000))
		}
	})
	waitFor(t, 30*time.Second, "clickhouse-server to answer", func() bool {
		_, err := c.query("SELECT 1")
		return err == nil
	})
	return c
}

func (c *clickhouse) query(q string) (string, error) {
	resp, err := http.Get(c.url + "/?query=" + url.QueryEscape(q))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *clickhouse) numbers(t *testing.T, q string) []float64 {
	t.Helper()
	out, err := c.query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var vs []float64
	for _, f := range strings.Fields(out) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%s: %q", q, out)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestClickHouseHistory: the engine makes its tables in a real ClickHouse
// and writes every flow sample and the counters there; summed in SQL, the
// samples, frames and bytes of each of the sender's top flows equal what
// the sender says it sent, the rows are as many as the flow samples sent,
// and the counters table holds each host's load_one as the engine has it.
func TestClickHouseHistory(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	ch := startClickHouse(t)
	e := startEngine(t, "-Dclickhouse.url="+ch.url, "-Dclickhouse.database=sflowtest", "-Dclickhouse.flush=0.5",
		"-Dclickhouse.counters=1", "-Dclickhouse.ttl=30")
	if !strings.Contains(e.logText(), "writing history to ClickHouse") {
		t.Fatalf("the engine did not say it writes to ClickHouse:\n%s", e.logText())
	}
	rep := send(t, e.sflow, "-agents", "3", "-hosts", "-counters", "1s", "-count", "1500", "-rate", "500")
	time.Sleep(2500 * time.Millisecond)

	if got := ch.numbers(t, "SELECT count() FROM sflowtest.flows"); got[0] != float64(rep.FlowSamples) {
		t.Errorf("flows table: %v rows, %d flow samples sent", got[0], rep.FlowSamples)
	}
	if len(rep.TopFlows) == 0 {
		t.Fatalf("the sender reported no flows")
	}
	ch.checkTopFlows(t, "sflowtest.flows", rep)
	var loads []struct {
		Agent, DataSource string
		MetricValue       float64
	}
	e.get(t, "/dump/ALL/load_one/json", &loads)
	for _, l := range loads {
		got := ch.numbers(t, fmt.Sprintf("SELECT argMax(value, time) FROM sflowtest.counters WHERE agent = '%s' AND datasource = '%s' AND metric = 'load_one'", l.Agent, l.DataSource))
		if got[0] != l.MetricValue {
			t.Errorf("%s: load_one %v in ClickHouse, %v in the engine", l.Agent, got[0], l.MetricValue)
		}
	}
	if len(loads) != 3 {
		t.Errorf("engine: %d hosts' load_one, want 3", len(loads))
	}
	// Debian's ClickHouse (18.16) predates TTL: the engine says so instead of failing.
	if v, _ := ch.query("SELECT version()"); strings.HasPrefix(v, "18.") && !strings.Contains(e.logText(), "has no TTL") {
		t.Errorf("ClickHouse %s has no TTL and the engine did not say so", v)
	}
	var an struct {
		Exports map[string]struct {
			Sent    uint64
			Dropped map[string]uint64
		}
	}
	e.get(t, "/analyzer/json", &an)
	if st := an.Exports["clickhouse"]; st.Sent < uint64(rep.FlowSamples) || len(st.Dropped) != 0 {
		t.Errorf("/analyzer/json exports.clickhouse: %+v", st)
	}
}

// checkTopFlows: for each of the sender's top flows, the table's count(),
// sum(packets) and sum(bytes) are the samples, frames and bytes it sent.
func (c *clickhouse) checkTopFlows(t *testing.T, table string, rep sendReport) {
	t.Helper()
	for _, f := range rep.TopFlows {
		src, dst, _ := strings.Cut(f.Key, ",")
		got := c.numbers(t, fmt.Sprintf("SELECT count(), sum(packets), sum(bytes) FROM %s WHERE ipsource = '%s' AND ipdestination = '%s'", table, src, dst))
		if got[0] != f.Samples || got[1] != f.Frames || got[2] != f.Bytes {
			t.Errorf("%s: ClickHouse has %v samples, %v packets, %v bytes; sent %v samples, %v frames, %v bytes",
				f.Key, got[0], got[1], got[2], f.Samples, f.Frames, f.Bytes)
		}
	}
}
