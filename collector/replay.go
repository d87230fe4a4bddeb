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

// Replay reads sFlow datagrams from a pcap or pcapng file and hands them
// to h. With realtime, datagrams are delivered at the pace they were
// captured and stamped with the time of delivery; otherwise as fast as
// possible, stamped with their capture time, so that rates come out as
// they were on the wire either way.
func Replay(ctx context.Context, path string, realtime bool, h Handler) (ReplayStats, error) {
	var st ReplayStats
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("replaying sFlow: %w", err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		return st, fmt.Errorf("replaying %s: %w", path, err)
	}
	var first, start time.Time
	for ctx.Err() == nil {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("replaying %s after %d datagrams: %w", path, st.Datagrams, err)
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
