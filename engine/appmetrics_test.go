package engine

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowrt/flowrt/sflow"
)

// counterDatagram is one counter sample per data source (class, index)
// with the given records, at uptime ms.
func counterDatagram(t *testing.T, seq, uptime uint32, sources map[[2]uint32][]any) []byte {
	t.Helper()
	d := sflow.Datagram{Version: 5, Agent: netip.MustParseAddr("10.0.0.5"), Sequence: seq, Uptime: uptime}
	keys := make([][2]uint32, 0, len(sources))
	for k := range sources {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]uint32) int { return int(a[1]) - int(b[1]) })
	for _, k := range keys {
		var recs []sflow.Record
		for _, v := range sources[k] {
			r, err := sflow.NewRecord(v)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		d.Samples = append(d.Samples, sflow.Sample{Format: sflow.ExpandedCounterSample, Sequence: seq, SourceClass: k[0], SourceIndex: k[1], Records: recs})
	}
	b, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppMetricNames: the names InMon's pages query, from Host sFlow's
// host and container data sources and a switch's ASIC tables — sunburst's
// process and GPU tables, ix-metrics' 2.1.uptime, sflow-test's LAG check,
// active-routes' table utilizations.
func TestAppMetricNames(t *testing.T) {
	e := New(Config{})
	w := e.NewWorker()
	descr := func(name string, os uint32) *sflow.HostDescr {
		return &sflow.HostDescr{Hostname: []byte(name), OSName: os}
	}
	sources := func(gpu uint32) map[[2]uint32][]any {
		return map[[2]uint32][]any{
			{2, 1}: {descr("node1", 2), &sflow.HostCPU{Uptime: 86400, CPUNum: 4},
				&sflow.BroadcomTables{IPv4Entries: 250, IPv4EntriesMax: 1000, MACEntries: 10, MACEntriesMax: 40},
				&sflow.LAGPort{PartnerSystemID: [6]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55}}},
			{3, 100}: {descr("k8s_web_web-7d9f_shop_0a1b_0", 2), &sflow.NVIDIAGPU{GPUTime: gpu}},
			{3, 101}: {descr("nginx.service", 2)},
			{3, 102}: {descr("api.1.abcdefghijklmnopqrstuvwxy", 2)},
			{3, 103}: {descr("redis", 2)},
			{3, 104}: {descr("vm-win10", 0)},
		}
	}
	now := time.Now()
	w.Process(counterDatagram(t, 1, 10_000, sources(1000)), src, now)
	w.Process(counterDatagram(t, 2, 20_000, sources(6000)), src, now.Add(10*time.Second)) // 5000 ms of GPU in 10 s
	sel, _ := e.ParseAgents("ALL")
	rows, err := e.Table(sel, []string{"vir_host_name", "null:k8s_namespace", "null:k8s_name", "null:systemd_service",
		"null:swarm_name", "null:docker_name"}, nil, now.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		var cells []string
		for _, p := range r[1:] {
			if p == nil {
				cells = append(cells, "-")
			} else {
				cells = append(cells, fmt.Sprint(p.MetricValue))
			}
		}
		got[fmt.Sprint(r[0].MetricValue)] = fmt.Sprint(cells)
	}
	want := map[string]string{
		"k8s_web_web-7d9f_shop_0a1b_0":    "[shop web-7d9f - - -]",
		"nginx.service":                   "[- - nginx.service - -]",
		"api.1.abcdefghijklmnopqrstuvwxy": "[- - - api -]",
		"redis":                           "[- - - - redis]",
		"vm-win10":                        "[- - - - -]",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows for %v; the physical host has no vir_host_name", got)
	}
	one := func(name string) any {
		t.Helper()
		st, err := e.Metric(sel, []string{name}, nil, now.Add(10*time.Second))
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
		return st[0].MetricValue
	}
	for name, want := range map[string]any{"max:vir_nvml_gputime": 500.0, "max:uptime": 86400.0, "max:host_uptime": 86400.0,
		"max:bcm_ipv4_utilization": 25.0, "max:bcm_mac_utilization": 25.0} {
		if v := one(name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if v := one("any:agg_partneropersystemid"); v != "001122334455" {
		t.Errorf("agg_partneropersystemid = %v", v)
	}
	if v := one("max:bcm_ipv6_utilization"); v != nil {
		t.Errorf("a table with no maximum has a utilization: %v", v)
	}
}
