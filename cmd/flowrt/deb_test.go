package main_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDebInstall installs the release's .deb on this machine with dpkg and
// checks what an admin gets: flowrt on the PATH, the flowrt system user,
// units systemd-analyze accepts, nothing enabled, the service's command
// line running as flowrt with the packaged configuration and keeping state
// in /var/lib/flowrt; then that removal keeps configuration and state,
// and purge leaves only the file the admin added (compared file by file
// with the machine before).
func TestDebInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs a package with dpkg: needs root")
	}
	need(t, "dpkg", "dpkg-deb")
	if exec.Command("dpkg", "-s", "flowrt").Run() == nil {
		t.Skip("a flowrt package is installed on this machine: the test would replace and purge it")
	}
	for _, d := range []string{"/etc/flowrt", "/var/lib/flowrt"} {
		if _, err := os.Stat(d); err == nil {
			t.Skipf("%s exists: the test would mix its files with the admin's, and delete them", d)
		}
	}
	if exec.Command("getent", "passwd", "flowrt").Run() == nil {
		t.Skip("a flowrt user exists on this machine: the test would delete it on purge")
	}
	dir, _, _ := release(t)
	deb := filepath.Join(dir, "flowrt_"+releaseVersion+"-1_amd64.deb")
	debB := filepath.Join(taggedRelease(t), "flowrt_"+tagVersion+"-1_amd64.deb") // the upgrade
	// man-db's trigger (mandb on every dpkg run that adds or removes a
	// man page) took 18-22 s of each dpkg run here under load, most of the
	// test; the switch Debian gives admins for it (debconf
	// man-db/auto-update) is this file, put back at the end.
	const manAuto = "/var/lib/man-db/auto-update"
	if err := os.Rename(manAuto, manAuto+".flowrt-test"); err == nil {
		t.Cleanup(func() { os.Rename(manAuto+".flowrt-test", manAuto) })
	}
	start := time.Now()
	before := pathSnapshot(t)
	t.Logf("listing the paths: %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { // after a failure half-way: leave the machine as it was
		if exec.Command("dpkg", "-s", "flowrt").Run() == nil {
			exec.Command("dpkg", "--purge", "flowrt").Run()
		}
		os.RemoveAll("/etc/flowrt")
		os.RemoveAll("/var/lib/flowrt")
		if exec.Command("getent", "passwd", "flowrt").Run() == nil { // none was there before
			exec.Command("userdel", "flowrt").Run()
		}
	})
	start = time.Now()
	mustRun(t, "dpkg", "-i", deb)
	t.Logf("dpkg -i: %v", time.Since(start).Round(time.Millisecond))

	versionOnPath(t, releaseVersion)
	pw := cmdOutput(t, "getent", "passwd", "flowrt")
	if f := strings.Split(pw, ":"); len(f) != 7 || f[5] != "/var/lib/flowrt" || f[6] != "/usr/sbin/nologin" || len(f[2]) > 3 {
		t.Errorf("flowrt user %q: want a system uid, home /var/lib/flowrt, no login", pw)
	}
	t.Run("systemd-analyze", func(t *testing.T) {
		need(t, "systemd-analyze")
		start := time.Now()
		for _, unit := range []string{"flowrt.service", "flowrt-agent.service"} {
			out, _ := exec.Command("systemd-analyze", "verify", "/usr/lib/systemd/system/"+unit).CombinedOutput()
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "flowrt") {
					t.Errorf("systemd-analyze verify %s: %s", unit, l)
				}
			}
		}
		t.Logf("systemd-analyze verify: %v", time.Since(start).Round(time.Millisecond))
	})
	notEnabledNorRunning(t, "installing")
	serviceRuns(t)

	// The admin edits the configuration and adds a file of their own.
	conf, _ := os.ReadFile("/etc/flowrt/flowrt.conf")
	os.WriteFile("/etc/flowrt/flowrt.conf", append(conf, "http.hostname=127.0.0.1\n"...), 0o644)
	os.WriteFile("/etc/flowrt/auth", []byte("# flowrt passwd lines\n"), 0o600)

	// The tagged release over it: dpkg keeps the edited conffile without
	// asking (the packaged one did not change), enables and starts nothing,
	// and the new binary is the one on the PATH; state and user stay.
	start = time.Now()
	up, err := exec.Command("dpkg", "-i", debB).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg -i %s over %s: %v\n%s", filepath.Base(debB), releaseVersion, err, up)
	}
	t.Logf("dpkg -i, the upgrade: %v", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(string(up), "Preparing to unpack") || !strings.Contains(string(up), "over ("+releaseVersion+"-1)") || strings.Contains(string(up), "Configuration file") {
		t.Errorf("dpkg -i of the upgrade said:\n%s", up)
	}
	if v := cmdOutput(t, "dpkg-query", "-W", "-f", "${Version} ${Status}", "flowrt"); v != tagVersion+"-1 install ok installed" {
		t.Errorf("after the upgrade dpkg has flowrt %q", v)
	}
	versionOnPath(t, tagVersion)
	if b, _ := os.ReadFile("/etc/flowrt/flowrt.conf"); !strings.HasSuffix(string(b), "http.hostname=127.0.0.1\n") {
		t.Errorf("the upgrade did not keep the edited configuration: %q", b)
	}
	if extra, _ := filepath.Glob("/etc/flowrt/flowrt.conf.*"); len(extra) > 0 {
		t.Errorf("the upgrade left %v beside the configuration", extra)
	}
	notEnabledNorRunning(t, "the upgrade")
	if _, err := os.Stat("/var/lib/flowrt/state/flows.json"); err != nil {
		t.Errorf("the upgrade did not keep the state: %v", err)
	}
	if pw2 := cmdOutput(t, "getent", "passwd", "flowrt"); pw2 != pw {
		t.Errorf("the upgrade changed the flowrt user: %q, was %q", pw2, pw)
	}

	start = time.Now()
	mustRun(t, "dpkg", "-r", "flowrt")
	t.Logf("dpkg -r: %v", time.Since(start).Round(time.Millisecond))
	for _, gone := range []string{"/usr/bin/flowrt", "/usr/lib/systemd/system/flowrt.service", "/usr/share/man/man1/flowrt.1.gz"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("dpkg -r left %s", gone)
		}
	}
	if b, _ := os.ReadFile("/etc/flowrt/flowrt.conf"); !strings.HasSuffix(string(b), "http.hostname=127.0.0.1\n") {
		t.Errorf("dpkg -r did not keep the edited configuration: %q", b)
	}
	if _, err := os.Stat("/var/lib/flowrt/state/flows.json"); err != nil {
		t.Errorf("dpkg -r did not keep the state: %v", err)
	}

	start = time.Now()
	mustRun(t, "dpkg", "--purge", "flowrt")
	t.Logf("dpkg --purge: %v", time.Since(start).Round(time.Millisecond))
	left, _ := filepath.Glob("/etc/flowrt/*")
	if !slices.Equal(left, []string{"/etc/flowrt/auth"}) {
		t.Errorf("after purge /etc/flowrt holds %v, want only the admin's auth", left)
	}
	os.RemoveAll("/etc/flowrt")
	after := pathSnapshot(t)
	if added, removed := notIn(after, before), notIn(before, after); len(added)+len(removed) > 0 {
		t.Errorf("install and purge changed the machine: added %v, removed %v", added, removed)
	}
}

// versionOnPath runs flowrt from the PATH a login shell has.
func versionOnPath(t *testing.T, want string) {
	t.Helper()
	path := exec.Command("flowrt", "version")
	path.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if lp, err := exec.LookPath("flowrt"); err == nil && lp == "/usr/local/bin/flowrt" {
		path.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} // scripts/install's copy would come first
	}
	if out, err := path.Output(); err != nil || strings.TrimSpace(string(out)) != "flowrt "+want {
		t.Errorf("flowrt version from the PATH: %q %v, want flowrt %s", out, err, want)
	}
}

// notEnabledNorRunning: no enablement link, systemctl (reading the unit
// files: there is no systemd running here) says disabled, and no process
// runs the packaged binary.
func notEnabledNorRunning(t *testing.T, after string) {
	t.Helper()
	if links, _ := filepath.Glob("/etc/systemd/system/*/flowrt*"); len(links) > 0 {
		t.Errorf("%s enabled %v; the admin enables the services", after, links)
	}
	if _, err := exec.LookPath("systemctl"); err == nil {
		for _, unit := range []string{"flowrt.service", "flowrt-agent.service"} {
			if out, _ := exec.Command("systemctl", "is-enabled", unit).CombinedOutput(); strings.TrimSpace(string(out)) != "disabled" {
				t.Errorf("after %s, systemctl is-enabled %s: %q", after, unit, out)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, p := range procs {
		if exe, _ := os.Readlink(p); strings.HasPrefix(exe, "/usr/bin/flowrt") {
			t.Errorf("after %s, process %s runs %s", after, filepath.Base(filepath.Dir(p)), exe)
		}
	}
}

// serviceRuns starts the engine as the packaged unit would (its drop-in's
// ExecStart, as the flowrt user, in the state directory systemd makes for
// it), with REST on a free local port, and checks that the configuration
// is read without a warning and a definition is kept in /var/lib/flowrt.
func serviceRuns(t *testing.T) {
	t.Helper()
	need(t, "setpriv")
	dropin, _ := os.ReadFile("/usr/lib/systemd/system/flowrt.service.d/package.conf")
	var execStart []string
	for _, l := range strings.Split(string(dropin), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok && v != "" {
			execStart = strings.Fields(v)
		}
	}
	if len(execStart) == 0 || execStart[0] != "/usr/bin/flowrt" {
		t.Fatalf("the drop-in's ExecStart is %q", execStart)
	}
	os.MkdirAll("/var/lib/flowrt", 0o755) // StateDirectory=flowrt, owned by User=
	mustRun(t, "chown", "flowrt:flowrt", "/var/lib/flowrt")
	hp, sp := freePort(t, "tcp"), freePort(t, "udp")
	args := append([]string{"--reuid", "flowrt", "--regid", "flowrt", "--init-groups"}, execStart...)
	args = append(args, "-Dhttp.hostname=127.0.0.1", fmt.Sprintf("-Dhttp.port=%d", hp), "-Dsflow.hostname=127.0.0.1", fmt.Sprintf("-Dsflow.port=%d", sp))
	c := exec.Command("setpriv", args...)
	c.Dir = "/var/lib/flowrt"
	stderr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	log := &syncLog{}
	go func() {
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			log.WriteString(sc.Text() + "\n")
		}
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			c.Process.Signal(syscall.SIGTERM) // as systemctl stop does
			c.Wait()
		}
	}
	defer stop()
	e := &engine{http: fmt.Sprintf("http://127.0.0.1:%d", hp), log: log}
	waitFor(t, 10*time.Second, "the packaged service's REST", func() bool { return strings.Contains(log.String(), "REST and web listening") })
	if code, body := e.do(t, "PUT", "/flow/pairs/json", "{keys:'ipsource,ipdestination', value:'bytes'}"); code/100 != 2 {
		t.Fatalf("PUT /flow/pairs/json: %d %s", code, body)
	}
	stop()
	if strings.Contains(log.String(), "level=WARN") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("the service with /etc/flowrt/flowrt.conf warned:\n%s", log)
	}
	st, err := os.Stat("/var/lib/flowrt/state/flows.json")
	if err != nil {
		t.Fatalf("the service kept no state in /var/lib/flowrt/state: %v\n%s", err, log)
	}
	pw := strings.Split(cmdOutput(t, "getent", "passwd", "flowrt"), ":")
	if uid := fmt.Sprint(st.Sys().(*syscall.Stat_t).Uid); uid != pw[2] {
		t.Errorf("state file owned by uid %s, want flowrt's %s", uid, pw[2])
	}
}

// pathSnapshot lists the paths an install can touch (and the user and group
// databases' names), to compare before and after: all of /etc, /var/lib
// and /opt, and the parts of /usr a package of this kind writes to (all of
// /usr takes seconds more to walk).
func pathSnapshot(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, top := range []string{"/etc", "/var/lib", "/opt", "/usr/bin", "/usr/sbin", "/usr/lib/systemd", "/usr/local", "/usr/share/doc", "/usr/share/man"} {
		filepath.Walk(top, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			switch p {
			case "/var/lib/containers", "/var/lib/apt", "/var/lib/dpkg/triggers", "/usr/share/man/index.db", "/var/lib/systemd/deb-systemd-helper-enabled":
				return filepath.SkipDir
			}
			if strings.HasPrefix(p, "/var/lib/dpkg/") && !strings.HasPrefix(p, "/var/lib/dpkg/info/") {
				return nil // dpkg's own bookkeeping (status, backups)
			}
			paths = append(paths, p)
			return nil
		})
	}
	for _, db := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"} {
		b, _ := os.ReadFile(db)
		for _, l := range strings.Split(string(b), "\n") {
			if name, _, ok := strings.Cut(l, ":"); ok {
				paths = append(paths, db+":"+name)
			}
		}
	}
	return paths
}

// notIn is what a holds that b does not.
func notIn(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, p := range b {
		in[p] = true
	}
	var out []string
	for _, p := range a {
		if !in[p] {
			out = append(out, p)
		}
	}
	return out
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
