package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logSummary rate-limits one kind of log line that the network can cause
// at any rate (a new agent, an agent timed out, agents evicted): a flood of
// spoofed agents would otherwise write a line per datagram. The first few
// events of a window are logged one by one; the rest are counted and said
// in one line, with a few examples, once the window has ended (flush, from
// the once-a-second sweep). Times are the wall clock: a fast replay's
// capture clock would end every window at once.
type logSummary struct {
	level     slog.Level
	msg, many string // the line for one event, and the summary's
	attr      string // the example's attribute name ("agent")

	mu       sync.Mutex
	start    time.Time // this window's start
	logged   int       // events logged one by one in this window
	pending  int       // events since, not yet logged
	count    int64     // what they counted (agents evicted …)
	examples []string
}

// Rate limits: per window, burstLines events are logged one by one; the
// summary says the rest, naming up to maxExamples of them.
const (
	logWindow   = 10 * time.Second
	burstLines  = 10
	maxExamples = 3
)

func newLogSummary(level slog.Level, msg, many, attr string) *logSummary {
	return &logSummary{level: level, msg: msg, many: many, attr: attr}
}

// note records an event of n things (1 agent, 312 agents evicted …):
// logged now while the window's burst lasts, else kept for flush. args are
// the line's other attributes.
func (s *logSummary) note(log *slog.Logger, example string, n int, args ...any) {
	now := time.Now()
	s.mu.Lock()
	if s.pending == 0 && now.Sub(s.start) >= logWindow {
		s.start, s.logged = now, 0
	}
	if s.logged < burstLines {
		s.logged++
		s.mu.Unlock()
		attrs := []any{s.attr, example}
		if n != 1 {
			attrs = append(attrs, "count", n)
		}
		log.Log(context.Background(), s.level, s.msg, append(attrs, args...)...)
		return
	}
	s.pending++
	s.count += int64(n)
	if len(s.examples) < maxExamples {
		s.examples = append(s.examples, example)
	}
	s.mu.Unlock()
}

// flush writes the summary of the events not logged one by one, once
// their window has ended.
func (s *logSummary) flush(log *slog.Logger) {
	now := time.Now()
	s.mu.Lock()
	if s.pending == 0 || now.Sub(s.start) < logWindow {
		s.mu.Unlock()
		return
	}
	events, n, ex, since := s.pending, s.count, s.examples, now.Sub(s.start).Round(time.Second)
	s.pending, s.count, s.examples, s.start, s.logged = 0, 0, nil, now, 0
	s.mu.Unlock()
	log.Log(context.Background(), s.level, s.many, "events", events, "count", n, "in", since.String(), "examples", ex)
}

// logNotes are the engine's rate-limited lines.
type logNotes struct {
	newAgent, agentTimedOut, agentsEvicted, sourcesEvicted, samplesRefused *logSummary
}

func newLogNotes() logNotes {
	return logNotes{
		newAgent: newLogSummary(slog.LevelInfo, "new agent", "new agents (not logged one by one)", "agent"),
		agentTimedOut: newLogSummary(slog.LevelInfo, "agent timed out",
			"agents timed out (not logged one by one)", "agent"),
		agentsEvicted: newLogSummary(slog.LevelWarn, "agents evicted at agents.max, least recently heard first: raise -Dagents.max if they are real",
			"agents evicted at agents.max (not logged one by one)", "oldest"),
		sourcesEvicted: newLogSummary(slog.LevelWarn, "data sources evicted, least recently heard first: raise the limit if they are real",
			"data sources evicted (not logged one by one)", "agent"),
		samplesRefused: newLogSummary(slog.LevelWarn, "samples refused: datasources.max is reached and their agent has no data source to give up",
			"samples refused at datasources.max (not logged one by one)", "agent"),
	}
}

func (n *logNotes) flush(log *slog.Logger) {
	for _, s := range []*logSummary{n.newAgent, n.agentTimedOut, n.agentsEvicted, n.sourcesEvicted, n.samplesRefused} {
		s.flush(log)
	}
}
