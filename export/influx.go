package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/metric"
)

// Influx pushes the engine's metrics to InfluxDB as line protocol, every
// Interval: one line per agent and data source (measurement Measurement,
// tags agent, datasource, and host and ifname where the engine knows them),
// each numeric metric a field — counters, derived rates and utilizations,
// and the flow definitions' values at the data source. InfluxDB 1.x takes
// them at /write?db=, 2.x at /api/v2/write?org=&bucket= with a token.
type Influx struct {
	URL         string // http://host:8086
	Database    string // 1.x
	Org, Bucket string // 2.x
	Token       string // 2.x (Authorization: Token …), or 1.x user:password
	Measurement string
	Interval    time.Duration
	// Points returns every metric point to push (the engine's Dump).
	Points func(now time.Time) []metric.Point
	Log    *slog.Logger
	Client *http.Client

	stats   counts
	failing atomic.Bool
	line    Line
	zbuf    bytes.Buffer
	zw      *gzip.Writer
}

// Stats is what an exporter did, for /analyzer/json, /metrics and the
// status page.
type Stats struct {
	Destination string            `json:"destination"`
	Sent        uint64            `json:"sent"`    // records delivered (lines, messages, rows)
	Batches     uint64            `json:"batches"` // requests or batches delivered
	Dropped     map[string]uint64 `json:"dropped"` // records lost, by reason
	LastError   string            `json:"lastError,omitempty"`
}

// counts is an exporter's Stats behind a lock.
type counts struct {
	mu sync.Mutex
	s  Stats
}

// setDestination says where the exporter sends, for its Stats.
func (c *counts) setDestination(d string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Destination = d
}

// snapshot copies the counts.
func (c *counts) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.Dropped = map[string]uint64{}
	for k, v := range c.s.Dropped {
		out.Dropped[k] = v
	}
	return out
}

func (c *counts) add(sent, batches uint64, dropReason string, dropped uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Sent += sent
	c.s.Batches += batches
	if dropped > 0 {
		if c.s.Dropped == nil {
			c.s.Dropped = map[string]uint64{}
		}
		c.s.Dropped[dropReason] += dropped
	}
	if err != nil {
		c.s.LastError = err.Error()
	}
}

// Stats returns the pusher's counts.
func (x *Influx) Stats() Stats { return x.stats.snapshot() }

// Endpoint is the write URL for the configured version.
func (x *Influx) Endpoint() (string, error) {
	u, err := url.Parse(x.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("influxdb.url %q: want http://host:port or https://host:port", x.URL)
	}
	q := url.Values{"precision": {"s"}}
	switch {
	case x.Bucket != "":
		if x.Org == "" {
			return "", fmt.Errorf("influxdb.bucket is set (InfluxDB 2.x): influxdb.org is needed too")
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/write"
		q.Set("org", x.Org)
		q.Set("bucket", x.Bucket)
	case x.Database != "":
		u.Path = strings.TrimSuffix(u.Path, "/") + "/write"
		q.Set("db", x.Database)
	default:
		return "", fmt.Errorf("influxdb.url is set but neither influxdb.database (1.x) nor influxdb.bucket and influxdb.org (2.x)")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Run pushes every Interval until ctx ends.
func (x *Influx) Run(ctx context.Context) error {
	endpoint, err := x.Endpoint()
	if err != nil {
		return err
	}
	if x.Client == nil {
		x.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if x.Measurement == "" {
		x.Measurement = "sflow"
	}
	x.stats.setDestination(endpoint)
	x.zw = gzip.NewWriter(&x.zbuf)
	t := time.NewTicker(x.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			x.push(ctx, endpoint, now)
		}
	}
}

// Write renders points as line protocol into x's buffer and returns it
// with the number of lines (valid until the next call).
func (x *Influx) Write(pts []metric.Point, now time.Time) ([]byte, int) {
	l := &x.line
	l.Reset()
	lines := 0
	ts := now.Unix()
	for i := 0; i < len(pts); {
		j := i
		for j < len(pts) && pts[j].Agent == pts[i].Agent && pts[j].DataSource == pts[i].DataSource {
			j++
		}
		group := pts[i:j]
		start := l.Len()
		l.Start(x.Measurement)
		l.Tag("agent", group[0].Agent)
		l.Tag("datasource", group[0].DataSource)
		for _, p := range group {
			if s, ok := p.MetricValue.(string); ok && (p.MetricName == "host_name" || p.MetricName == "ifname") {
				l.Tag(strings.TrimSuffix(p.MetricName, "_name"), s)
			}
		}
		for _, p := range group {
			if v, ok := number(p.MetricValue); ok {
				l.Field(p.MetricName, v)
			}
		}
		before := l.Len()
		l.End(start, ts)
		if l.Len() > before {
			lines++
		}
		i = j
	}
	return l.Bytes(), lines
}

func (x *Influx) push(ctx context.Context, endpoint string, now time.Time) {
	body, lines := x.Write(x.Points(now), now)
	if lines == 0 {
		return
	}
	x.zbuf.Reset()
	x.zw.Reset(&x.zbuf)
	x.zw.Write(body)
	x.zw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(x.zbuf.Bytes()))
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	if x.Token != "" {
		if user, pass, ok := strings.Cut(x.Token, ":"); ok && x.Bucket == "" {
			req.SetBasicAuth(user, pass)
		} else {
			req.Header.Set("Authorization", "Token "+x.Token)
		}
	}
	pushed(x.Client, req, "InfluxDB", uint64(lines), &x.stats, &x.failing, x.Log, "InfluxDB push failed; the lines of each failed push are counted as dropped, pushing goes on", endpoint)
}

// pushed sends one push and counts its outcome: n records sent, or
// dropped as "unreachable" (no answer) or "refused" (not a 2xx, the
// answer's start in the error); a run of failures is said once in the log
// (warn), and the first push that works again once.
func pushed(c *http.Client, req *http.Request, peer string, n uint64, st *counts, failing *atomic.Bool, log *slog.Logger, warn, dest string) {
	reason := "unreachable"
	resp, err := c.Do(req)
	if err == nil {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			reason = "refused"
			err = fmt.Errorf("%s answered %s: %s", peer, resp.Status, strings.TrimSpace(string(msg)))
		}
	}
	if err != nil {
		st.add(0, 0, reason, n, err)
		if !failing.Swap(true) {
			log.Warn(warn, "url", dest, "err", err)
		}
		return
	}
	st.add(n, 1, "", 0, nil)
	if failing.Swap(false) {
		log.Info(peer+" push works again", "url", dest)
	}
}

// number is a metric's value as a float, when it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}
