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
	var ifs []net.Interface
	err = inNetns(pid, func() (err error) { ifs, err = net.Interfaces(); return err })
	return ifs, err
}

// inNetns runs f on a thread of its own in the network namespace of
// process pid. The thread is never unlocked: when its goroutine ends, Go
// retires it rather than reuse it in a namespace not its own. Sockets f
// makes stay in that namespace.
func inNetns(pid string, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(filepath.Join("/proc", pid, "ns", "net"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("entering the network namespace of %s: %w", pid, err)
			return
		}
		done <- f()
	}()
	return <-done
}
