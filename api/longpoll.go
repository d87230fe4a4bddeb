package api

import (
	"log/slog"
	"net/http"
	"time"
)

// LongPolls lets a GET with ?timeout= (/flows/json and /events/json wait
// up to MaxPoll for news) outlive the server's read and write timeouts:
// its connection's deadlines move to the end of its wait plus extra, the
// time an answer may take to write. Every other request keeps the
// server's timeouts.
func LongPolls(h http.Handler, extra time.Duration, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("timeout") {
			// A bad timeout is the handler's 400 to give.
			if wait, err := querySeconds(r, "timeout"); err == nil && wait > 0 {
				rc := http.NewResponseController(w)
				until := time.Now().Add(wait + extra)
				if err := rc.SetReadDeadline(until); err != nil {
					log.Warn("a long-poll cannot outlive http.read.timeout", "path", r.URL.Path, "err", err)
				}
				if err := rc.SetWriteDeadline(until); err != nil {
					log.Warn("a long-poll cannot outlive http.write.timeout", "path", r.URL.Path, "err", err)
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}
