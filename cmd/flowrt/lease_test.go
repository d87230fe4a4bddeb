package main_test

import (
	"strings"
	"testing"
	"time"
)

// TestFlowLease defines a flow with a 2 s lease over REST, renews it for a
// while (it stays, its flows kept), stops renewing and sees the engine
// remove it once the lease has passed; a leased definition is never saved.
func TestFlowLease(t *testing.T) {
	t.Parallel() // waits on its peer and timers more than it computes ("Parallel tests", main_test.go)
	state := t.TempDir()
	e := startEngine(t, "-Dstate.dir="+state)
	spec := "{keys:'ipsource', value:'frames'}"
	for _, bad := range []string{"0", "x", "7200"} {
		if code, body := e.do(t, "PUT", "/flow/leased/json?lease="+bad, spec); code != 400 || strings.Count(body, "\n") > 1 {
			t.Errorf("lease=%s: %d %q", bad, code, body)
		}
	}
	if code, body := e.do(t, "PUT", "/flow/leased/json?lease=2", spec); code != 204 {
		t.Fatalf("PUT with a lease: %d %s", code, body)
	}
	if code, body := e.do(t, "PUT", "/flow/kept/json", spec); code != 204 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	send(t, e.sflow, "-agents", "1", "-rate", "200", "-duration", "1s", "-counters", "0")
	var before []struct{ Key string }
	e.get(t, "/activeflows/ALL/leased/json", &before)
	if len(before) == 0 {
		t.Fatal("no flows for the leased definition")
	}
	// Renewed every second for 3 s, longer than the lease: it stays, and
	// the renewal keeps what it has gathered.
	for range 3 {
		time.Sleep(time.Second)
		if code, body := e.do(t, "PUT", "/flow/leased/json?lease=2", spec); code != 204 {
			t.Fatalf("renewal: %d %s", code, body)
		}
	}
	var after []struct{ Key string }
	e.get(t, "/activeflows/ALL/leased/json", &after)
	if len(after) != len(before) {
		t.Errorf("renewals lost flows: %d, had %d", len(after), len(before))
	}
	stopped := time.Now()
	gone := waitFor(t, 6*time.Second, "the lapsed definition removed", func() bool {
		code, _ := e.do(t, "GET", "/flow/leased/json", "")
		return code == 404
	})
	if gone < time.Second {
		t.Errorf("removed %v after the last renewal, before its 2 s lease", gone)
	}
	t.Logf("removed %v after the last renewal (lease 2 s)", time.Since(stopped).Round(100*time.Millisecond))
	if code, _ := e.do(t, "GET", "/flow/kept/json", ""); code != 200 {
		t.Error("the definition without a lease went too")
	}
	// Saved state, read back as a restart reads it: the definition without
	// a lease is there; leased ones are not, also one whose lease was still
	// running when the engine stopped.
	if code, body := e.do(t, "PUT", "/flow/held/json?lease=60", spec); code != 204 {
		t.Fatalf("PUT with a lease: %d %s", code, body)
	}
	e.stop()
	again := startEngine(t, "-Dstate.dir="+state)
	for name, want := range map[string]int{"kept": 200, "leased": 404, "held": 404} {
		if code, _ := again.do(t, "GET", "/flow/"+name+"/json", ""); code != want {
			t.Errorf("after a restart, GET /flow/%s/json: %d, want %d", name, code, want)
		}
	}
}
