package script

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dop251/goja"
)

// Files a script may include(): those under its root, the application's
// directory (app/<name>/) for an application's script and the script's own
// directory for one of script.file. A name is relative to the script's
// directory (or absolute); one that leads out of the root, through '..' or
// a symbolic link, is refused with an error that says where includes may
// be. The files flowrt ships (extras/json2.js) are found when no such file
// exists.

// includePath returns the file name, relative to the root, that include(name)
// reads, or why it may not.
func (s *Script) includePath(name string) (string, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Dir(), name)
	}
	rel, err := filepath.Rel(s.root, filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside %s: a script includes files under its application's directory (or, for script.file, its own)", path, s.root)
	}
	// Each component must be a plain file or directory: a symbolic link
	// could point anywhere, and os.Root below would only stop the ones that
	// point out of the root, not say why.
	at := s.root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		at = filepath.Join(at, part)
		fi, err := os.Lstat(at)
		if err != nil {
			return rel, err // not found: the caller may look among the files flowrt ships
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%s is a symbolic link: refused (include reads plain files under %s)", at, s.root)
		}
	}
	return rel, nil
}

// readInclude reads include(name)'s source; errors say why, in the script's
// terms.
func (s *Script) readInclude(name string) (path, src string, err error) {
	rel, err := s.includePath(name)
	if err == nil {
		var r *os.Root
		if r, err = os.OpenRoot(s.root); err == nil {
			var b []byte
			b, err = r.ReadFile(rel)
			r.Close()
			if err == nil {
				return filepath.Join(s.root, rel), string(b), nil
			}
		}
	}
	if rel != "" && errors.Is(err, fs.ErrNotExist) {
		if src, ok := extraFile(name); ok {
			return name, src, nil
		}
	}
	return "", "", err
}

// bindInclude installs include(file): another file run in the script's
// scope.
func bindInclude(s *Script) {
	vm := s.vm
	s.set("include", func(c goja.FunctionCall) goja.Value {
		name := arg(c, 0).String()
		path, src, err := s.readInclude(name)
		if err != nil {
			throw(vm, "include %s: %v", name, err)
		}
		prg, err := compileScript(path, src)
		if err != nil {
			// A SyntaxError the script can catch, worded as for the script itself.
			e, _ := vm.New(vm.Get("SyntaxError"), vm.ToValue(strings.TrimPrefix(err.Error(), "SyntaxError: ")))
			panic(e)
		}
		if _, err := vm.RunProgram(prg); err != nil {
			panic(err)
		}
		return goja.Undefined()
	})
}
