package export

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowrt/flowrt/metric"
)

// RemoteWrite pushes every numeric metric of every data source to a
// Prometheus remote_write receiver (Prometheus with
// --web.enable-remote-write-receiver, Mimir, Thanos, VictoriaMetrics …)
// every Interval: one series per metric, named Prefix+metric as /metrics
// names them, labelled agent and datasource, in a snappy-compressed
// protobuf WriteRequest (remote write 1.0). A push that fails drops its
// samples, counted ("unreachable", "refused"); the next carries the values
// of its own moment.
type RemoteWrite struct {
	URL      string
	Prefix   string // before every metric name ("sflow_")
	Interval time.Duration
	Points   func(now time.Time) []metric.Point
	Log      *slog.Logger
	Client   *http.Client

	stats   counts
	failing atomic.Bool
	buf     []byte // the WriteRequest
	series  []byte // one TimeSeries
	name    []byte
	zbuf    []byte
}

// Check says whether the URL can be pushed to.
func (w *RemoteWrite) Check() error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("prometheus.remotewrite.url %q: want http(s)://host:port/path (Prometheus: /api/v1/write)", w.URL)
	}
	return nil
}

// Redacted is the URL without its password, for logs and /analyzer/json.
func (w *RemoteWrite) Redacted() string {
	if u, err := url.Parse(w.URL); err == nil {
		return u.Redacted()
	}
	return w.URL
}

// Stats returns the pusher's counts.
func (w *RemoteWrite) Stats() Stats { return w.stats.snapshot() }

// Run pushes every Interval until ctx ends.
func (w *RemoteWrite) Run(ctx context.Context) {
	if w.Client == nil {
		w.Client = &http.Client{Timeout: 10 * time.Second}
	}
	w.stats.setDestination(w.Redacted())
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.push(ctx, now)
		}
	}
}

// Encode renders points as a WriteRequest (uncompressed) and returns it
// with the number of samples (valid until the next call).
func (w *RemoteWrite) Encode(pts []metric.Point, now time.Time) ([]byte, int) {
	w.buf = w.buf[:0]
	n := 0
	ms := now.UnixMilli()
	for _, p := range pts {
		v, ok := number(p.MetricValue)
		if !ok {
			continue
		}
		w.name = AppendPromName(w.name[:0], w.Prefix, p.MetricName)
		s := w.series[:0]
		// Labels sorted by name, as remote write requires.
		s = appendLabel(s, "__name__", w.name)
		s = appendLabel(s, "agent", []byte(p.Agent))
		s = appendLabel(s, "datasource", []byte(p.DataSource))
		s = protowire.AppendTag(s, 2, protowire.BytesType) // Sample
		s = protowire.AppendVarint(s, 9+1+uint64(protowire.SizeVarint(uint64(ms))))
		s = protowire.AppendTag(s, 1, protowire.Fixed64Type)
		s = protowire.AppendFixed64(s, math.Float64bits(v))
		s = protowire.AppendTag(s, 2, protowire.VarintType)
		s = protowire.AppendVarint(s, uint64(ms))
		w.series = s
		w.buf = protowire.AppendTag(w.buf, 1, protowire.BytesType) // TimeSeries
		w.buf = protowire.AppendBytes(w.buf, s)
		n++
	}
	return w.buf, n
}

func appendLabel(dst []byte, name string, value []byte) []byte {
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(1+protowire.SizeBytes(len(name))+1+protowire.SizeBytes(len(value))))
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	dst = protowire.AppendString(dst, name)
	dst = protowire.AppendTag(dst, 2, protowire.BytesType)
	return protowire.AppendBytes(dst, value)
}

func (w *RemoteWrite) push(ctx context.Context, now time.Time) {
	body, n := w.Encode(w.Points(now), now)
	if n == 0 {
		return
	}
	w.zbuf = s2.EncodeSnappy(w.zbuf[:cap(w.zbuf)], body)
	req, _ := http.NewRequestWithContext(ctx, "POST", w.URL, bytes.NewReader(w.zbuf))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	pushed(w.Client, req, "Prometheus remote_write", uint64(n), &w.stats, &w.failing, w.Log,
		"Prometheus remote_write failed; the samples of each failed push are counted as dropped, pushing goes on", w.Redacted())
}
