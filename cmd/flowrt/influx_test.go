package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// influxd is a real InfluxDB (Debian's influxdb, 1.x) on 127.0.0.1 with
// its data in a temporary directory.
type influxd struct {
	url string
	cmd *exec.Cmd
}

func startInfluxd(t *testing.T) *influxd {
	t.Helper()
	need(t, "influxd")
	dir := t.TempDir()
	port, rpc := freePort(t, "tcp"), freePort(t, "tcp")
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%[2]s/meta"
[data]
  dir = "%[2]s/data"
  wal-dir = "%[2]s/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
[monitor]
  store-enabled = false
`, rpc, dir, port)
	path := filepath.Join(dir, "influxdb.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	d := &influxd{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: exec.Command("influxd", "-config", path)}
	logf, _ := os.Create(filepath.Join(dir, "influxd.log"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("influxd log (tail):\n%s", tail(string(b), 2000))
		}
	})
	waitFor(t, 20*time.Second, "influxd to answer /ping", func() bool {
		resp, err := http.Get(d.url + "/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 204
	})
	return d
}

// query runs InfluxQL and returns the first result's series.
func (d *influxd) query(t *testing.T, db, q string) []struct {
	Name    string
	Tags    map[string]string
	Columns []string
	Values  [][]any
} {
	t.Helper()
	resp, err := http.PostForm(d.url+"/query", url.Values{"db": {db}, "q": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Results []struct {
			Series []struct {
				Name    string
				Tags    map[string]string
				Columns []string
				Values  [][]any
			}
			Error string
		}
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Results) == 0 || out.Results[0].Error != "" {
		t.Fatalf("%s: %v %s", q, err, body)
	}
	return out.Results[0].Series
}

// TestInfluxDBPush: the engine pushes its metrics to a real InfluxDB every
// second; the last value of each host's load_one there equals the engine's
// own, every data source the engine holds is a series, and stopping
// InfluxDB is counted as dropped lines (said once in the log) while the
// engine goes on.
func TestInfluxDBPush(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	db := startInfluxd(t)
	db.query(t, "", "CREATE DATABASE flowrt")
	e := startEngine(t, "-Dinfluxdb.url="+db.url, "-Dinfluxdb.database=flowrt", "-Dinfluxdb.interval=1")
	if code, body := e.do(t, "PUT", "/flow/bytes/json", "{keys:'ipsource',value:'bytes'}"); code/100 != 2 {
		t.Fatalf("flow: %d %s", code, body)
	}
	send(t, e.sflow, "-agents", "3", "-hosts", "-counters", "1s", "-duration", "3s", "-rate", "200")
	time.Sleep(2500 * time.Millisecond) // two more pushes after the last counters

	var loads []struct {
		Agent, DataSource string
		MetricValue       float64
	}
	e.get(t, "/dump/ALL/load_one/json", &loads)
	if len(loads) != 3 {
		t.Fatalf("engine: load_one of %d hosts, want 3: %+v", len(loads), loads)
	}
	series := db.query(t, "flowrt", "SELECT last(load_one) FROM sflow GROUP BY agent, datasource")
	got := map[string]float64{}
	for _, s := range series {
		if len(s.Values) == 1 {
			got[s.Tags["agent"]+"|"+s.Tags["datasource"]], _ = s.Values[0][1].(float64)
		}
	}
	for _, l := range loads {
		if v, ok := got[l.Agent+"|"+l.DataSource]; !ok || v != l.MetricValue {
			t.Errorf("%s %s: InfluxDB's last load_one %v (present %v), the engine's %v", l.Agent, l.DataSource, v, ok, l.MetricValue)
		}
	}

	// Every data source is a series, tagged with its host's name.
	var all []struct{ Agent, DataSource string }
	e.get(t, "/dump/ALL/ALL/json", &all)
	sources := map[string]bool{}
	for _, p := range all {
		sources[p.Agent+"|"+p.DataSource] = true
	}
	keys := db.query(t, "flowrt", "SHOW SERIES FROM sflow")
	n := 0
	if len(keys) > 0 {
		n = len(keys[0].Values)
		for _, v := range keys[0].Values {
			if k := fmt.Sprint(v[0]); strings.Contains(k, "datasource=2.1") && !strings.Contains(k, "host=") {
				t.Errorf("a host's series has no host tag: %s", k)
			}
		}
	}
	if n != len(sources) {
		t.Errorf("InfluxDB has %d series, the engine %d data sources", n, len(sources))
	}
	flowSeries := db.query(t, "flowrt", "SELECT count(bytes) FROM sflow WHERE bytes > 0")
	if len(flowSeries) == 0 {
		t.Errorf("no flow metric (the bytes definition at the data sources) reached InfluxDB")
	}

	var an struct {
		Exports map[string]struct {
			Sent    uint64
			Dropped map[string]uint64
		}
	}
	e.get(t, "/analyzer/json", &an)
	if st := an.Exports["influxdb"]; st.Sent == 0 || len(st.Dropped) != 0 {
		t.Errorf("/analyzer/json exports.influxdb: %+v, want lines sent and none dropped", st)
	}

	// InfluxDB goes away: the pushes fail, their lines are counted, once said.
	db.cmd.Process.Kill()
	db.cmd.Wait()
	waitFor(t, 5*time.Second, "failed pushes counted", func() bool {
		e.get(t, "/analyzer/json", &an)
		return an.Exports["influxdb"].Dropped["unreachable"] > 0
	})
	time.Sleep(1500 * time.Millisecond)
	if n := strings.Count(e.logText(), "InfluxDB push failed"); n != 1 {
		t.Errorf("the failure was logged %d times, want once", n)
	}
	code, metrics := e.do(t, "GET", "/metrics", "")
	if code != 200 || !strings.Contains(metrics, `flowrt_export_dropped_total{exporter="influxdb",reason="unreachable"}`) ||
		!strings.Contains(metrics, `flowrt_export_sent_total{exporter="influxdb"}`) {
		t.Errorf("/metrics has no export counts for influxdb")
	}
}
