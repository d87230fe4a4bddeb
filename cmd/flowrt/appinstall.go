package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Installing an application as sFlow-RT's get-app.sh does (it unpacks a
// GitHub tarball, <name>-master/ at its top, into app/<name>): from a
// directory, a .tar.gz/.tgz/.tar or a .zip. Every entry is checked before
// anything is written outside a staging directory inside app.dir: no
// absolute paths, no "..", no symbolic or hard link that leads out of the
// application, no devices or pipes, and bounded sizes (an archive that
// expands without end is refused, not unpacked until the disk fills). The
// staging directory is renamed into place only when all of it unpacked.

// Bounds of one application.
const (
	maxAppBytes = 512 << 20 // all its files together
	maxAppFiles = 20_000
)

// appNameRE is what an application may be called: a directory name that
// is also a URL path segment (/app/<name>/…).
var appNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// entry is one file, directory or symlink of the source, by its slash
// path inside it.
type entry struct {
	name string
	mode fs.FileMode // fs.ModeDir, fs.ModeSymlink or a regular file's permissions
	link string      // a symlink's target
	open func() (io.ReadCloser, error)
}

// unpack writes the entries under dst (which exists and is empty).
func unpack(dst string, next func() (entry, bool, error)) error {
	var total int64
	files := 0
	links := map[string]bool{} // symlinks made so far: nothing is written through one
	for {
		e, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		name, err := safeName(e.name)
		if err != nil {
			return err
		}
		if name == "" {
			continue // the top directory itself
		}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if links[d] {
				return fmt.Errorf("%s: written through the link %s, it could land outside the application", e.name, d)
			}
		}
		if links[name] {
			return fmt.Errorf("%s: given twice, once as a link", e.name)
		}
		if files++; files > maxAppFiles {
			return fmt.Errorf("more than %d files: not an application", maxAppFiles)
		}
		p := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		switch {
		case e.mode.IsDir():
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case e.mode&fs.ModeSymlink != 0:
			if err := safeLink(name, e.link); err != nil {
				return err
			}
			if err := os.Symlink(e.link, p); err != nil {
				return err
			}
			links[name] = true
		case e.mode.IsRegular():
			n, err := writeFile(p, e, maxAppBytes-total)
			if err != nil {
				return err
			}
			total += n
		default:
			return fmt.Errorf("%s: a device, pipe or other special file is not part of an application: refused", e.name)
		}
	}
}

// safeName cleans an entry's path, refusing one that is absolute or climbs
// out with "..".
func safeName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || filepath.IsAbs(name) || len(n) > 1 && n[1] == ':' {
		return "", fmt.Errorf("%q: an absolute path would write outside the application", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%q: \"..\" would write outside the application", name)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// safeLink refuses a symbolic link at name whose target is absolute or
// leads above the application's top directory.
func safeLink(name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) || strings.Contains(target, `\`) {
		return fmt.Errorf("%s: link to %q leads outside the application", name, target)
	}
	depth := strings.Count(path.Dir(name), "/")
	if path.Dir(name) != "." {
		depth++
	}
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "..":
			if depth--; depth < 0 {
				return fmt.Errorf("%s: link to %q leads outside the application", name, target)
			}
		case ".", "":
		default:
			depth++
		}
	}
	return nil
}

func writeFile(p string, e entry, room int64) (int64, error) {
	r, err := e.open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	perm := fs.FileMode(0o644)
	if e.mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, room+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > room {
		err = fmt.Errorf("the application is larger than %d MB: refused", maxAppBytes>>20)
	}
	return n, err
}

// tarEntries reads a tar stream (gzip-compressed when gz).
func tarEntries(r io.Reader, gz bool) (func() (entry, bool, error), error) {
	if gz {
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("not a gzip file: %w", err)
		}
		r = z
	}
	tr := tar.NewReader(r)
	return func() (entry, bool, error) {
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return entry{}, false, nil
			}
			if err != nil {
				return entry{}, false, fmt.Errorf("not a readable tar archive: %w", err)
			}
			e := entry{name: h.Name, open: func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }}
			switch h.Typeflag {
			case tar.TypeXGlobalHeader: // GitHub's pax header (the commit id): not a file
				continue
			case tar.TypeDir:
				e.mode = fs.ModeDir
			case tar.TypeSymlink:
				e.mode, e.link = fs.ModeSymlink, h.Linkname
			case tar.TypeReg:
				e.mode = fs.FileMode(h.Mode) & 0o777
			case tar.TypeLink:
				return entry{}, false, fmt.Errorf("%s: a hard link (to %s) is refused: a link can lead outside the application", h.Name, h.Linkname)
			default:
				e.mode = fs.ModeDevice // refused by unpack, with the name
			}
			return e, true, nil
		}
	}, nil
}

// zipEntries reads a zip archive.
func zipEntries(file string) (func() (entry, bool, error), func() error, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	i := 0
	return func() (entry, bool, error) {
		if i >= len(zr.File) {
			return entry{}, false, nil
		}
		f := zr.File[i]
		i++
		m := f.Mode()
		e := entry{name: f.Name, open: f.Open}
		switch {
		case m.IsDir():
			e.mode = fs.ModeDir
		case m&fs.ModeSymlink != 0:
			r, err := f.Open()
			if err != nil {
				return entry{}, false, err
			}
			b, err := io.ReadAll(io.LimitReader(r, 4096))
			r.Close()
			if err != nil {
				return entry{}, false, err
			}
			e.mode, e.link = fs.ModeSymlink, string(b)
		case m.IsRegular():
			e.mode = m & 0o777
		default:
			e.mode = fs.ModeDevice
		}
		return e, true, nil
	}, zr.Close, nil
}

// dirEntries walks a directory as if it were an archive (symlinks are
// copied as links, and checked like an archive's).
func dirEntries(root string) (func() (entry, bool, error), error) {
	var list []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		e := entry{name: filepath.ToSlash(rel)}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch m := info.Mode(); {
		case m.IsDir():
			if d.Name() == ".git" && p != root {
				return filepath.SkipDir // a clone's history is not part of the application
			}
			e.mode = fs.ModeDir
		case m&fs.ModeSymlink != 0:
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
			e.mode = fs.ModeSymlink
		case m.IsRegular():
			e.mode = m & 0o777
			e.open = func() (io.ReadCloser, error) { return os.Open(p) }
		default:
			e.mode = m.Type()
		}
		list = append(list, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func() (entry, bool, error) {
		if len(list) == 0 {
			return entry{}, false, nil
		}
		e := list[0]
		list = list[1:]
		return e, true, nil
	}, nil
}

// appRoot finds the application inside what was unpacked: the top itself
// when it holds scripts/ or html/, or its only directory when that does
// (a GitHub tarball's <name>-master/). It returns that directory and the
// name it suggests.
func appRoot(staged string) (root, suggested string, err error) {
	isApp := func(d string) bool {
		for _, sub := range []string{"scripts", "html"} {
			if st, err := os.Stat(filepath.Join(d, sub)); err == nil && st.IsDir() {
				return true
			}
		}
		return false
	}
	if isApp(staged) {
		return staged, "", nil
	}
	ents, err := os.ReadDir(staged)
	if err != nil {
		return "", "", err
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 1 && isApp(filepath.Join(staged, dirs[0])) {
		return filepath.Join(staged, dirs[0]), trimBranch(dirs[0]), nil
	}
	return "", "", errors.New("not an sFlow-RT application: no scripts/ or html/ directory at its top (nor inside its one top directory)")
}

// checkLinks resolves every symbolic link under root and refuses one
// that ends outside it or nowhere (a link to a linked directory can climb
// further than its text says).
func checkLinks(root string) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		to, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("%s: link to nothing (%v)", filepath.ToSlash(rel), err)
		}
		if to != real && !strings.HasPrefix(to, real+string(filepath.Separator)) {
			return fmt.Errorf("%s: link leads outside the application (to %s)", filepath.ToSlash(rel), to)
		}
		return nil
	})
}

// trimBranch turns a GitHub archive's top directory (flow-trend-master,
// topology-main) into the application's name.
func trimBranch(s string) string {
	for _, suffix := range []string{"-master", "-main"} {
		if t, ok := strings.CutSuffix(s, suffix); ok && t != "" {
			return t
		}
	}
	return s
}

// sourceName is the name a source suggests: its base name without the
// archive extension and branch suffix.
func sourceName(src string) string {
	b := filepath.Base(filepath.Clean(src))
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		if t, ok := strings.CutSuffix(strings.ToLower(b), ext); ok {
			b = b[:len(t)]
			break
		}
	}
	return trimBranch(b)
}
