package script

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
)

// runCmd is off unless script.runcmd=yes: a command runs as the engine's
// user, so allowing it is the operator's decision, not a script's.
const runCmdDisabled = "runCmd is disabled: commands run as flowrt's own user, so the operator allows them with -Dscript.runcmd=yes"

// maxCmdOutput bounds what runCmd keeps of each of stdout and stderr: a
// command that writes more is killed (`yes` fills gigabytes in seconds).
const maxCmdOutput = 8 << 20

// bindRunCmd installs runCmd(argv[, env[, dir]]).
func bindRunCmd(s *Script) {
	vm, d := s.vm, s.m.deps
	s.set("runCmd", func(c goja.FunctionCall) goja.Value {
		if !d.RunCmd {
			throw(vm, runCmdDisabled)
		}
		argv := stringList(arg(c, 0))
		if len(argv) == 0 {
			throw(vm, "runCmd needs a command: an array such as ['ovs-ofctl', 'dump-flows', 'br0']")
		}
		ctx, cancel := s.callContext(d.CallTimeout)
		defer cancel()
		r, err := runCmd(ctx, argv, stringList(arg(c, 1)), optString(arg(c, 2)))
		if err != nil {
			throw(vm, "runCmd %s: %v", argv[0], err)
		}
		return toJS(vm, r)
	})
}

// cmdResult is what runCmd returns.
type cmdResult struct {
	Status int      `json:"status"`
	Stdout []string `json:"stdout"`
	Stderr []string `json:"stderr"`
}

// capped is an output buffer that stops the command when it is full. (Not
// an embedded bytes.Buffer: io.Copy would use its ReadFrom, unbounded.)
type capped struct {
	buf  bytes.Buffer
	over bool
	kill func()
}

var errOutputFull = errors.New("output limit reached")

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > maxCmdOutput {
		c.over = true
		c.kill()
		return 0, errOutputFull
	}
	return c.buf.Write(p)
}

// runCmd runs a command until it ends or ctx does. The command gets its own
// process group, so that what it started (sh -c 'sleep 60 & …') is killed
// with it; WaitDelay bounds the wait for output pipes a stray process may
// still hold.
func runCmd(ctx context.Context, argv, env []string, dir string) (cmdResult, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 500 * time.Millisecond
	kill := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, errb := capped{kill: kill}, capped{kill: kill}
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	switch {
	case out.over || errb.over:
		return cmdResult{}, fmt.Errorf("the command wrote more than %d MB: stopped", maxCmdOutput>>20)
	case ctx.Err() != nil:
		return cmdResult{}, fmt.Errorf("killed after %v: the callback's time (script.timeout) was up", time.Since(start).Round(time.Millisecond))
	case cmd.ProcessState == nil:
		return cmdResult{}, err // it did not start: not found, not executable, no such directory
	}
	return cmdResult{Status: cmd.ProcessState.ExitCode(), Stdout: lines(out.buf.String()), Stderr: lines(errb.buf.String())}, nil
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}
