package main_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The durability tests drive a real engine with concurrent HTTP writers,
// kill it with SIGKILL and restart it on the same state directory.
//
// What is guaranteed, per name: every writer owns its names and sends one
// request at a time, so for a name there is one last acknowledged state
// (what the last 2xx answer left: defined with value v, or absent) and at
// most one request in flight when the engine dies. After the restart the
// name is in the acknowledged state or in the state the in-flight request
// asked for — never older than the acknowledgement (a lost write) and never
// anything else (a deleted definition coming back).

// durableKind is a kind of definition the writers change: how to PUT one
// carrying the number v, and how to read every one back after a restart.
type durableKind struct {
	name string
	path func(name string) string
	body func(v int) string
	read func(t *testing.T, e *engine) map[string]int // name → v
}

// v24 spells v (< 2^24) as the last three bytes of an IPv4 address.
func v24(first byte, v int) string {
	return netip.AddrFrom4([4]byte{first, byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func fromV24(s string) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return int(b[1])<<16 | int(b[2])<<8 | int(b[3]), true
}

var durableKinds = []durableKind{
	{
		name: "flow",
		path: func(n string) string { return "/flow/" + n + "/json" },
		body: func(v int) string {
			return fmt.Sprintf(`{"keys":"ipsource","value":"bytes","filter":"ipsource=%s"}`, v24(10, v))
		},
		read: func(t *testing.T, e *engine) map[string]int {
			var all map[string]struct{ Filter string }
			e.get(t, "/flow/json", &all)
			out := map[string]int{}
			for n, s := range all {
				v, ok := fromV24(strings.TrimPrefix(s.Filter, "ipsource="))
				if !ok {
					t.Errorf("flow %s came back with filter %q", n, s.Filter)
				}
				out[n] = v
			}
			return out
		},
	},
	{
		name: "threshold",
		path: func(n string) string { return "/threshold/" + n + "/json" },
		body: func(v int) string { return fmt.Sprintf(`{"metric":"bytes","value":%d}`, v) },
		read: func(t *testing.T, e *engine) map[string]int {
			var all map[string]struct{ Value float64 }
			e.get(t, "/threshold/json", &all)
			out := map[string]int{}
			for n, s := range all {
				out[n] = int(s.Value)
			}
			return out
		},
	},
	{
		name: "group",
		path: func(n string) string { return "/group/" + n + "/json" },
		body: func(v int) string { return fmt.Sprintf(`{"g":["%s/32"]}`, v24(10, v)) },
		read: func(t *testing.T, e *engine) map[string]int {
			var names map[string]any
			e.get(t, "/groups/json", &names)
			out := map[string]int{}
			for n := range names {
				if n == "(default)" {
					continue
				}
				var g map[string][]string
				e.get(t, "/group/"+n+"/json", &g)
				v, ok := 0, len(g["g"]) == 1
				if ok {
					v, ok = fromV24(strings.TrimSuffix(g["g"][0], "/32"))
				}
				if !ok {
					t.Errorf("group %s came back as %v", n, g)
				}
				out[n] = v
			}
			return out
		},
	},
	{
		name: "forwarding",
		path: func(n string) string { return "/forwarding/" + n + "/json" },
		// 127/8: a session sends only when sFlow arrives, and none does.
		body: func(v int) string { return fmt.Sprintf(`{"address":"%s","port":6343}`, v24(127, v)) },
		read: func(t *testing.T, e *engine) map[string]int {
			var all map[string]struct{ Address string }
			e.get(t, "/forwarding/json", &all)
			out := map[string]int{}
			for n, s := range all {
				v, ok := fromV24(s.Address)
				if !ok {
					t.Errorf("forwarding session %s came back with address %q", n, s.Address)
				}
				out[n] = v
			}
			return out
		},
	},
}

// defState is a name's state: defined with value v, or absent.
type defState struct {
	present bool
	v       int
}

func (s defState) String() string {
	if !s.present {
		return "absent"
	}
	return fmt.Sprint(s.v)
}

// nameTruth is what the writers know of a name.
type nameTruth struct {
	acked    defState
	inflight *defState // sent, not answered when the engine died
}

type truthKey struct{ kind, name string }

// writeLoad runs writers goroutines, each changing its own names until stop
// is closed or the engine stops answering. It returns how many changes were
// acknowledged.
func writeLoad(t *testing.T, e *engine, truth map[truthKey]*nameTruth, writers, names int, seq *int, stop <-chan struct{}) int {
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for w := range writers {
		// Each writer's keys and numbers are its own: no lock needed on
		// its nameTruth entries, only on the shared map and counters.
		mine := []truthKey{}
		mu.Lock()
		for _, k := range durableKinds {
			for j := range names {
				key := truthKey{k.name, fmt.Sprintf("w%dn%d", w, j)}
				if truth[key] == nil {
					truth[key] = &nameTruth{}
				}
				mine = append(mine, key)
			}
		}
		mu.Unlock()
		base := *seq + w<<18
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(base)))
			n := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				key := mine[r.IntN(len(mine))]
				kind := kindNamed(key.kind)
				mu.Lock()
				nt := truth[key]
				mu.Unlock()
				method, body, want := "PUT", "", defState{}
				if nt.acked.present && r.IntN(3) == 0 {
					method = "DELETE"
				} else {
					n++
					want = defState{true, base + n}
					body = kind.body(want.v)
				}
				nt.inflight = &want
				req, _ := http.NewRequest(method, e.http+kind.path(key.name), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the engine died with this request in flight
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					t.Errorf("%s %s: %d", method, kind.path(key.name), resp.StatusCode)
					return
				}
				nt.acked, nt.inflight = want, nil
				mu.Lock()
				acked++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	*seq += writers << 18
	return acked
}

func kindNamed(name string) durableKind {
	for _, k := range durableKinds {
		if k.name == name {
			return k
		}
	}
	panic(name)
}

// checkRestored compares what the restarted engine holds with what was
// acknowledged, then makes what it holds the new acknowledged state. lost
// counts names that are older than acknowledged (or gone), resurrected
// names that were acknowledged deleted and came back.
func checkRestored(t *testing.T, e *engine, truth map[truthKey]*nameTruth) (lost, resurrected int) {
	t.Helper()
	for _, k := range durableKinds {
		got := k.read(t, e)
		for name, v := range got {
			if truth[truthKey{k.name, name}] == nil {
				t.Errorf("%s %s=%d came back and was never defined", k.name, name, v)
				resurrected++
			}
		}
		for key, nt := range truth {
			if key.kind != k.name {
				continue
			}
			v, present := got[key.name]
			have := defState{present, v}
			if have != nt.acked && (nt.inflight == nil || have != *nt.inflight) {
				inflight := "none"
				if nt.inflight != nil {
					inflight = nt.inflight.String()
				}
				t.Errorf("%s %s is %s after the restart; acknowledged %s, in flight %s", k.name, key.name, have, nt.acked, inflight)
				if nt.acked.present {
					lost++
				} else {
					resurrected++
				}
			}
			if nt.inflight != nil && *nt.inflight != nt.acked {
				if have == *nt.inflight {
					inflightKept++
				} else {
					inflightLost++
				}
			}
			nt.acked, nt.inflight = have, nil
		}
	}
	return lost, resurrected
}

// inflightKept and inflightLost count the requests in flight at the kills
// whose change was, and was not, found after the restart (either is right).
var inflightKept, inflightLost int

// ballast gives every kind the size of real use, a few hundred
// definitions and a group set of 20,000 prefixes, so that a save takes the
// time it takes in production (the losses of issue 13 were seen with
// 16,157 definitions). It is acknowledged state like any other.
func ballast(t *testing.T, e *engine, truth map[truthKey]*nameTruth) {
	t.Helper()
	put := func(k durableKind, name, body string, v int) {
		if code, msg := e.do(t, "PUT", k.path(name), body); code != 204 {
			t.Fatalf("PUT %s: %d %s", k.path(name), code, msg)
		}
		truth[truthKey{k.name, name}] = &nameTruth{acked: defState{true, v}}
	}
	for _, k := range durableKinds {
		n := 300
		if k.name == "forwarding" || k.name == "group" {
			n = 20 // each session has a sender goroutine and a socket
		}
		for j := range n {
			v := 1<<23 | j
			put(k, fmt.Sprintf("b%d", j), k.body(v), v)
		}
	}
	var cidrs []string
	for j := range 20000 {
		cidrs = append(cidrs, `"`+v24(11, j)+`/32"`)
	}
	put(kindNamed("group"), "big", `{"g":["`+v24(10, 1<<23|1<<22)+`/32"],"h":[`+strings.Join(cidrs, ",")+`]}`, 1<<23|1<<22)
}

// bigState raises the caps on what REST may create above the
// production-sized state the test keeps.
var bigState = []string{"-Dflow.definitions.max=2000", "-Dthresholds.max=2000", "-Dforwarding.sessions.max=200", "-Dgroups.max=200"}

// TestKillKeepsAcknowledged: 8 writers PUT and DELETE flows, thresholds,
// groups and forwarding sessions of their own, the engine is killed with
// SIGKILL at a random moment, restarted, and every name must be as
// acknowledged (or as the request in flight at the kill asked). The last
// round kills after every writer has had its answer: then nothing is in
// flight and the state must be exactly what was acknowledged.
func TestKillKeepsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	truth := map[truthKey]*nameTruth{}
	seq, total := 0, 0
	inflightKept, inflightLost = 0, 0
	const rounds = 5
	start := time.Now()
	for round := range rounds {
		e := startEngine(t, append([]string{"-Dstate.dir=" + dir}, bigState...)...)
		if round == 0 {
			ballast(t, e, truth)
		} else {
			if lost, back := checkRestored(t, e, truth); lost+back > 0 {
				t.Fatalf("round %d: %d acknowledged changes lost, %d deleted definitions came back", round, lost, back)
			}
		}
		stop := make(chan struct{})
		quiesce := round == rounds-1
		killAfter := time.Duration(200+rand.IntN(1000)) * time.Millisecond
		go func() {
			time.Sleep(killAfter)
			if quiesce {
				close(stop)
				return
			}
			e.cmd.Process.Signal(syscall.SIGKILL)
		}()
		total += writeLoad(t, e, truth, 8, 3, &seq, stop)
		if quiesce {
			e.cmd.Process.Signal(syscall.SIGKILL)
		}
		e.cmd.Wait()
	}
	e := startEngine(t, append([]string{"-Dstate.dir=" + dir}, bigState...)...)
	if lost, back := checkRestored(t, e, truth); lost+back > 0 {
		t.Fatalf("last round: %d acknowledged changes lost, %d deleted definitions came back", lost, back)
	}
	t.Logf("%d acknowledged changes over %d kills in %v, none lost; of the requests in flight at a kill, %d were found applied and %d not",
		total, rounds, time.Since(start).Round(time.Millisecond), inflightKept, inflightLost)
}
