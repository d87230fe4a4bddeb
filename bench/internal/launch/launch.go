// Package launch starts the programs the bench harnesses measure — flowrt
// engines and their peers — on loopback ports, keeps what they print, and
// stops them.
package launch

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EngineReady is the line a flowrt engine logs once its REST listener is up.
const EngineReady = "REST and web listening"

// StartTimeout is how long StartEngine waits for EngineReady.
const StartTimeout = 20 * time.Second

// FreePort is a port on 127.0.0.1 that was free for network ("udp" or
// "tcp") at the time of the call.
func FreePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free UDP port: %w", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free TCP port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Proc is a started program. Its standard output and error go to one
// log that Log reads; Stop ends it.
type Proc struct {
	Cmd *exec.Cmd

	done chan struct{} // closed when Cmd has exited
	err  error         // Cmd.Wait's, once done is closed

	mu    sync.Mutex
	out   []byte
	want  string        // text WaitFor waits for, "" when none
	ready chan struct{} // closed when out holds want
}

// Start starts cmd, whose Stdout and Stderr it sets to the Proc's log.
func Start(cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Write appends to the log; exec's copying goroutine calls it.
func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := max(0, len(p.out)-len(p.want))
	p.out = append(p.out, b...)
	if p.want != "" && bytes.Contains(p.out[from:], []byte(p.want)) {
		p.want = ""
		close(p.ready)
	}
	return len(b), nil
}

// Log is all the program has printed so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.out)
}

// WaitFor waits until the program has printed text. It fails, with the
// log, if the program exits first or timeout passes.
func (p *Proc) WaitFor(text string, timeout time.Duration) error {
	p.mu.Lock()
	if bytes.Contains(p.out, []byte(text)) {
		p.mu.Unlock()
		return nil
	}
	p.want, p.ready = text, make(chan struct{})
	ready := p.ready
	p.mu.Unlock()
	name := filepath.Base(p.Cmd.Path)
	select {
	case <-ready:
		return nil
	case <-p.done:
		// The log is complete once Wait has returned.
		return fmt.Errorf("%s exited (%v) before printing %q:\n%s", name, p.err, text, p.Log())
	case <-time.After(timeout):
		return fmt.Errorf("%s did not print %q in %v:\n%s", name, text, timeout, p.Log())
	}
}

// Stop sends the program SIGTERM and waits for it to exit, killing it
// after 10 s. Stopping a program that has exited does nothing.
func (p *Proc) Stop() {
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Cmd.Process.Kill()
		<-p.done
	}
}

// Engine is a flowrt engine started by StartEngine.
type Engine struct {
	*Proc
	HTTP  string // REST base URL, http://127.0.0.1:<port>
	SFlow string // sFlow UDP address, 127.0.0.1:<port>
}

// StartEngine starts the flowrt binary bin in dir, its state in dir/state,
// receiving sFlow and serving REST on free loopback ports, with the -D
// properties props (later ones override), and waits StartTimeout for its
// REST listener.
func StartEngine(bin, dir string, props ...string) (*Engine, error) {
	sp, err := FreePort("udp")
	if err != nil {
		return nil, err
	}
	hp, err := FreePort("tcp")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-Dsflow.port="+strconv.Itoa(sp), "-Dsflow.hostname=127.0.0.1",
		"-Dhttp.port="+strconv.Itoa(hp), "-Dhttp.hostname=127.0.0.1", "-Dstate.dir="+filepath.Join(dir, "state"))
	cmd.Args = append(cmd.Args, props...)
	cmd.Dir = dir
	p, err := Start(cmd)
	if err != nil {
		return nil, err
	}
	if err := p.WaitFor(EngineReady, StartTimeout); err != nil {
		p.Stop()
		return nil, fmt.Errorf("flowrt did not start: %w", err)
	}
	return &Engine{Proc: p, HTTP: fmt.Sprintf("http://127.0.0.1:%d", hp), SFlow: fmt.Sprintf("127.0.0.1:%d", sp)}, nil
}

// Problems are the engine's log lines at WARN or ERROR.
func (e *Engine) Problems() []string {
	var out []string
	for l := range strings.Lines(e.Log()) {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}
