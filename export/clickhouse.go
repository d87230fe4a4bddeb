package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrt/flowrt/flow"
	"github.com/flowrt/flowrt/metric"
)

// ClickHouse writes history to ClickHouse over its HTTP interface, in
// batches: every flow sample as a row of the flows table (Rows says which
// keys; bytes and packets are already scaled by the sampling rate, so
// sum(bytes) is the traffic), and every numeric metric of every data
// source as a row of the counters table each Interval. Samples wait in a
// buffer of at most MaxBuffer bytes between flushes; past it they are
// dropped and counted ("buffer full"), so a slow or absent ClickHouse never
// holds the collector back. A batch ClickHouse does not take is dropped
// and counted by reason.
type ClickHouse struct {
	URL      string // http://host:8123
	Database string
	User     string
	Password string
	TTLDays  int           // rows older than this go (0: kept); needs ClickHouse ≥ 19.6
	Interval time.Duration // between flushes of the flow rows
	// CounterInterval is between writes of the counters table.
	CounterInterval time.Duration
	MaxBuffer       int
	Rows            *SampleRows
	// Points returns the metrics for the counters table (the engine's Dump).
	Points func(now time.Time) []metric.Point
	Log    *slog.Logger
	Client *http.Client

	mu      sync.Mutex
	buf     []byte // rows waiting
	rows    uint64
	spare   []byte
	stats   counts
	dropped atomic.Uint64 // rows refused by a full buffer since the last flush
	failing atomic.Bool
}

// Add buffers one flow sample's row (the engine's Samples hook).
func (c *ClickHouse) Add(s *flow.Sample, ms int64) {
	c.mu.Lock()
	if len(c.buf) >= c.MaxBuffer {
		c.mu.Unlock()
		c.dropped.Add(1)
		return
	}
	c.buf = c.Rows.AppendTSV(c.buf, s, ms)
	c.rows++
	c.mu.Unlock()
}

// Stats returns the writer's counts.
func (c *ClickHouse) Stats() Stats { return c.stats.snapshot() }

// DDL is the tables the writer fills, for ClickHouse version major.minor
// (TTL is left out before 19.6, which has none).
func (c *ClickHouse) DDL(major, minor int) []string {
	ttl := ""
	if c.TTLDays > 0 && (major > 19 || major == 19 && minor >= 6) {
		ttl = fmt.Sprintf("\nTTL time + INTERVAL %d DAY", c.TTLDays)
	}
	var cols strings.Builder
	for _, col := range c.Rows.columns {
		fmt.Fprintf(&cols, ",\n  %s String", col)
	}
	db := quoteIdent(c.Database)
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		// Flow samples: a day per partition (old days drop whole), rows
		// ordered by agent then time, which serves both a time range over
		// every agent (partition pruning, then the primary index) and one
		// agent's traffic.
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.flows (
  time DateTime,
  agent String,
  datasource String,
  dropped UInt8,
  sampling_rate UInt32,
  input_ifindex UInt32,
  output_ifindex UInt32,
  frame_length UInt32,
  bytes UInt64,
  packets UInt64%s
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (agent, time)%s`, db, cols.String(), ttl),
		// Counters: one row per metric, so a new metric needs no new column.
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.counters (
  time DateTime,
  agent String,
  datasource String,
  metric String,
  value Float64
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (agent, datasource, metric, time)%s`, db, ttl),
	}
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }

// Setup asks the server's version and creates the database and tables.
func (c *ClickHouse) Setup(ctx context.Context) error {
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	v, err := c.query(ctx, "SELECT version()", nil)
	if err != nil {
		return fmt.Errorf("ClickHouse at %s: %w", c.URL, err)
	}
	var major, minor int
	fmt.Sscanf(strings.TrimSpace(v), "%d.%d", &major, &minor)
	if c.TTLDays > 0 && !(major > 19 || major == 19 && minor >= 6) {
		c.Log.Warn("this ClickHouse has no TTL (it came in 19.6): rows are kept until their partitions are dropped",
			"version", strings.TrimSpace(v), "clickhouse.ttl", c.TTLDays)
	}
	for _, q := range c.DDL(major, minor) {
		if _, err := c.query(ctx, q, nil); err != nil {
			return fmt.Errorf("ClickHouse: %s: %w", strings.SplitN(q, "(", 2)[0], err)
		}
	}
	c.stats.setDestination(c.URL + " " + c.Database)
	c.Log.Info("writing history to ClickHouse", "url", c.URL, "database", c.Database, "version", strings.TrimSpace(v),
		"flow_keys", len(c.Rows.columns))
	return nil
}

// Run flushes every Interval and writes the counters every
// CounterInterval until ctx ends, then flushes once more.
func (c *ClickHouse) Run(ctx context.Context) {
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	ct := time.NewTicker(c.CounterInterval)
	defer ct.Stop()
	for {
		select {
		case <-ctx.Done():
			c.flush(context.Background())
			return
		case <-t.C:
			c.flush(ctx)
		case now := <-ct.C:
			c.counters(ctx, now)
		}
	}
}

func (c *ClickHouse) flush(ctx context.Context) {
	c.mu.Lock()
	body, rows := c.buf, c.rows
	c.buf, c.spare, c.rows = c.spare[:0], nil, 0
	c.mu.Unlock()
	if full := c.dropped.Swap(0); full > 0 {
		c.stats.add(0, 0, "buffer full", full, nil)
	}
	if rows > 0 {
		cols := strings.Join(append(append([]string{}, FixedColumns...), c.Rows.columns...), ", ")
		c.insert(ctx, "INSERT INTO "+quoteIdent(c.Database)+".flows ("+cols+") FORMAT TabSeparated", body, rows)
	}
	c.mu.Lock()
	if c.spare == nil {
		c.spare = body[:0] // the next flush fills it while this buffer is refilled
	}
	c.mu.Unlock()
}

// counters writes every numeric metric of every data source.
func (c *ClickHouse) counters(ctx context.Context, now time.Time) {
	if c.Points == nil {
		return
	}
	var cb []byte
	var n uint64
	ts := strconv.AppendInt(nil, now.Unix(), 10)
	for _, p := range c.Points(now) {
		v, ok := number(p.MetricValue)
		if !ok {
			continue
		}
		cb = append(cb, ts...)
		for _, f := range []string{p.Agent, p.DataSource, p.MetricName} {
			cb = append(cb, '\t')
			start := len(cb)
			cb = escapeTSV(append(cb, f...), start)
		}
		cb = append(cb, '\t')
		cb = strconv.AppendFloat(cb, v, 'g', -1, 64)
		cb = append(cb, '\n')
		n++
	}
	if n > 0 {
		c.insert(ctx, "INSERT INTO "+quoteIdent(c.Database)+".counters (time, agent, datasource, metric, value) FORMAT TabSeparated", cb, n)
	}
}

func (c *ClickHouse) insert(ctx context.Context, q string, body []byte, rows uint64) {
	_, err := c.query(ctx, q, body)
	if err != nil {
		reason := "unreachable"
		if _, ok := err.(refusedError); ok {
			reason = "refused"
		}
		c.stats.add(0, 0, reason, rows, err)
		if !c.failing.Swap(true) {
			c.Log.Warn("ClickHouse insert failed; the rows of each failed batch are counted as dropped, writing goes on", "err", err)
		}
		return
	}
	c.stats.add(rows, 1, "", 0, nil)
	if c.failing.Swap(false) {
		c.Log.Info("ClickHouse inserts work again")
	}
}

type refusedError struct{ msg string }

func (e refusedError) Error() string { return e.msg }

// query runs one statement; body, when given, is the data of an INSERT.
func (c *ClickHouse) query(ctx context.Context, q string, body []byte) (string, error) {
	u := strings.TrimSuffix(c.URL, "/") + "/?query=" + url.QueryEscape(q)
	var rd io.Reader
	method := "GET"
	if body != nil || strings.HasPrefix(q, "CREATE") || strings.HasPrefix(q, "INSERT") {
		method, rd = "POST", bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return "", err
	}
	if c.User != "" {
		req.Header.Set("X-ClickHouse-User", c.User)
		req.Header.Set("X-ClickHouse-Key", c.Password)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		return "", refusedError{fmt.Sprintf("ClickHouse answered %s: %s", resp.Status, strings.TrimSpace(string(out[:min(len(out), 400)])))}
	}
	return string(out), nil
}
