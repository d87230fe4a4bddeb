package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// cpuLoad gives /analyzer/json sFlow-RT's cpuLoadProcess and cpuLoadSystem:
// the share of all CPUs (0 to 1) that flowrt, and the whole system, used
// since the previous reading — as Java's OperatingSystemMXBean reports them
// to sFlow-RT. Readings closer than a second apart repeat the last values,
// so that a page polling quickly still sees a load over a meaningful span.
// The process figure comes from getrusage, the system one from /proc/stat
// (Linux); where /proc/stat cannot be read, cpuLoadSystem is left out.
type cpuLoad struct {
	mu                 sync.Mutex
	at                 time.Time
	procCPU            time.Duration
	sysBusy, sysTotal  uint64
	sysOK              bool
	lastProc, lastSys  float64
	lastSysOK, started bool
}

func newCPULoad() *cpuLoad {
	c := &cpuLoad{}
	c.at, c.procCPU = time.Now(), processCPU()
	c.sysBusy, c.sysTotal, c.sysOK = systemCPU()
	return c
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// systemCPU reads the busy and total jiffies of /proc/stat's cpu line.
func systemCPU() (busy, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest and guest_nice are already counted in user and nice
			break
		}
		total += n
		if i != 3 && i != 4 { // idle and iowait
			busy += n
		}
	}
	return busy, total, true
}

// fields adds the two loads to out.
func (c *cpuLoad) fields(out map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if wall := now.Sub(c.at); wall >= time.Second || !c.started && wall > 0 {
		proc := processCPU()
		c.lastProc = min(1, max(0, float64(proc-c.procCPU)/float64(wall)/float64(runtime.NumCPU())))
		busy, total, ok := systemCPU()
		c.lastSysOK = ok && c.sysOK && total > c.sysTotal
		if c.lastSysOK {
			c.lastSys = float64(busy-c.sysBusy) / float64(total-c.sysTotal)
		}
		c.at, c.procCPU, c.sysBusy, c.sysTotal, c.sysOK, c.started = now, proc, busy, total, ok, true
	}
	out["cpuLoadProcess"] = c.lastProc
	if c.lastSysOK {
		out["cpuLoadSystem"] = c.lastSys
	}
}
