package main_test

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// What the browser tests read from the pages, beyond counting elements.

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluating %.200s: %v", js, err)
	}
	return v
}

// box is an element's place on the page (getBoundingClientRect).
type box struct{ Left, Top, Right, Bottom float64 }

func (b *browser) rect(sel string) box {
	b.t.Helper()
	return eval[box](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return {}; const r = e.getBoundingClientRect();
		return {Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom}; })()`, sel))
}

func (r box) overlaps(o box) bool {
	return r.Left < o.Right-1 && o.Left < r.Right-1 && r.Top < o.Bottom-1 && o.Top < r.Bottom-1
}

// waitTrue polls a JavaScript condition.
func (b *browser) waitTrue(what, js string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !eval[bool](b, js) {
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("no %s within %v (%s); page error %q", what, d, js, eval[string](b, `document.getElementById('error') ? document.getElementById('error').textContent : ''`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noNull fails when the page's text says "null" or "undefined" (a value
// that was missing written as text).
func (b *browser) noNull(page string) {
	b.t.Helper()
	if text := eval[string](b, `document.body.innerText`); regexp.MustCompile(`\b(null|undefined|NaN)\b`).MatchString(text) {
		m := regexp.MustCompile(`.{0,40}\b(null|undefined|NaN)\b.{0,40}`).FindString(text)
		b.t.Errorf("%s shows %q", page, m)
	}
}

var siNumber = regexp.MustCompile(`^(-?[0-9.]+)([kMGT]?)$`)

// siValue reads a number as the pages write it (si(): 1.23k, 45.6M).
func siValue(t *testing.T, s string) float64 {
	t.Helper()
	m := siNumber.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		t.Fatalf("%q is not a number as the pages write them", s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v * map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m[2]]
}

// near reports whether a is within rel of b.
func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b) }

// udpSink counts the datagrams that arrive at a UDP socket on 127.0.0.1
// (a forwarding session's destination).
func udpSink(t *testing.T) (addr string, n *atomic.Int64) {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	n = &atomic.Int64{}
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	return c.LocalAddr().String(), n
}
