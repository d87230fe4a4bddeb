package api

import (
	"runtime/debug"
	"sync"
)

// buildInfo is what the binary knows of how it was built (/analyzer/json
// "build", shown beside the version on the status page): the Go version
// and, for a build from a git checkout, the commit and whether the work
// tree had changes.
var buildInfo = sync.OnceValue(func() map[string]any {
	out := map[string]any{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	out["go"] = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out["revision"] = s.Value
		case "vcs.time":
			out["time"] = s.Value
		case "vcs.modified":
			out["modified"] = s.Value == "true"
		}
	}
	return out
})
