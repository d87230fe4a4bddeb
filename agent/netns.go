package agent

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsInterfaces lists the interfaces of the network namespace process pid
// is in, or nil when that is this process's own namespace (a container
// on the host's network has no interfaces of its own). It needs
// CAP_SYS_ADMIN to enter the namespace.
func nsInterfaces(pid string) ([]net.Interface, error) {
	target := filepath.Join("/proc", pid, "ns", "net")
	theirs, err := os.Readlink(target)
	if err != nil {
		return nil, err
	}
	if ours, _ := os.Readlink("/proc/self/ns/net"); ours == theirs {
		return nil, nil
	}
	type result struct {
		ifs []net.Interface
		err error
	}
	done := make(chan result, 1)
	go func() {
		// This thread changes namespace and is never unlocked: when the
		// goroutine ends, Go retires the thread rather than reuse it.
		runtime.LockOSThread()
		fd, err := unix.Open(target, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("entering the network namespace of %s: %w", pid, err)}
			return
		}
		ifs, err := net.Interfaces()
		done <- result{ifs, err}
	}()
	r := <-done
	return r.ifs, r.err
}
