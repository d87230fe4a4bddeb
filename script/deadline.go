package script

import (
	"context"
	"time"
)

// The functions that wait on something outside the script (http, http2,
// syslog, graphite, runCmd, dnsGetAllByName) give up when the callback's
// time is up: script.timeout after the callback began, or sooner when the
// function's own limit says so. The watchdog cannot interrupt Go code; it
// interrupts the script at the next JavaScript instruction, that is, as
// soon as the function returns. They give up as well when the script is
// stopped.

// callContext is a context that ends at the running callback's deadline,
// after most if that comes first, or when the script stops.
func (s *Script) callContext(most time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(most)
	s.watchMu.Lock()
	start := s.execStart
	s.watchMu.Unlock()
	if start != 0 {
		if d := time.Unix(0, start).Add(s.m.deps.CallTimeout); d.Before(deadline) {
			deadline = d
		}
	}
	return context.WithDeadline(s.ctx, deadline)
}
