package bgp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowrt/flowrt/internal/birdtest"
)

func freeTCP(t testing.TB) int { return birdtest.FreeTCP(t) }

func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s within %v", what, d)
	return 0
}

// generatedStatics is a table of n /24s, 10.a.b.0/24 for the i-th, whose
// AS path (after BIRD's own 65001) is 64600+i%50 then 64700+i%7, with
// community 65001:i%100.
func generatedStatics(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  route 10.%d.%d.0/24 blackhole { bgp_path.prepend(%d); bgp_path.prepend(%d); bgp_community.add((65001,%d)); };\n",
			i>>8, i&255, 64700+i%7, 64600+i%50, i%100)
	}
	return b.String()
}

func generatedAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 77}) }
