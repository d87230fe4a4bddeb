package main_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tarFile is one entry of a test archive.
type tarFile struct {
	name, body, link string
	kind             byte // tar.TypeReg when 0
}

func writeTarGz(t *testing.T, path string, files []tarFile) {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	tw := tar.NewWriter(z)
	// GitHub's archives start with a global pax header naming the commit.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"}, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: f.kind, Linkname: f.link, Size: int64(len(f.body))}
		switch f.kind {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeDir:
			h.Mode, h.Size = 0o755, 0
		default:
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(f.body))
		}
	}
	tw.Close()
	z.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func flowrtApp(t *testing.T, appDir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(flowrt, append(append([]string{"app"}, args...), "-Dapp.dir="+appDir)...)
	cmd.Dir = t.TempDir() // no conf.d of the checkout's
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pingApp is a small application as InMon publishes them, answering
// /app/<name>/scripts/ping.js/ping/json.
const pingApp = "setHttpHandler(function(req) { return {pong: req.path[0] === 'ping', app: '%s'}; });\n"

// TestAppInstallListRemoveLive: a GitHub-style tarball (<name>-master/ at
// its top, the pax header first) and a zip install into the app.dir of a
// running engine, which starts them without a restart; /apps/json and
// /scripts/json name their scripts by the same strings and give the entry
// relative to the application; a reinstall with -force restarts it with
// the new code; remove stops it.
func TestAppInstallListRemoveLive(t *testing.T) {
	appDir := filepath.Join(t.TempDir(), "app")
	os.MkdirAll(appDir, 0o755)
	e := startEngine(t, "-Dapp.dir="+appDir)
	src := t.TempDir()
	tgz := filepath.Join(src, "master.tar.gz")
	writeTarGz(t, tgz, []tarFile{
		{name: "pinger-master/", kind: tar.TypeDir},
		{name: "pinger-master/README.md", body: "ping"},
		{name: "pinger-master/scripts/ping.js", body: strings.Replace(pingApp, "%s", "v1", 1)},
		{name: "pinger-master/html/index.html", body: "<h1>pinger</h1>"},
		{name: "pinger-master/html/js/alias.js", kind: tar.TypeSymlink, link: "../index.html"},
	})
	out, err := flowrtApp(t, appDir, "install", tgz)
	if err != nil || !strings.Contains(out, "installed pinger") {
		t.Fatalf("install: %v\n%s", err, out)
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("scripts/z.js")
	w.Write([]byte(strings.Replace(pingApp, "%s", "zipped", 1)))
	zw.Close()
	zipFile := filepath.Join(src, "zipped-main.zip")
	os.WriteFile(zipFile, zbuf.Bytes(), 0o644)
	if out, err := flowrtApp(t, appDir, "install", zipFile); err != nil || !strings.Contains(out, "installed zipped") {
		t.Fatalf("zip install: %v\n%s", err, out)
	}

	ping := func(app, script string) (int, string) {
		return e.do(t, "GET", "/app/"+app+"/scripts/"+script+"/ping/json", "")
	}
	waitFor(t, 10*time.Second, "the installed apps started", func() bool {
		c1, _ := ping("pinger", "ping.js")
		c2, _ := ping("zipped", "z.js")
		return c1 == 200 && c2 == 200
	})
	if _, body := ping("pinger", "ping.js"); !strings.Contains(body, `"app": "v1"`) || !strings.Contains(body, `"pong": true`) {
		t.Errorf("pinger answers %s", body)
	}
	var apps map[string]struct {
		Entry   string
		Scripts []string
	}
	e.get(t, "/apps/json", &apps)
	var scripts map[string]any
	e.get(t, "/scripts/json", &scripts)
	if a := apps["pinger"]; a.Entry != "/html/" || !slices.Equal(a.Scripts, []string{"pinger/ping.js"}) {
		t.Errorf("/apps/json pinger = %+v", a)
	}
	if a := apps["zipped"]; a.Entry != "" || !slices.Equal(a.Scripts, []string{"zipped/z.js"}) {
		t.Errorf("/apps/json zipped = %+v", a)
	}
	for _, a := range apps {
		for _, s := range a.Scripts {
			if _, ok := scripts[s]; !ok {
				t.Errorf("/apps/json names script %s, which /scripts/json does not have (%v)", s, scripts)
			}
		}
	}
	if code, body := e.do(t, "GET", "/app/pinger"+apps["pinger"].Entry, ""); code != 200 || !strings.Contains(body, "<h1>pinger</h1>") {
		t.Errorf("the entry page: %d %s", code, body)
	}
	if code, body := e.do(t, "GET", "/app/pinger/html/js/alias.js", ""); code != 200 || !strings.Contains(body, "<h1>pinger</h1>") {
		t.Errorf("the link inside the app: %d %s", code, body)
	}

	out, err = flowrtApp(t, appDir, "list")
	if err != nil || !strings.Contains(out, "pinger\tscripts: ping.js\thtml: true") || !strings.Contains(out, "zipped\tscripts: z.js\thtml: false") {
		t.Errorf("list: %v\n%s", err, out)
	}

	// The same name again: refused without -force; with it, replaced, and the
	// running engine restarts the application with the new script.
	writeTarGz(t, tgz, []tarFile{{name: "pinger-master/scripts/ping.js", body: strings.Replace(pingApp, "%s", "v2", 1)}})
	if out, err := flowrtApp(t, appDir, "install", tgz); err == nil || !strings.Contains(out, "already installed") {
		t.Errorf("a second install without -force: %v\n%s", err, out)
	}
	if out, err := flowrtApp(t, appDir, "install", "-force", tgz); err != nil {
		t.Fatalf("install -force: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "pinger restarted with v2", func() bool {
		_, body := ping("pinger", "ping.js")
		return strings.Contains(body, `"app": "v2"`)
	})

	if out, err := flowrtApp(t, appDir, "remove", "zipped"); err != nil {
		t.Fatalf("remove: %v\n%s", err, out)
	}
	waitFor(t, 10*time.Second, "zipped stopped", func() bool {
		c, _ := ping("zipped", "z.js")
		return c == 404
	})
	apps = nil
	e.get(t, "/apps/json", &apps)
	if _, ok := apps["zipped"]; ok {
		t.Errorf("/apps/json still lists a removed app: %+v", apps)
	}
	if out, err := flowrtApp(t, appDir, "remove", "zipped"); err == nil || !strings.Contains(out, "no application zipped") {
		t.Errorf("removing it twice: %v\n%s", err, out)
	}
	if !strings.Contains(e.logText(), "application started") || !strings.Contains(e.logText(), "application removed") {
		t.Errorf("the engine log does not say what it picked up:\n%s", e.logText())
	}
}

// TestAppInstallRefusesEscapes: archives whose entries would land outside
// the application are refused whole, and nothing is written anywhere: not
// the target of the escape, not a partial application, not a staging
// directory.
func TestAppInstallRefusesEscapes(t *testing.T) {
	base := t.TempDir()
	appDir := filepath.Join(base, "app")
	ok := tarFile{name: "evil-master/scripts/ok.js", body: "logInfo('x');"}
	cases := map[string][]tarFile{
		"dotdot":        {ok, {name: "evil-master/../../outside.txt", body: "x"}},
		"absolute":      {ok, {name: "/tmp/flowrt-absolute-escape.txt", body: "x"}},
		"symlink-abs":   {ok, {name: "evil-master/html/passwd", kind: tar.TypeSymlink, link: "/etc/passwd"}},
		"symlink-up":    {ok, {name: "evil-master/up", kind: tar.TypeSymlink, link: "../../outside.txt"}},
		"symlink-other": {ok, {name: "evil-master/sibling", kind: tar.TypeSymlink, link: "../other-app"}},
		"through-link":  {ok, {name: "evil-master/d", kind: tar.TypeSymlink, link: "."}, {name: "evil-master/d/../../outside.txt", body: "x"}},
		"link-loop":     {ok, {name: "evil-master/x", kind: tar.TypeDir}, {name: "evil-master/x/y", kind: tar.TypeSymlink, link: "."}, {name: "evil-master/x/l", kind: tar.TypeSymlink, link: "y/../.."}},
		"write-through": {ok, {name: "evil-master/x", kind: tar.TypeDir}, {name: "evil-master/l", kind: tar.TypeSymlink, link: "x"}, {name: "evil-master/l/f.js", body: "x"}},
		"hardlink":      {ok, {name: "evil-master/h", kind: tar.TypeLink, link: "/etc/passwd"}},
		"device":        {ok, {name: "evil-master/dev", kind: tar.TypeChar}},
		"not-an-app":    {{name: "stuff/readme.txt", body: "x"}},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(base, name+".tar.gz")
			writeTarGz(t, f, files)
			out, err := flowrtApp(t, appDir, "install", f)
			if err == nil {
				t.Fatalf("installed:\n%s", out)
			}
			if !strings.Contains(out, "outside") && !strings.Contains(out, "refused") && !strings.Contains(out, "not an sFlow-RT application") {
				t.Errorf("the refusal does not say why: %s", out)
			}
			left, _ := os.ReadDir(appDir)
			if len(left) != 0 {
				t.Errorf("app.dir holds %v after a refusal", left)
			}
			for _, p := range []string{filepath.Join(base, "outside.txt"), "/tmp/flowrt-absolute-escape.txt"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}
