package api

import (
	"cmp"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/export"
	"github.com/flowrt/flowrt/metric"
)

// Prometheus endpoints: sFlow-RT's /prometheus/metrics/{agent}/{metric}/txt
// and /prometheus/analyzer/txt, and flowrt's own /metrics.

var promBuffers = sync.Pool{New: func() any { return &export.Prom{} }}

func (a *API) prometheusRoutes() {
	m := a.mux
	m.HandleFunc("GET /prometheus/metrics/{agent}/{metric}/txt", a.promMetrics)
	m.HandleFunc("GET /prometheus/analyzer/txt", a.promAnalyzer)
	m.HandleFunc("GET /metrics", a.promSelf)
}

func (a *API) writeProm(w http.ResponseWriter, fill func(p *export.Prom)) {
	p := promBuffers.Get().(*export.Prom)
	defer promBuffers.Put(p)
	p.Reset()
	fill(p)
	w.Header().Set("Content-Type", export.PromContentType)
	w.Write(p.Bytes())
}

// promMetrics writes one sample per agent, data source and numeric metric,
// named prefix+metric with agent, datasource and (when the agent is a host
// that says) host labels. String metrics are left out.
func (a *API) promMetrics(w http.ResponseWriter, r *http.Request) {
	sel, err := a.selector(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := a.cfg.Now()
	pts := a.e.Dump(sel, metricNames(r.PathValue("metric")), filterOf(r), now)
	slices.SortStableFunc(pts, func(x, y metric.Point) int { return cmp.Compare(x.MetricName, y.MetricName) })
	hosts := map[string]string{}
	for _, p := range a.e.Dump(sel, []string{"host_name"}, nil, now) {
		if s, ok := p.MetricValue.(string); ok {
			hosts[p.Agent] = s
		}
	}
	a.writeProm(w, func(p *export.Prom) {
		p.Prefix, p.Types = a.cfg.PromPrefix, a.cfg.PromTypes
		for _, pt := range pts {
			v, ok := pt.Number()
			if !ok {
				continue
			}
			labels := [3]export.Label{{Name: "agent", Value: pt.Agent}, {Name: "datasource", Value: pt.DataSource}, {Name: "host"}}
			n := 2
			if h, ok := hosts[pt.Agent]; ok {
				labels[2].Value, n = h, 3
			}
			p.Sample(pt.MetricName, v, labels[:n]...)
		}
	})
}

// promAnalyzer writes /analyzer/json's numbers as sflow_analyzer_<name>
// (sflow_analyzer_agents, …).
func (a *API) promAnalyzer(w http.ResponseWriter, r *http.Request) {
	fields, _ := a.analyzer(r)
	m := fields.(map[string]any)
	names := slices.Sorted(maps.Keys(m))
	a.writeProm(w, func(p *export.Prom) {
		p.Prefix, p.Types = a.cfg.PromPrefix+"analyzer_", a.cfg.PromTypes
		for _, k := range names {
			if v, ok := number(m[k]); ok {
				p.Sample(promAnalyzerName(k), v)
			}
		}
	})
}

// promAnalyzerName turns sFlow-RT's camel case into Prometheus style:
// sFlowAgents → agents, flowsTracked → flows_tracked.
func promAnalyzerName(k string) string {
	k = strings.TrimPrefix(k, "sFlow")
	var b strings.Builder
	for i, c := range k {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// promSelf is flowrt's own health for Prometheus: what it received, what
// it lost and where, what it holds, and the Go runtime.
func (a *API) promSelf(w http.ResponseWriter, r *http.Request) {
	t := a.e.Totals()
	now := a.cfg.Now()
	var lostDatagrams, lostSamples uint64
	for _, ag := range a.e.AgentsInfo(engine.AllAgents, now) {
		lostDatagrams += ag.DatagramsLost
		lostSamples += ag.FlowLostSamples + ag.CounterLostSamples
	}
	var extra map[string]any
	if a.cfg.Extra != nil {
		extra = a.cfg.Extra()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	a.writeProm(w, func(p *export.Prom) {
		p.Prefix, p.Types = "flowrt_", false
		counter := func(name, help string, v float64, labels ...export.Label) {
			p.Family(name, "counter", help)
			p.Sample(name, v, labels...)
		}
		gauge := func(name, help string, v float64) {
			p.Family(name, "gauge", help)
			p.Sample(name, v)
		}
		counter("datagrams_total", "sFlow datagrams received.", float64(t.Datagrams))
		counter("bytes_total", "sFlow bytes received.", float64(t.Bytes))
		p.Family("samples_total", "counter", "sFlow samples received, by kind.")
		p.Sample("samples_total", float64(t.FlowSamples), export.Label{Name: "kind", Value: "flow"})
		p.Sample("samples_total", float64(t.CounterSamples), export.Label{Name: "kind", Value: "counter"})
		p.Family("decode_errors_total", "counter", "Datagrams that could not be decoded, by reason.")
		for _, reason := range slices.Sorted(maps.Keys(t.DecodeErrors)) {
			p.Sample("decode_errors_total", float64(t.DecodeErrors[reason]), export.Label{Name: "reason", Value: reason})
		}
		p.Family("record_decode_errors_total", "counter", "Records left out of datagrams that decoded (a bad sampled_header or host_descr length …), by reason.")
		for _, reason := range slices.Sorted(maps.Keys(t.RecordErrors)) {
			p.Sample("record_decode_errors_total", float64(t.RecordErrors[reason]), export.Label{Name: "reason", Value: reason})
		}
		if v, ok := number(extra["sFlowKernelDrops"]); ok {
			counter("kernel_drops_total", "Datagrams the kernel dropped because the receive buffer was full.", v)
		}
		if v, ok := number(extra["httpConnections"]); ok {
			gauge("http_connections", "HTTP connections held now (at most http.connections.max).", v)
		}
		if v, ok := number(extra["httpConnectionsClosed"]); ok {
			counter("http_connections_closed_total", "Idle and slow HTTP connections closed to make room at http.connections.max.", v)
		}
		if v, ok := number(extra["httpAuthRefused"]); ok {
			counter("http_auth_refused_total", "HTTP requests refused for wrong credentials.", v)
		}
		counter("datagrams_lost_total", "Datagrams missing from the agents' sequence numbers.", float64(lostDatagrams))
		counter("datagrams_looped_total", "Forwarded datagrams that came back (a forwarding loop): neither applied nor forwarded again.", float64(t.Looped))
		if a.cfg.Forwarder != nil {
			sessions := a.cfg.Forwarder.All()
			p.Family("forwarding_datagrams_total", "counter", "Datagrams of each forwarding session, by outcome (returned: came back, a loop).")
			for _, name := range slices.Sorted(maps.Keys(sessions)) {
				st := sessions[name]
				for _, o := range []struct {
					outcome string
					n       uint64
				}{{"sent", st.DatagramsSent}, {"dropped", st.DatagramsDropped}, {"error", st.SendErrors}, {"returned", st.DatagramsReturned}} {
					p.Sample("forwarding_datagrams_total", float64(o.n), export.Label{Name: "session", Value: name}, export.Label{Name: "outcome", Value: o.outcome})
				}
			}
		}
		if st, ok := extra["exports"].(map[string]export.Stats); ok {
			names := slices.Sorted(maps.Keys(st))
			p.Family("export_sent_total", "counter", "Records an exporter delivered (lines, messages, rows), by exporter.")
			for _, n := range names {
				p.Sample("export_sent_total", float64(st[n].Sent), export.Label{Name: "exporter", Value: n})
			}
			p.Family("export_dropped_total", "counter", "Records an exporter lost, by exporter and reason.")
			for _, n := range names {
				for _, r := range slices.Sorted(maps.Keys(st[n].Dropped)) {
					p.Sample("export_dropped_total", float64(st[n].Dropped[r]), export.Label{Name: "exporter", Value: n}, export.Label{Name: "reason", Value: r})
				}
			}
		}
		counter("samples_lost_total", "Samples missing from the data sources' sequence numbers.", float64(lostSamples))
		gauge("agents", "Agents sending sFlow.", float64(a.e.AgentCount()))
		counter("agents_evicted_total", "Agents evicted at agents.max, least recently heard first.", float64(t.AgentsEvicted))
		gauge("datasources", "Data sources held, of all agents.", float64(t.Datasources))
		counter("datasources_evicted_total", "Data sources evicted at agent.datasources.max or datasources.max, least recently heard first.", float64(t.DatasourcesEvicted))
		counter("samples_refused_total", "Samples not applied: datasources.max was reached and their agent had no data source to give up.", float64(t.SamplesRefused))
		counter("hosts_evicted_total", "Entries of the host: table (host and MAC addresses) evicted at its bound (datasources.max).", float64(t.HostsEvicted))
		lim := a.e.Limits()
		gauge("flows_tracked", "Flows held in the flow tables.", float64(lim.Flows.Load()))
		counter("flows_evicted_total", "Flows evicted at flow.max.", float64(lim.Evicted.Load()))
		counter("flows_refused_total", "New flows not tracked at flow.max: their table had no smaller flow to evict.", float64(lim.Refused.Load()))
		gauge("flow_definitions", "Flow definitions.", float64(len(a.e.Definitions())))
		if a.cfg.Scripts != nil {
			st := a.cfg.Scripts.Statuses()
			ids := slices.Sorted(maps.Keys(st))
			p.Family("script_lost_total", "counter", "Callbacks a script lost because it fell behind, by kind.")
			for _, id := range ids {
				s := st[id]
				for _, k := range []struct {
					kind string
					n    uint64
				}{{"flows", s.FlowsLost}, {"events", s.EventsLost}, {"requests", s.RequestsLost}} {
					p.Sample("script_lost_total", float64(k.n), export.Label{Name: "script", Value: id}, export.Label{Name: "kind", Value: k.kind})
				}
			}
			p.Family("script_errors_total", "counter", "Errors a script raised, loading or in callbacks (each in /scripts/json; the log has them rate-limited).")
			for _, id := range ids {
				p.Sample("script_errors_total", float64(st[id].Errors), export.Label{Name: "script", Value: id})
			}
			p.Family("script_interrupts_total", "counter", "Callbacks interrupted, by reason: script.timeout, or script.memory.")
			for _, id := range ids {
				p.Sample("script_interrupts_total", float64(st[id].Timeouts), export.Label{Name: "script", Value: id}, export.Label{Name: "reason", Value: "timeout"})
				p.Sample("script_interrupts_total", float64(st[id].MemoryInterrupts), export.Label{Name: "script", Value: id}, export.Label{Name: "reason", Value: "memory"})
			}
			p.Family("script_memory_bytes", "gauge", "What a script's runtime held at its last measurement (script.memory bounds it).")
			for _, id := range ids {
				p.Sample("script_memory_bytes", float64(st[id].Memory), export.Label{Name: "script", Value: id})
			}
			p.Family("script_stopped", "gauge", "1 when flowrt stopped a script because it held more than script.memory.")
			for _, id := range ids {
				stopped := 0.0
				if st[id].Stopped != "" {
					stopped = 1
				}
				p.Sample("script_stopped", stopped, export.Label{Name: "script", Value: id})
			}
			p.Family("script_httpasync_refused_total", "counter", "httpAsync requests refused because the script had script.httpasync.max in flight.")
			for _, id := range ids {
				p.Sample("script_httpasync_refused_total", float64(st[id].HTTPAsyncRefused), export.Label{Name: "script", Value: id})
			}
			p.Family("script_up", "gauge", "1 when a script loaded and runs (or ended cleanly).")
			for _, id := range ids {
				up := 0.0
				if s := st[id]; s.LoadError == "" && (s.Alive || s.GracefulExit) {
					up = 1
				}
				p.Sample("script_up", up, export.Label{Name: "script", Value: id})
			}
		}
		gauge("uptime_seconds", "Seconds since flowrt started.", a.e.Uptime().Seconds())
		p.Prefix = ""
		gauge("go_goroutines", "Goroutines.", float64(runtime.NumGoroutine()))
		gauge("go_memstats_heap_alloc_bytes", "Heap bytes in use.", float64(ms.HeapAlloc))
		gauge("go_memstats_sys_bytes", "Bytes obtained from the system.", float64(ms.Sys))
		counter("go_gc_cycles_total", "Completed GC cycles.", float64(ms.NumGC))
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
			counter("process_cpu_seconds_total", "User and system CPU time.", cpu)
		}
		if b, err := os.ReadFile("/proc/self/statm"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 1 {
				if pages, err := strconv.ParseFloat(f[1], 64); err == nil {
					gauge("process_resident_memory_bytes", "Resident memory.", pages*float64(os.Getpagesize()))
				}
			}
		}
	})
}
