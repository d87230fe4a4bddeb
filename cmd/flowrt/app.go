package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// appRescan is how often a running engine looks at app.dir for
// applications installed, removed or changed (script.Manager.WatchApps).
const appRescan = 2 * time.Second

const appUsage = `Usage:
  flowrt app install [-name NAME] [-force] <directory | file.tar.gz | file.tgz | file.tar | file.zip>
  flowrt app list
  flowrt app remove <name>

Installs an sFlow-RT application into app.dir (default ./app), as sFlow-RT's
get-app.sh does: a GitHub archive such as
https://github.com/sflow-rt/flow-trend/archive/master.tar.gz (flow-trend-master/
at its top) installs as app/flow-trend. The name comes from -name, else the
archive's top directory or the file's name without -master/-main. An archive
entry that would land outside the application (an absolute path, "..", a link
leading out) refuses the whole install; nothing is left behind.

A running flowrt picks changes up within 2 s (it rescans app.dir): new
applications start, removed ones stop, changed ones restart. Flows and
thresholds a removed application defined stay until deleted or a restart.

app.dir is read as flowrt serve reads it: -Dapp.dir=DIR, RTPROP, conf.d or
system.propertyFiles.
`

func runApp(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, appUsage)
		return 2
	}
	p, _, rest, err := parseProperties(args[1:], os.Getenv("RTPROP"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowrt app:", err)
		return 2
	}
	dir := p.str("app.dir")
	switch args[0] {
	case "install":
		name, force := "", false
		var srcs []string
		for i := 0; i < len(rest); i++ {
			switch a := rest[i]; {
			case a == "-force" || a == "--force":
				force = true
			case a == "-name" || a == "--name":
				if i+1 >= len(rest) {
					fmt.Fprintln(os.Stderr, "flowrt app install: -name needs a value")
					return 2
				}
				name = rest[i+1]
				i++
			case strings.HasPrefix(a, "-name=") || strings.HasPrefix(a, "--name="):
				_, name, _ = strings.Cut(a, "=")
			case strings.HasPrefix(a, "-"):
				fmt.Fprintf(os.Stderr, "flowrt app install: unknown flag %s\n%s", a, appUsage)
				return 2
			default:
				srcs = append(srcs, a)
			}
		}
		if len(srcs) != 1 {
			fmt.Fprint(os.Stderr, "flowrt app install: give one directory or archive\n"+appUsage)
			return 2
		}
		got, scripts, err := installApp(dir, srcs[0], name, force)
		if err != nil {
			fmt.Fprintf(os.Stderr, "flowrt app install %s: %v\n", srcs[0], err)
			return 1
		}
		fmt.Printf("installed %s in %s (scripts: %s)\na running flowrt with app.dir=%s starts it within %v; a new one loads it at start\n",
			got, filepath.Join(dir, got), listOrNone(scripts), dir, appRescan)
		return 0
	case "list":
		if len(rest) != 0 {
			fmt.Fprint(os.Stderr, appUsage)
			return 2
		}
		apps, err := listApps(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "flowrt app list:", err)
			return 1
		}
		for _, a := range apps {
			fmt.Printf("%s\tscripts: %s\thtml: %v\n", a.name, listOrNone(a.scripts), a.html)
		}
		return 0
	case "remove":
		if len(rest) != 1 {
			fmt.Fprint(os.Stderr, appUsage)
			return 2
		}
		if err := removeApp(dir, rest[0]); err != nil {
			fmt.Fprintln(os.Stderr, "flowrt app remove:", err)
			return 1
		}
		fmt.Printf("removed %s from %s; a running flowrt stops its scripts within %v\n", rest[0], dir, appRescan)
		return 0
	}
	fmt.Fprintf(os.Stderr, "flowrt app: unknown subcommand %q\n%s", args[0], appUsage)
	return 2
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// installApp installs src into dir and returns its name and scripts.
func installApp(dir, src, name string, force bool) (string, []string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("app.dir: %w", err)
	}
	stage, err := os.MkdirTemp(dir, ".install-") // a dot: the engine's rescan ignores it
	if err != nil {
		return "", nil, fmt.Errorf("app.dir: %w", err)
	}
	defer os.RemoveAll(stage)
	var next func() (entry, bool, error)
	lower := strings.ToLower(src)
	switch {
	case st.IsDir():
		next, err = dirEntries(src)
	case strings.HasSuffix(lower, ".zip"):
		var closeZip func() error
		next, closeZip, err = zipEntries(src)
		if err == nil {
			defer closeZip()
		}
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".tar"):
		var f *os.File
		if f, err = os.Open(src); err == nil {
			defer f.Close()
			next, err = tarEntries(f, !strings.HasSuffix(lower, ".tar"))
		}
	default:
		return "", nil, fmt.Errorf("neither a directory nor a .tar.gz, .tgz, .tar or .zip file")
	}
	if err != nil {
		return "", nil, err
	}
	if err := unpack(stage, next); err != nil {
		return "", nil, fmt.Errorf("refused, nothing installed: %w", err)
	}
	root, suggested, err := appRoot(stage)
	if err != nil {
		return "", nil, err
	}
	if err := checkLinks(root); err != nil {
		return "", nil, fmt.Errorf("refused, nothing installed: %w", err)
	}
	if name == "" {
		name = suggested
	}
	if name == "" {
		name = sourceName(src)
	}
	if !appNameRE.MatchString(name) {
		return "", nil, fmt.Errorf("%q is not an application name (letters, digits, '.', '_', '-'; not starting with '.'): give one with -name", name)
	}
	dst := filepath.Join(dir, name)
	if _, err := os.Lstat(dst); err == nil {
		if !force {
			return "", nil, fmt.Errorf("%s is already installed (%s): remove it first, or give -force to replace it", name, dst)
		}
		old := filepath.Join(stage, ".replaced")
		if err := os.Rename(dst, old); err != nil {
			return "", nil, fmt.Errorf("replacing %s: %w", dst, err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", nil, err
	}
	if err := os.Rename(root, dst); err != nil {
		return "", nil, fmt.Errorf("moving into %s: %w", dst, err)
	}
	scripts, _ := filepath.Glob(filepath.Join(dst, "scripts", "*.js"))
	for i, s := range scripts {
		scripts[i] = filepath.Base(s)
	}
	return name, scripts, nil
}

type appListing struct {
	name    string
	scripts []string
	html    bool
}

func listApps(dir string) ([]appListing, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []appListing
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		a := appListing{name: e.Name()}
		files, _ := filepath.Glob(filepath.Join(dir, e.Name(), "scripts", "*.js"))
		for _, f := range files {
			a.scripts = append(a.scripts, filepath.Base(f))
		}
		slices.Sort(a.scripts)
		if st, err := os.Stat(filepath.Join(dir, e.Name(), "html", "index.html")); err == nil && !st.IsDir() {
			a.html = true
		}
		out = append(out, a)
	}
	return out, nil
}

func removeApp(dir, name string) error {
	if !appNameRE.MatchString(name) {
		return fmt.Errorf("%q is not an application name", name)
	}
	p := filepath.Join(dir, name)
	st, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("no application %s in %s", name, dir)
	}
	if st.Mode()&os.ModeSymlink != 0 { // a linked application: the link goes, not what it points to
		return os.Remove(p)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not an application directory", p)
	}
	return os.RemoveAll(p)
}
