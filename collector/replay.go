package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowrt/flowrt/internal/pcap"
)

// ReplayStats says what a replay read.
type ReplayStats struct {
	Datagrams int
	Skipped   int // packets that were not UDP
}

// Capture is a pcap or pcapng file opened for replay.
type Capture struct {
	path string
	f    *os.File
	r    *pcap.Reader
}

// OpenCapture opens a capture and reads its file header, so that a missing
// file, or one that is not a capture, is an error before anything else
// starts (sockets, the web server, "listening" in the log).
func OpenCapture(path string) (*Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sflow.file: %w", err)
	}
	r, err := pcap.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sflow.file %s: %w (give a pcap or pcapng capture, e.g. from tcpdump -w)", path, err)
	}
	return &Capture{path: path, f: f, r: r}, nil
}

// Close closes the file.
func (c *Capture) Close() error { return c.f.Close() }

// Replay reads sFlow datagrams from a pcap or pcapng file and hands them
// to h (OpenCapture, then Capture.Replay).
func Replay(ctx context.Context, path string, realtime bool, h Handler) (ReplayStats, error) {
	c, err := OpenCapture(path)
	if err != nil {
		return ReplayStats{}, err
	}
	defer c.Close()
	return c.Replay(ctx, realtime, h)
}

// Replay hands the capture's UDP payloads to h. With realtime, datagrams
// are delivered at the pace they were captured and stamped with the time
// of delivery; otherwise as fast as possible, stamped with their capture
// time, so that rates come out as they were on the wire either way.
func (c *Capture) Replay(ctx context.Context, realtime bool, h Handler) (ReplayStats, error) {
	var st ReplayStats
	var first, start time.Time
	for ctx.Err() == nil {
		p, err := c.r.Next()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("replaying %s after %d datagrams: %w", c.path, st.Datagrams, err)
		}
		u, ok := pcap.DecodeUDP(p.LinkType, p.Data)
		if !ok {
			st.Skipped++
			continue
		}
		now := p.Time
		if realtime {
			if first.IsZero() {
				first, start = p.Time, time.Now()
			}
			if wait := time.Until(start.Add(p.Time.Sub(first))); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return st, nil
				}
			}
			now = time.Now()
		}
		h.Process(u.Payload, u.Src, now)
		st.Datagrams++
	}
	return st, nil
}
