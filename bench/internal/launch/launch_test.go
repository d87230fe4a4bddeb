package launch

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// WaitFor sees text printed on either stream, even split across writes
// or printed before it was asked; Stop ends the program with SIGTERM.
func TestWaitForAndStop(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", `printf 'first\nRE' >&2; sleep 0.2; echo 'ADY here'; exec sleep 60`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor("READY", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor("first", time.Second); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if got := p.Log(); got != "first\nREADY here\n" {
		t.Fatalf("log %q", got)
	}
	if p.Cmd.ProcessState == nil || p.Cmd.ProcessState.Success() {
		t.Fatalf("after Stop: %v, want killed by SIGTERM", p.Cmd.ProcessState)
	}
	p.Stop() // again: returns at once
}

// A program that exits before printing the text fails WaitFor with what
// it printed.
func TestWaitForExit(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", `echo 'no such flag' >&2; exit 2`))
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitFor(EngineReady, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "no such flag") {
		t.Fatalf("WaitFor: %v", err)
	}
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := StartEngine("/nonexistent/flowrt", t.TempDir()); err == nil {
		t.Fatal("started /nonexistent/flowrt")
	}
}

func TestProblems(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", `echo 'level=INFO msg=a'; echo 'level=WARN msg=b'; echo 'level=ERROR msg=c'`))
	if err != nil {
		t.Fatal(err)
	}
	p.WaitFor("never", 10*time.Second) // returns once sh has exited
	got := (&Engine{Proc: p}).Problems()
	if strings.Join(got, "|") != "level=WARN msg=b|level=ERROR msg=c" {
		t.Fatalf("problems %q", got)
	}
}
