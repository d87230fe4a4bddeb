package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPrometheusRemoteWrite: the engine pushes its metrics with
// remote_write to Debian's Prometheus (started with
// --web.enable-remote-write-receiver, scraping nothing); queried back, each
// host's load_one and each interface's ifinoctets are the engine's, one
// series per data source, labelled agent and datasource.
func TestPrometheusRemoteWrite(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	need(t, "prometheus")
	conf := filepath.Join(t.TempDir(), "prometheus.yml")
	os.WriteFile(conf, []byte("global: { scrape_interval: 15s }\n"), 0o644)
	promAddr, stopProm := startPrometheus(t, conf, "--web.enable-remote-write-receiver")
	waitFor(t, 30*time.Second, "Prometheus ready", func() bool {
		resp, err := http.Get("http://" + promAddr + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	e := startEngine(t, "-Dprometheus.remotewrite.url=http://"+promAddr+"/api/v1/write", "-Dprometheus.remotewrite.interval=1")
	send(t, e.sflow, "-agents", "2", "-ports", "2", "-hosts", "-count", "900", "-rate", "300", "-counters", "1s")

	type series struct {
		Metric map[string]string
		Value  [2]any
	}
	query := func(q string) map[string]float64 {
		out := map[string]float64{}
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return out
		}
		defer resp.Body.Close()
		var r struct{ Data struct{ Result []series } }
		json.NewDecoder(resp.Body).Decode(&r)
		for _, s := range r.Data.Result {
			v, _ := strconv.ParseFloat(s.Value[1].(string), 64)
			out[s.Metric["agent"]+"|"+s.Metric["datasource"]] = v
		}
		return out
	}
	for _, m := range []string{"load_one", "ifspeed", "ifinoctets"} {
		var dump []struct {
			Agent, DataSource string
			MetricValue       float64
		}
		e.get(t, "/dump/ALL/"+m+"/json", &dump)
		want := map[string]float64{}
		for _, d := range dump {
			want[d.Agent+"|"+d.DataSource] = d.MetricValue
		}
		if len(want) == 0 {
			t.Fatalf("the engine has no %s", m)
		}
		var got map[string]float64
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got = query("sflow_" + m); fmt.Sprint(got) == fmt.Sprint(want) {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sflow_%s in Prometheus %v, in the engine %v", m, got, want)
		}
		t.Logf("sflow_%s: %d series, as the engine has them", m, len(got))
	}
	var an struct {
		Exports map[string]struct {
			Sent    uint64
			Dropped map[string]uint64
		}
	}
	e.get(t, "/analyzer/json", &an)
	if x := an.Exports["remotewrite"]; x.Sent == 0 || len(x.Dropped) != 0 {
		t.Errorf("exports.remotewrite %+v", x)
	}
	// Prometheus goes away: the pushes' samples are dropped, counted, said once.
	stopProm()
	waitFor(t, 10*time.Second, "samples counted as unreachable", func() bool {
		e.get(t, "/analyzer/json", &an)
		return an.Exports["remotewrite"].Dropped["unreachable"] > 0
	})
	if n := strings.Count(e.logText(), "Prometheus remote_write failed"); n != 1 {
		t.Errorf("the failure said %d times, want once", n)
	}
}
