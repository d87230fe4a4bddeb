package bgp

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// TestFloodingPeerDoesNotStallLookups: while a peer pours 200,000 prefixes
// in as fast as TCP takes them, the lookups the collector's workers make
// keep being answered (the RIB takes its write lock for short batches).
func TestFloodingPeerDoesNotStallLookups(t *testing.T) {
	const n = 200_000
	sp, nb, p := rawSession(t, Options{}, nil)
	agent := netip.MustParseAddr("192.0.2.10")
	sp.AddSource(agent, nb, nil)

	var during, answered atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r, _, _ := sp.Route(agent, addr4(i%n))
			if v4, _ := nb.RIB.Count(); v4 > 0 && v4 < n {
				during.Add(1)
				if r != nil {
					answered.Add(1)
				}
			}
		}
	}()
	go p.table4(t, n, 20, birdAddr)
	waitUntil(t, 120*time.Second, "the flood in the RIB", func() bool { v4, _ := nb.RIB.Count(); return v4 == n })
	close(stop)
	<-done
	t.Logf("%d lookups answered while the flood was being taken in (%d found a route already)", during.Load(), answered.Load())
	if during.Load() < 1000 || answered.Load() == 0 {
		t.Errorf("only %d lookups (%d with a route) were made while %d prefixes came in: the flood held the RIB", during.Load(), answered.Load(), n)
	}
}
