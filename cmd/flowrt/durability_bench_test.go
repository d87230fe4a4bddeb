package main_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAcknowledgedWrites measures how many definitions a second the
// engine acknowledges — each answer given once the change is on disk —
// with writers concurrent clients PUTting flow definitions (all of one
// kind: one state file, the most contended case) into a state of defs
// definitions, on the disk that holds the test's temporary directory.
// Reported as acked/s; ns/op is the time per acknowledged write.
func BenchmarkAcknowledgedWrites(b *testing.B) {
	for _, defs := range []int{10, 1000} {
		for _, writers := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("defs=%d/writers=%d", defs, writers), func(b *testing.B) {
				benchWrites(b, startEngine(b), defs, writers)
			})
		}
	}
}

// BenchmarkUnsavedWrites is the same with nothing saved (state.dir=none):
// what a write costs without the disk.
func BenchmarkUnsavedWrites(b *testing.B) {
	for _, defs := range []int{10, 1000} {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("defs=%d/writers=%d", defs, writers), func(b *testing.B) {
				benchWrites(b, startEngine(b, "-Dstate.dir=none"), defs, writers)
			})
		}
	}
}

func benchWrites(b *testing.B, e *engine, defs, writers int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}, Timeout: 30 * time.Second}
	put := func(name string, v int) error {
		req, _ := http.NewRequest("PUT", e.http+"/flow/"+name+"/json",
			strings.NewReader(fmt.Sprintf(`{"keys":"ipsource","value":"bytes","filter":"ipsource=%s"}`, v24(10, v))))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			return fmt.Errorf("PUT %s: %d", name, resp.StatusCode)
		}
		return nil
	}
	for j := range defs {
		if err := put(fmt.Sprintf("b%d", j), j); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := put(fmt.Sprintf("w%d", w), int(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "acked/s")
}
