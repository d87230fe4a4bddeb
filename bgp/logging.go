package bgp

import (
	"context"
	"log/slog"
)

// quieter passes GoBGP's own records on from Warn up: at Info it logs
// every policy change and connection attempt ("call set policy" once per
// neighbor per change), which would bury flowrt's log; the speaker logs
// sessions and neighbors itself.
type quieter struct{ slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}
func (q quieter) WithAttrs(a []slog.Attr) slog.Handler { return quieter{q.Handler.WithAttrs(a)} }
func (q quieter) WithGroup(n string) slog.Handler      { return quieter{q.Handler.WithGroup(n)} }
