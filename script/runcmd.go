package script

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// bindRunCmd installs runCmd(argv[, env[, dir]]), unless script.runcmd=no.
func bindRunCmd(s *Script) {
	vm, d := s.vm, s.m.deps
	s.set("runCmd", func(c goja.FunctionCall) goja.Value {
		if !d.RunCmd {
			throw(vm, "runCmd is disabled (script.runcmd=no)")
		}
		return toJS(vm, runCmd(stringList(arg(c, 0)), stringList(arg(c, 1)), optString(arg(c, 2)), d.CallTimeout))
	})
}

// cmdResult is what runCmd returns.
type cmdResult struct {
	Status int      `json:"status"`
	Stdout []string `json:"stdout"`
	Stderr []string `json:"stderr"`
}

func runCmd(argv, env []string, dir string, limit time.Duration) cmdResult {
	if len(argv) == 0 {
		return cmdResult{Status: -1, Stderr: []string{"runCmd needs a command"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cmdResult{Stdout: lines(out.String()), Stderr: lines(errb.String())}
	if cmd.ProcessState != nil {
		r.Status = cmd.ProcessState.ExitCode()
	} else if err != nil {
		r.Status = -1
		r.Stderr = append(r.Stderr, err.Error())
	}
	return r
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}
