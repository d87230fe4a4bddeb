package export

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestPromFormat(t *testing.T) {
	p := Prom{Prefix: "sflow_", Types: true}
	p.Sample("ifinoctets", 1250000, Label{"agent", "10.0.0.1"}, Label{"datasource", "3"})
	p.Sample("ifinoctets", 0.5, Label{"agent", "10.0.0.2"}, Label{"datasource", "4"})
	p.Sample("load_one", 0.25, Label{"agent", "10.0.0.1"}, Label{"datasource", "2.1"}, Label{"host", `we"ird\name` + "\n"})
	p.Sample("2x-odd.name", math.Inf(1))
	p.Family("datagrams_total", "counter", "sFlow datagrams\nreceived")
	p.Sample("datagrams_total", 12)
	want := `# TYPE sflow_ifinoctets gauge
sflow_ifinoctets{agent="10.0.0.1",datasource="3"} 1.25e+06
sflow_ifinoctets{agent="10.0.0.2",datasource="4"} 0.5
# TYPE sflow_load_one gauge
sflow_load_one{agent="10.0.0.1",datasource="2.1",host="we\"ird\\name\n"} 0.25
# TYPE sflow_2x_odd_name gauge
sflow_2x_odd_name +Inf
# HELP sflow_datagrams_total sFlow datagrams\nreceived
# TYPE sflow_datagrams_total counter
sflow_datagrams_total 12
`
	if got := string(p.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Prometheus's own parser reads it back.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if m := fams["sflow_load_one"].Metric[0]; m.Label[2].GetValue() != "we\"ird\\name\n" || m.Gauge.GetValue() != 0.25 {
		t.Errorf("parsed load_one %v", m)
	}
	if fams["sflow_datagrams_total"].GetType().String() != "COUNTER" {
		t.Errorf("datagrams_total type %v", fams["sflow_datagrams_total"].GetType())
	}
	p.Reset()
	p.Prefix = ""
	p.Sample("9lives", 1)
	if got := string(p.Bytes()); got != "# TYPE _9lives gauge\n_9lives 1\n" {
		t.Errorf("digit-first name: %q", got)
	}
}

// BenchmarkProm10k writes 10,000 series (one family, three labels), the
// dependency study's workload.
func BenchmarkProm10k(b *testing.B) {
	agents, sources := make([]string, 100), make([]string, 100)
	for i := range 100 {
		agents[i] = "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)
		sources[i] = strconv.Itoa(i + 1)
	}
	p := Prom{Prefix: "sflow_", Types: true}
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		for i := range 10000 {
			p.Sample("ifinoctets", float64(i)*1234.5, Label{"agent", agents[i/100]}, Label{"datasource", sources[i%100]},
				Label{"host", "leaf" + ""})
		}
	}
	b.ReportMetric(float64(len(p.Bytes())), "bytes")
}
