package script

import (
	"regexp"
	"sync"

	"github.com/dop251/goja"
)

// wrapGlobals serves a script whose header says "// wrapglobals: ns".
// sFlow-RT's writing_applications page: the API's many global names "can
// be wrapped in their own name space to avoid overlap with functions
// defined in the script" (its example: "// wrapglobals: rt" then
// rt.logInfo(…)). So the API functions move from the global object into
// ns, and the script's own logInfo, metric or table are its own. A value
// that is not a JavaScript name is refused at load (checkWrapGlobals).
func wrapGlobals(s *Script) {
	ns, ok := s.Meta["wrapglobals"]
	if !ok || checkWrapGlobals(s.Meta) != nil {
		return
	}
	obj := s.vm.NewObject()
	global := s.vm.GlobalObject()
	for _, k := range global.Keys() { // the enumerable ones: the API, not the built-ins
		if v := global.Get(k); v != nil {
			if _, isFn := goja.AssertFunction(v); isFn {
				_ = obj.Set(k, v) // a plain object: setting cannot fail
				_ = global.Delete(k)
			}
		}
	}
	_ = global.Set(ns, obj)
}

// checkWrapGlobals refuses a wrapglobals header that names no namespace
// flowrt could make.
func checkWrapGlobals(meta map[string]string) error {
	ns, ok := meta["wrapglobals"]
	if ok && (!jsName.MatchString(ns) || isBuiltin(ns)) {
		return &wrapError{ns}
	}
	return nil
}

type wrapError struct{ ns string }

func (e *wrapError) Error() string {
	return "// wrapglobals: " + e.ns + " is not a name the API could be put under (a JavaScript identifier that is not a built-in)"
}

var jsName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// isBuiltin reports whether name is a global of a bare runtime (Object,
// JSON, Math …).
func isBuiltin(name string) bool {
	bareMu.Lock()
	defer bareMu.Unlock()
	if bare == nil {
		bare = goja.New()
	}
	return bare.Get(name) != nil
}

var (
	bareMu sync.Mutex
	bare   *goja.Runtime
)
