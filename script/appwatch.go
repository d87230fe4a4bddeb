package script

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Applications are picked up while the engine runs, as flowrt app install
// and remove (or a copy into app.dir) change them: RescanApps starts the
// scripts of an application that appeared, stops those of one that went,
// and restarts an application whose scripts changed (a file added,
// removed, or rewritten: another size or modification time). What a
// stopped script defined in the engine (flows, thresholds, groups) stays
// until it is deleted or the engine restarts, as for a script that ends.

// appPrint is what RescanApps compares: each script's name, size and
// modification time; "" for an application with no scripts (html only).
func appPrint(dir, app string) string {
	files, _ := filepath.Glob(filepath.Join(dir, app, "scripts", "*.js"))
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", filepath.Base(f), st.Size(), st.ModTime().UnixNano())
		}
	}
	return b.String()
}

// RescanApps brings the running applications in line with dir, and says
// what it did: the applications started, stopped and restarted.
func (m *Manager) RescanApps(dir string) (started, stopped, restarted []string, err error) {
	m.rescanMu.Lock()
	defer m.rescanMu.Unlock()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, nil, fmt.Errorf("applications in %s: %w", dir, err)
	}
	now := map[string]string{}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") { // .<name>.tmp: an install in progress
			now[e.Name()] = appPrint(dir, e.Name())
		}
	}
	m.mu.Lock()
	known := map[string]bool{}
	for app := range m.apps {
		known[app] = true
	}
	m.mu.Unlock()
	for _, app := range slices.Sorted(maps.Keys(known)) {
		if _, ok := now[app]; !ok {
			m.stopApp(app)
			stopped = append(stopped, app)
		}
	}
	for _, app := range slices.Sorted(maps.Keys(now)) {
		switch {
		case !known[app]:
			m.startApp(dir, app)
			started = append(started, app)
		case m.prints[app] != now[app]:
			m.stopApp(app)
			m.startApp(dir, app)
			restarted = append(restarted, app)
		}
	}
	for _, a := range started {
		m.deps.Logger.Info("application started", "app", a, "dir", filepath.Join(dir, a))
	}
	for _, a := range stopped {
		m.deps.Logger.Info("application removed: its scripts are stopped (flows and thresholds they defined stay until deleted or restart)", "app", a)
	}
	for _, a := range restarted {
		m.deps.Logger.Info("application changed: its scripts are restarted", "app", a)
	}
	return started, stopped, restarted, nil
}

// startApp starts an application's scripts (with m.rescanMu held, or at
// start-up).
func (m *Manager) startApp(dir, app string) {
	files, _ := filepath.Glob(filepath.Join(dir, app, "scripts", "*.js"))
	sort.Strings(files)
	m.mu.Lock()
	m.apps[app] = []string{}
	if m.prints == nil {
		m.prints = map[string]string{}
	}
	m.prints[app] = appPrint(dir, app)
	m.mu.Unlock()
	for _, f := range files {
		m.start(f, app, app+"/"+filepath.Base(f)) // start logs a failure; /scripts/json shows it
	}
}

// stopApp stops an application's scripts and forgets it.
func (m *Manager) stopApp(app string) {
	m.mu.Lock()
	var ss []*Script
	for id, s := range m.scripts {
		if s.App == app {
			ss = append(ss, s)
			delete(m.scripts, id)
		}
	}
	delete(m.apps, app)
	delete(m.prints, app)
	m.mu.Unlock()
	for _, s := range ss {
		s.stop()
	}
}

// WatchApps rescans dir every interval until ctx ends.
func (m *Manager) WatchApps(ctx context.Context, dir string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, _, _, err := m.RescanApps(dir); err != nil {
				m.deps.Logger.Warn("applications not rescanned", "err", err)
			}
		}
	}
}
