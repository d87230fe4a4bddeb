package export

import (
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/metric"
)

// TestLineProtocol: one line per data source, tags escaped as the protocol
// says, strings only as the host/ifname tags, non-finite values left out.
func TestLineProtocol(t *testing.T) {
	x := &Influx{Measurement: "sflow"}
	pts := []metric.Point{
		{Agent: "10.0.0.1", DataSource: "2.1", MetricName: "host_name", MetricValue: "web 1,eu=x"},
		{Agent: "10.0.0.1", DataSource: "2.1", MetricName: "load_one", MetricValue: 0.25},
		{Agent: "10.0.0.1", DataSource: "3", MetricName: "ifname", MetricValue: "eth0"},
		{Agent: "10.0.0.1", DataSource: "3", MetricName: "ifinoctets", MetricValue: 1250.5},
		{Agent: "10.0.0.1", DataSource: "3", MetricName: "ifspeed", MetricValue: int64(1e9)},
		{Agent: "10.0.0.2", DataSource: "4", MetricName: "ifname", MetricValue: "only a string"},
	}
	body, lines := x.Write(pts, time.Unix(1700000000, 0))
	want := `sflow,agent=10.0.0.1,datasource=2.1,host=web\ 1\,eu\=x load_one=0.25 1700000000
sflow,agent=10.0.0.1,datasource=3,ifname=eth0 ifinoctets=1250.5,ifspeed=1e+09 1700000000
`
	if string(body) != want || lines != 2 {
		t.Errorf("got %d lines:\n%s\nwant:\n%s", lines, body, want)
	}
}

// TestInfluxEndpoint: 1.x and 2.x write URLs, and what a half-configured
// push says.
func TestInfluxEndpoint(t *testing.T) {
	for _, c := range []struct {
		x    *Influx
		want string
	}{
		{&Influx{URL: "http://127.0.0.1:8086", Database: "sflow"}, "http://127.0.0.1:8086/write?db=sflow&precision=s"},
		{&Influx{URL: "https://influx:8086/", Org: "net", Bucket: "sflow"}, "https://influx:8086/api/v2/write?bucket=sflow&org=net&precision=s"},
		{&Influx{URL: "http://127.0.0.1:8086"}, "neither influxdb.database"},
		{&Influx{URL: "http://127.0.0.1:8086", Bucket: "b"}, "influxdb.org is needed"},
		{&Influx{URL: "127.0.0.1:8086", Database: "d"}, "want http://host:port"},
	} {
		got, err := c.x.Endpoint()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.x.URL, got, c.want)
		}
	}
}
