package script

import "github.com/dop251/goja"

// bindLogging installs logInfo, logWarning, logSevere and logFine: lines of
// the engine's structured log, tagged with the script.
func bindLogging(s *Script) {
	logAt := func(level func(msg string, args ...any)) func(c goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			level(arg(c, 0).String())
			return goja.Undefined()
		}
	}
	s.set("logInfo", logAt(s.log.Info))
	s.set("logWarning", logAt(s.log.Warn))
	s.set("logSevere", logAt(s.log.Error))
	s.set("logFine", logAt(s.log.Debug))
}
