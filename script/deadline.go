package script

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

// limitName names what bounds a call limited to most: the callback's time
// (script.timeout), or most when that is shorter.
func (s *Script) limitName(most time.Duration) string {
	if most < s.m.deps.CallTimeout {
		return most.String()
	}
	return fmt.Sprintf("the callback's time (script.timeout %v)", s.m.deps.CallTimeout)
}

// dialer connects for syslog, graphite and HTTP with the manager's
// resolver; the caller's context bounds the lookup and the connection.
func dialer(r *net.Resolver) *net.Dialer {
	return &net.Dialer{Resolver: r, KeepAlive: 30 * time.Second}
}

// httpClient is the scripts' HTTP client: the default transport (proxies
// from the environment, as the office365 and phish scripts need) dialling
// through the manager's resolver. It has no overall timeout of its own:
// each request carries its context.
func httpClient(r *net.Resolver) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer(r).DialContext
	return &http.Client{Transport: tr}
}
