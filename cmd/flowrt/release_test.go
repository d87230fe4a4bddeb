package main_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// releaseVersion is stamped into the release the tests build; it is not
// main.go's version, so that seeing it proves the stamp took.
const releaseVersion = "0.0.1.test"

// built is scripts/release's output, made once per test run (a static
// build, the packages and, with buildah as root, the image) and shared by
// the package and image tests.
var built struct {
	once  sync.Once
	dir   string // the release directory
	bin   string // the static binary in it
	image bool   // the image archive was built (not left in local storage)
	why   string // why not, when not
	err   error
}

func repoRoot() string { return filepath.Join(examples(), "..") }

// release runs scripts/release once, as CI would after its build: a
// CGO_ENABLED=0 binary with the version stamped, handed in FLOWRT_BINARY.
func release(t *testing.T) (dir string, image bool, whyNoImage string) {
	t.Helper()
	built.once.Do(func() {
		work := filepath.Dir(flowrt) // TestMain removes it at the end
		bin := filepath.Join(work, "flowrt-static")
		b := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+releaseVersion, "-o", bin, ".")
		b.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := b.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("static build: %v\n%s", err, out)
			return
		}
		built.dir = filepath.Join(work, "release")
		args := []string{filepath.Join(repoRoot(), "scripts", "release")}
		switch _, err := exec.LookPath("buildah"); {
		case err != nil:
			built.why = "buildah is not installed (apt-get install buildah podman runc)"
		case os.Geteuid() != 0:
			built.why = "building and running the image here needs root (rootful podman storage)"
		default:
			built.image = true
		}
		if !built.image {
			args = append(args, "--no-image")
		}
		r := exec.Command("bash", append(args, releaseVersion)...)
		r.Env = append(os.Environ(), "FLOWRT_BINARY="+bin, "OUT="+built.dir, "FLOWRT_KEEP_IMAGE=no")
		if out, err := r.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("scripts/release: %v\n%s", err, out)
			return
		}
		built.bin = filepath.Join(built.dir, "flowrt-"+releaseVersion+"-linux-amd64")
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.dir, built.image, built.why
}

// TestReleaseArtifacts checks what scripts/release wrote: every file's
// SHA-256 in SHA256SUMS, the version stamped into the binary and both
// packages' headers, and the packages' file lists and configuration files.
func TestReleaseArtifacts(t *testing.T) {
	dir, image, _ := release(t)
	want := []string{"flowrt-" + releaseVersion + "-1.x86_64.rpm", "flowrt-" + releaseVersion + "-linux-amd64", "flowrt_" + releaseVersion + "-1_amd64.deb"}
	if image {
		want = append(want, "flowrt-"+releaseVersion+"-image.tar")
	}
	slices.Sort(want)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not sha256sum's", l)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS says %s for %s; it is %x", sum, name, h)
		}
		listed = append(listed, name)
		st, _ := os.Stat(filepath.Join(dir, name))
		t.Logf("%s: %.1f MB", name, float64(st.Size())/1e6)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("SHA256SUMS lists %v, want %v", listed, want)
	}
	if out, _ := exec.Command(built.bin, "version").Output(); strings.TrimSpace(string(out)) != "flowrt "+releaseVersion {
		t.Errorf("the release binary says %q, want flowrt %s", out, releaseVersion)
	}

	files := []string{"/etc/flowrt/flowrt.conf", "/usr/bin/flowrt",
		"/usr/lib/systemd/system/flowrt-agent.service", "/usr/lib/systemd/system/flowrt-agent.service.d/package.conf",
		"/usr/lib/systemd/system/flowrt.service", "/usr/lib/systemd/system/flowrt.service.d/package.conf",
		"/usr/share/doc/flowrt/README.md", "/usr/share/doc/flowrt/install.md", "/usr/share/doc/flowrt/security.md",
		"/usr/share/man/man1/flowrt.1.gz"}
	deb := filepath.Join(dir, "flowrt_"+releaseVersion+"-1_amd64.deb")
	t.Run("deb", func(t *testing.T) {
		need(t, "dpkg-deb")
		if v := cmdOutput(t, "dpkg-deb", "-f", deb, "Version"); v != releaseVersion+"-1" {
			t.Errorf(".deb Version %q, want %s-1", v, releaseVersion)
		}
		var got []string
		for _, l := range strings.Split(cmdOutput(t, "dpkg-deb", "-c", deb), "\n") {
			f := strings.Fields(l)
			if len(f) == 6 && !strings.HasSuffix(f[5], "/") {
				got = append(got, strings.TrimPrefix(f[5], "."))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, files) {
			t.Errorf(".deb holds %v\nwant %v", got, files)
		}
		ctl := t.TempDir()
		cmdOutput(t, "dpkg-deb", "-e", deb, ctl)
		if b, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/flowrt/flowrt.conf" {
			t.Errorf(".deb conffiles %q, want /etc/flowrt/flowrt.conf", b)
		}
		checkManPage(t, deb)
		var scripts strings.Builder
		for _, n := range []string{"preinst", "postinst", "prerm", "postrm"} {
			b, err := os.ReadFile(filepath.Join(ctl, n))
			if err != nil {
				t.Errorf(".deb has no %s: %v", n, err)
			}
			fmt.Fprintf(&scripts, "%s:\n%s\n", n, b)
		}
		checkScriptlets(t, scripts.String(), "preinst", "postinst", "prerm", "postrm")
		if d := cmdOutput(t, "dpkg-deb", "-f", deb, "Depends", "Pre-Depends"); d != "" {
			t.Errorf(".deb depends on %q: Debian's essential and required packages have all the scripts use", d)
		}
	})
	t.Run("rpm", func(t *testing.T) { checkRPM(t, filepath.Join(dir, "flowrt-"+releaseVersion+"-1.x86_64.rpm"), files) })
}

// checkRPM reads the .rpm's header and file list with Debian's rpm.
func checkRPM(t *testing.T, rpmFile string, files []string) {
	need(t, "rpm")
	if v := cmdOutput(t, "rpm", "-qp", "--queryformat", "%{VERSION}-%{RELEASE} %{ARCH}", rpmFile); v != releaseVersion+"-1 x86_64" {
		t.Errorf(".rpm is %q, want %s-1 x86_64", v, releaseVersion)
	}
	wantRPM := append([]string{"/etc/flowrt", "/usr/lib/systemd/system/flowrt-agent.service.d", "/usr/lib/systemd/system/flowrt.service.d", "/usr/share/doc/flowrt"}, files...)
	slices.Sort(wantRPM)
	got := strings.Split(cmdOutput(t, "rpm", "-qlp", rpmFile), "\n")
	slices.Sort(got)
	if !slices.Equal(got, wantRPM) {
		t.Errorf(".rpm holds %v\nwant %v", got, wantRPM)
	}
	if c := cmdOutput(t, "rpm", "-qpc", rpmFile); c != "/etc/flowrt/flowrt.conf" {
		t.Errorf(".rpm configuration files %q, want /etc/flowrt/flowrt.conf", c)
	}
	// What dnf resolves: the scriptlets' shell and tools (the binary is
	// static: no library), and what the package provides.
	if r := cmdOutput(t, "rpm", "-qp", "--requires", rpmFile); r != "/bin/sh\n/usr/sbin/useradd\n/usr/bin/getent\n"+
		"rpmlib(CompressedFileNames) <= 3.0.4-1\nrpmlib(FileDigests) <= 4.6.0-1\nrpmlib(PayloadFilesHavePrefix) <= 4.0-1" {
		t.Errorf(".rpm requires:\n%s", r)
	}
	if p := cmdOutput(t, "rpm", "-qp", "--provides", rpmFile); p != "flowrt = "+releaseVersion+"-1\nflowrt(x86-64) = "+releaseVersion+"-1" {
		t.Errorf(".rpm provides:\n%s", p)
	}
	checkScriptlets(t, cmdOutput(t, "rpm", "-qp", "--scripts", rpmFile), "preinstall", "postinstall", "preuninstall", "postuninstall")
}

// checkScriptlets reads maintainer scripts (rpm -qp --scripts, or a
// .deb's control files one after another): each named one is there, and
// none starts, restarts, enables or presets a unit; systemctl is called
// only to reload, and to stop and disable on removal.
func checkScriptlets(t *testing.T, text string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !strings.Contains(text, n) {
			t.Errorf("no %s script in:\n%s", n, text)
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		f := strings.Fields(l)
		for i, w := range f {
			if w == "deb-systemd-invoke" || w == "deb-systemd-helper" || strings.HasPrefix(w, "%systemd") {
				t.Errorf("a maintainer script line runs %s: %s", w, l)
			}
			if w != "systemctl" || i > 0 && f[i-1] == "-v" { // command -v systemctl
				continue
			}
			verb := ""
			for _, a := range f[i+1:] {
				if !strings.HasPrefix(a, "-") {
					verb = a
					break
				}
			}
			if !slices.Contains([]string{"daemon-reload", "stop", "disable"}, verb) {
				t.Errorf("a maintainer script runs systemctl %s: %s", verb, l)
			}
		}
	}
}

// checkManPage reads flowrt(1) out of the .deb: it has a section for each
// command the binary lists, holding that command's own -h text.
func checkManPage(t *testing.T, deb string) {
	t.Helper()
	root := t.TempDir()
	cmdOutput(t, "dpkg-deb", "-x", deb, root)
	page := cmdOutput(t, "sh", "-c", "gzip -dc "+filepath.Join(root, "usr/share/man/man1/flowrt.1.gz"))
	usage, _ := exec.Command(built.bin, "help").CombinedOutput()
	n := 0
	for _, l := range strings.Split(string(usage), "\n") {
		f := strings.Fields(l)
		if !strings.HasPrefix(l, "  ") || len(f) < 2 || f[0] == "version" {
			continue
		}
		help, _ := exec.Command(built.bin, f[0], "-h").CombinedOutput()
		first := strings.SplitN(strings.TrimSpace(string(help)), "\n", 2)[0]
		if !strings.Contains(page, ".SS flowrt "+f[0]+"\n") || !strings.Contains(page, strings.ReplaceAll(first, `\`, `\e`)) {
			t.Errorf("flowrt(1) has no section for %s with its help (%q)", f[0], first)
		}
		n++
	}
	if n < 5 {
		t.Errorf("flowrt help listed %d commands: %s", n, usage)
	}
}

// cmdOutput runs a command and returns its trimmed standard output.
func cmdOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v %s", name, strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// tagVersion is the version of the second release the tests make, from a
// tag: the packages an upgrade installs over releaseVersion's.
const tagVersion = "0.0.2.test"

// tagged is scripts/release run as on a tagged commit (no version given),
// once per test run, with what it said when HEAD had no tag and when the
// tag and the binary disagreed.
var tagged struct {
	once                   sync.Once
	dir                    string // artifacts/<version> of the tagged checkout
	untagged, mismatched   string // scripts/release's refusals
	untaggedOK, mismatchOK bool   // it ran anyway
	err                    error
}

// taggedRelease copies the repository's files (as they are in the work
// tree: the scripts under test) into a new git repository, commits them,
// and runs its scripts/release --no-image with no version: first untagged
// (refused), then with a tag v9.9.9 that the binary does not say
// (refused), then tagged v<tagVersion> (annotated, as releases are). The
// binary is built with tagVersion stamped and handed in FLOWRT_BINARY.
func taggedRelease(t *testing.T) string {
	t.Helper()
	need(t, "git")
	tagged.once.Do(func() {
		work := filepath.Dir(flowrt)
		bin := filepath.Join(work, "flowrt-static-"+tagVersion)
		b := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+tagVersion, "-o", bin, ".")
		b.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := b.CombinedOutput(); err != nil {
			tagged.err = fmt.Errorf("static build: %v\n%s", err, out)
			return
		}
		repo := filepath.Join(work, "tagged")
		if tagged.err = copyTracked(repoRoot(), repo); tagged.err != nil {
			return
		}
		git := func(args ...string) error {
			c := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=flowrt test", "-c", "user.email=test@flowrt.invalid"}, args...)...)
			c.Env = gitEnv()
			if out, err := c.CombinedOutput(); err != nil {
				return fmt.Errorf("git %s: %v %s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		release := func() (string, bool) {
			c := exec.Command("bash", filepath.Join(repo, "scripts", "release"), "--no-image")
			c.Env = append(gitEnv(), "FLOWRT_BINARY="+bin)
			out, err := c.CombinedOutput()
			return string(out), err == nil
		}
		for _, step := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "release"}} {
			if tagged.err = git(step...); tagged.err != nil {
				return
			}
		}
		tagged.untagged, tagged.untaggedOK = release()
		if tagged.err = git("tag", "v9.9.9"); tagged.err != nil {
			return
		}
		tagged.mismatched, tagged.mismatchOK = release()
		if tagged.err = git("tag", "-d", "v9.9.9"); tagged.err != nil {
			return
		}
		if tagged.err = git("tag", "-a", "-m", "flowrt "+tagVersion, "v"+tagVersion); tagged.err != nil {
			return
		}
		if out, ok := release(); !ok {
			tagged.err = fmt.Errorf("scripts/release on the tag v%s:\n%s", tagVersion, out)
			return
		}
		tagged.dir = filepath.Join(repo, "artifacts", tagVersion)
	})
	if tagged.err != nil {
		t.Fatal(tagged.err)
	}
	return tagged.dir
}

// gitEnv is this process's environment without the GIT_ variables a
// caller (a hook, CI) may have set, which would point git elsewhere.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// copyTracked copies the files git tracks (and new ones it does not
// ignore) from the work tree at src into dst, keeping their modes.
func copyTracked(src, dst string) error {
	c := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	c.Env = gitEnv()
	list, err := c.Output()
	if err != nil {
		return fmt.Errorf("git ls-files in %s: %v", src, err)
	}
	for _, name := range strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00") {
		from, to := filepath.Join(src, name), filepath.Join(dst, name)
		st, err := os.Lstat(from)
		if err != nil {
			continue // deleted in the work tree, not yet in git
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(from)
			if err := os.Symlink(target, to); err != nil {
				return err
			}
			continue
		}
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// TestReleaseFromTag: scripts/release with no version takes it from the
// tag on HEAD (v0.0.2.test: 0.0.2.test) and stamps it in the files'
// names, the packages' headers and SHA256SUMS; it refuses an untagged
// HEAD and a binary that says another version than the tag, saying what
// to do.
func TestReleaseFromTag(t *testing.T) {
	dir := taggedRelease(t)
	if tagged.untaggedOK || !strings.Contains(tagged.untagged, "HEAD has no tag; tag it (git tag v1.2.3) or give the version") {
		t.Errorf("scripts/release on an untagged HEAD (ran: %v):\n%s", tagged.untaggedOK, tagged.untagged)
	}
	if tagged.mismatchOK || !strings.Contains(tagged.mismatched, `says "flowrt `+tagVersion+`", the release is 9.9.9`) {
		t.Errorf("scripts/release with tag v9.9.9 and a %s binary (ran: %v):\n%s", tagVersion, tagged.mismatchOK, tagged.mismatched)
	}
	rpmFile := "flowrt-" + tagVersion + "-1.x86_64.rpm"
	deb := "flowrt_" + tagVersion + "-1_amd64.deb"
	bin := "flowrt-" + tagVersion + "-linux-amd64"
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		if _, name, ok := strings.Cut(l, "  "); ok {
			names = append(names, name)
		}
	}
	if want := []string{rpmFile, bin, deb}; !slices.Equal(names, want) {
		t.Errorf("artifacts/%s/SHA256SUMS lists %v, want %v", tagVersion, names, want)
	}
	c := exec.Command("sha256sum", "-c", "--quiet", "SHA256SUMS")
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v %s", err, out)
	}
	if v := cmdOutput(t, filepath.Join(dir, bin), "version"); v != "flowrt "+tagVersion {
		t.Errorf("the binary says %q", v)
	}
	t.Run("deb", func(t *testing.T) {
		need(t, "dpkg-deb")
		if v := cmdOutput(t, "dpkg-deb", "-f", filepath.Join(dir, deb), "Package", "Version"); v != "Package: flowrt\nVersion: "+tagVersion+"-1" {
			t.Errorf("%s's header: %q", deb, v)
		}
	})
	t.Run("rpm", func(t *testing.T) {
		need(t, "rpm")
		if v := cmdOutput(t, "rpm", "-qp", "--queryformat", "%{NAME} %{VERSION}-%{RELEASE}", filepath.Join(dir, rpmFile)); v != "flowrt "+tagVersion+"-1" {
			t.Errorf("%s's header: %q", rpmFile, v)
		}
	})
}

// TestRPMInstall installs the release's .rpm with rpm, scriptlets and
// all, on this Debian machine without touching it: into a throw-away root
// that is an overlay over / (so the scriptlets find this machine's sh,
// useradd and getent), mounted in a mount namespace of its own, with the
// changes landing in a tmpfs directory that is then read file by file.
// It checks the dependencies rpm finds unmet in an empty database, that
// install creates the flowrt user and changes nothing but the package's
// files and the user databases (no unit enabled), that an upgrade to the
// tagged release keeps an edited configuration and a unit the admin
// enabled and runs the new binary, and that erasing it disables the unit,
// removes the files and saves the edited configuration as .rpmsave.
// What this cannot show: dnf resolving the requirements from an RPM
// distribution's repositories (the database here is empty: --nodeps), the
// scriptlets with an RPM distribution's useradd, and the units started
// (no systemd here).
func TestRPMInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts an overlay in a mount namespace: needs root")
	}
	need(t, "rpm", "unshare", "chroot", "systemctl")
	var sfs syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &sfs); err != nil || sfs.Type != 0x01021994 { // TMPFS_MAGIC
		t.Skip("no tmpfs on /dev/shm for the overlay's upper directory (one on / would overlap its lower, /)")
	}
	dirA, _, _ := release(t)
	rpmA := filepath.Join(dirA, "flowrt-"+releaseVersion+"-1.x86_64.rpm")
	rpmB := filepath.Join(taggedRelease(t), "flowrt-"+tagVersion+"-1.x86_64.rpm")
	base, err := os.MkdirTemp("/dev/shm", "flowrt-rpm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	upper, root := filepath.Join(base, "upper"), filepath.Join(base, "root")
	for _, d := range []string{upper, filepath.Join(base, "work"), root} {
		os.Mkdir(d, 0o755)
	}
	const db = "/var/lib/flowrt-test-rpmdb" // in the root
	// in runs a script with the root mounted at $R; it returns the
	// script's output by "== name" sections ("" before the first).
	in := func(script string, args ...string) map[string]string {
		t.Helper()
		full := `set -e
mount -t overlay overlay -o "lowerdir=/,upperdir=$U,workdir=$W" "$R"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/run"
rpm() { command rpm --root "$R" --dbpath "$DB" "$@" 2>&1 | grep -v '^rpm: ' || true; }
` + script
		c := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", full, "sh")
		c.Args = append(c.Args, args...)
		c.Env = append(os.Environ(), "U="+upper, "W="+filepath.Join(base, "work"), "R="+root, "DB="+db)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("in the throw-away root: %v\n%s", err, out)
		}
		sections, name := map[string]string{}, ""
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if n, ok := strings.CutPrefix(l, "== "); ok {
				name = strings.TrimSpace(n)
				continue
			}
			sections[name] += l
		}
		for k, v := range sections {
			sections[k] = strings.TrimSpace(v)
		}
		return sections
	}
	// changed lists what the root holds that / does not: the upper
	// directory's files (not the directories copied up to hold them),
	// rpm's database aside.
	changed := func() []string {
		var out []string
		filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
			rel := strings.TrimPrefix(p, upper)
			switch {
			case err != nil || rel == db || rel == "/var/tmp":
				return filepath.SkipDir
			case !d.IsDir():
				out = append(out, rel)
			}
			return nil
		})
		slices.Sort(out)
		return out
	}

	start := time.Now()
	s := in(`rpm -i --test "$1"; echo "== install"; rpm -i --nodeps "$1"
echo "== version"; chroot "$R" flowrt version
echo "== user"; chroot "$R" getent passwd flowrt
echo "== verify"; rpm -V --nodeps flowrt`, rpmA)
	var unmet []string
	for _, l := range strings.Split(s[""], "\n") {
		if dep, _, ok := strings.Cut(strings.TrimSpace(l), " is needed by flowrt-"); ok {
			unmet = append(unmet, dep)
		}
	}
	if want := []string{"/bin/sh", "/usr/sbin/useradd", "/usr/bin/getent"}; !slices.Equal(unmet, want) {
		t.Errorf("rpm -i --test in an empty database: needs %q, want %q:\n%s", unmet, want, s[""])
	}
	if s["install"] != "" || s["verify"] != "" {
		t.Errorf("rpm -i said %q; rpm -V %q", s["install"], s["verify"])
	}
	if s["version"] != "flowrt "+releaseVersion {
		t.Errorf("flowrt version in the root: %q", s["version"])
	}
	if f := strings.Split(s["user"], ":"); len(f) != 7 || f[5] != "/var/lib/flowrt" || f[6] != "/usr/sbin/nologin" || len(f[2]) > 3 {
		t.Errorf("the %%pre scriptlet's flowrt user %q: want a system uid, home /var/lib/flowrt, no login", s["user"])
	}
	var want []string
	for _, f := range strings.Split(cmdOutput(t, "rpm", "-qlp", rpmA), "\n") {
		if st, err := os.Stat(filepath.Join(upper, f)); err != nil || !st.IsDir() {
			want = append(want, f)
		}
	}
	for _, db := range []string{"passwd", "group", "shadow", "gshadow"} {
		want = append(want, "/etc/"+db, "/etc/"+db+"-")
	}
	want = append(want, "/etc/.pwd.lock")
	slices.Sort(want)
	if got := changed(); !slices.Equal(got, want) {
		t.Errorf("rpm -i changed %q\nwant the package's files and the user databases: %q", got, want)
	}

	// The admin edits the configuration and enables the engine; then the
	// tagged release is installed over it.
	s = in(`echo http.hostname=127.0.0.1 >>"$R/etc/flowrt/flowrt.conf"
systemctl --root="$R" enable flowrt.service >/dev/null 2>&1
echo "== upgrade"; rpm -U --nodeps "$1"
echo "== query"; rpm -q flowrt
echo "== version"; chroot "$R" flowrt version
echo "== verify"; rpm -V --nodeps flowrt
echo "== user"; chroot "$R" getent passwd flowrt`, rpmB)
	if s["upgrade"] != "" || s["query"] != "flowrt-"+tagVersion+"-1.x86_64" || s["version"] != "flowrt "+tagVersion {
		t.Errorf("rpm -U %s said %q; installed %q, running %q", filepath.Base(rpmB), s["upgrade"], s["query"], s["version"])
	}
	// The configuration is the only file that differs from the package
	// (the dependencies rpm -V also checks are unmet here: --nodeps).
	if s["verify"] != "S.5....T.  c /etc/flowrt/flowrt.conf" {
		t.Errorf("rpm -V after the upgrade:\n%s", s["verify"])
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "etc/flowrt/flowrt.conf")); !strings.HasSuffix(string(b), "http.hostname=127.0.0.1\n") {
		t.Errorf("the upgrade did not keep the edited configuration: %q", b)
	}
	if _, err := os.Stat(filepath.Join(upper, "etc/flowrt/flowrt.conf.rpmnew")); err == nil {
		t.Errorf("the upgrade wrote flowrt.conf.rpmnew for an unchanged packaged configuration")
	}
	link := filepath.Join(upper, "etc/systemd/system/multi-user.target.wants/flowrt.service")
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the upgrade disabled the engine the admin enabled: %v", err)
	}

	s = in(`echo "== erase"; rpm -e flowrt
echo "== query"; rpm -q flowrt
echo "== user"; chroot "$R" getent passwd flowrt`)
	if s["erase"] != "warning: /etc/flowrt/flowrt.conf saved as /etc/flowrt/flowrt.conf.rpmsave" || s["query"] != "package flowrt is not installed" {
		t.Errorf("rpm -e said %q; rpm -q %q", s["erase"], s["query"])
	}
	for _, f := range []string{"/usr/bin/flowrt", "/usr/lib/systemd/system/flowrt.service", "/etc/flowrt/flowrt.conf", "/usr/share/man/man1/flowrt.1.gz"} {
		if st, err := os.Lstat(filepath.Join(upper, f)); err == nil && st.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("rpm -e left %s", f) // a whiteout (a 0/0 character device) is a deletion
		}
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "etc/flowrt/flowrt.conf.rpmsave")); !strings.HasSuffix(string(b), "http.hostname=127.0.0.1\n") {
		t.Errorf("rpm -e did not save the edited configuration as flowrt.conf.rpmsave: %q", b)
	}
	if _, err := os.Lstat(link); err == nil {
		t.Errorf("rpm -e left the engine enabled (%s)", link)
	}
	if s["user"] == "" {
		t.Errorf("rpm -e deleted the flowrt user; rpm has no purge, the admin does (userdel flowrt)")
	}
	t.Logf("rpm -i, -U and -e in the throw-away root: %v", time.Since(start).Round(time.Millisecond))
}
