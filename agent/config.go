// Package agent is a Host sFlow agent: it streams a Linux host's counters
// (the host structures 2000–2010, interface counters, container counters
// from cgroup v2) and randomly sampled packet headers, sampled in the kernel
// by a classic BPF program on an AF_PACKET socket, to sFlow collectors. It
// reads hsflowd's configuration file and the host-sflow image's
// environment, so the Host sFlow articles' set-ups work as printed.
package agent

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Collector is one destination.
type Collector struct {
	Addr netip.AddrPort
}

// Device is one interface to sample packets on (pcap { dev=… }).
type Device struct {
	Name     string
	Sampling uint32 // 1-in-N; 0: from the link speed
}

// Config is what /etc/hsflowd.conf says.
type Config struct {
	Collectors  []Collector
	Polling     time.Duration // counter interval (polling=, default 20 s)
	Sampling    uint32        // default 1-in-N for devices (sampling=; 0: from the link speed)
	HeaderBytes int           // sampled header length (headerBytes=, default 128)
	AgentIP     netip.Addr    // agentIP= (or the address of agent=<device>)
	AgentDevice string        // agent=<device>
	Devices     []Device      // pcap { dev=… }
	Docker      bool          // docker { }: per-container counters
	Cgroup      string        // cgroup v2 root for container counters ("": found at start)
	// ContainerdState and CRIORunroot are where containerd and CRI-O keep
	// their containers' OCI bundles, whose annotations name Kubernetes pods
	// (containerdState=, crioRunroot=; default /run/containerd and
	// /run/containers/storage).
	ContainerdState, CRIORunroot []string
	Systemd                      bool // systemd { }: per-service counters
	MarkTraffic                  bool // systemd { markTraffic = on }: samples name their service (extended_entities)
	TCP                          bool // tcp { }: sampled TCP packets carry their socket's tcp_info
	// Unsupported lists the hsflowd modules of the file that this agent
	// does not have, each once, "name (file:line)", for the one warning at
	// start: a module is never skipped in silence.
	Unsupported []string
}

// DefaultConfig has hsflowd's defaults.
func DefaultConfig() Config {
	return Config{Polling: 20 * time.Second, HeaderBytes: 128}
}

// ConfigError is a bad line of the configuration.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseConfig reads hsflowd's format: nested "name { … }" blocks of
// "key = value" settings, one per line or separated by spaces, # comments.
func ParseConfig(r io.Reader, file string) (Config, error) {
	c := DefaultConfig()
	p := &parser{file: file}
	if err := p.tokenize(r); err != nil {
		return c, err
	}
	if len(p.toks) == 0 {
		return c, &ConfigError{file, 1, "empty: expected sflow { collector { ip=… } }"}
	}
	if t := p.next(); t.s != "sflow" {
		return c, p.errAt(t, "expected sflow { … }, found %q", t.s)
	}
	return c, p.block(func(key string, t token) error {
		switch key {
		case "collector":
			col := Collector{}
			ip, port := "", "6343"
			if err := p.block(func(k string, t token) error {
				v, err := p.value(t)
				switch k {
				case "ip":
					ip = v
				case "udpport", "port":
					port = v
				default:
					return p.errAt(t, "unknown collector setting %q (ip, udpport)", k)
				}
				return err
			}); err != nil {
				return err
			}
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return p.errAt(t, "collector needs ip=<address>, got %q", ip)
			}
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil || n == 0 {
				return p.errAt(t, "collector udpport %q is not a UDP port", port)
			}
			col.Addr = netip.AddrPortFrom(a, uint16(n))
			c.Collectors = append(c.Collectors, col)
		case "pcap":
			d := Device{}
			if err := p.block(func(k string, t token) error {
				v, err := p.value(t)
				if err != nil {
					return err
				}
				switch k {
				case "dev":
					d.Name = v
				case "sampling":
					n, err := strconv.ParseUint(v, 10, 32)
					if err != nil || n == 0 {
						return p.errAt(t, "sampling %q must be a whole number ≥ 1", v)
					}
					d.Sampling = uint32(n)
				case "speed", "promisc", "vport", "tap":
					// hsflowd's options we do not need: accepted, ignored.
				default:
					return p.errAt(t, "unknown pcap setting %q (dev, sampling)", k)
				}
				return nil
			}); err != nil {
				return err
			}
			if d.Name == "" {
				return p.errAt(t, "pcap { } needs dev=<interface>")
			}
			c.Devices = append(c.Devices, d)
		case "docker", "cgroup", "containerd", "k8s":
			// hsflowd's modules for containers: here one walk of the cgroup
			// tree, naming containers by Docker's API and pods by their
			// runtime's bundles.
			c.Docker = true
			if err := p.block(func(k string, t token) error {
				v, err := p.value(t)
				switch k {
				case "path", "root":
					c.Cgroup = v
				case "containerdState":
					c.ContainerdState = append(c.ContainerdState, v)
				case "crioRunroot":
					c.CRIORunroot = append(c.CRIORunroot, v)
				}
				return err // hsflowd's other options (markTraffic, setIfAlias…) are accepted
			}); err != nil {
				return err
			}
		case "systemd":
			c.Systemd = true
			if err := p.block(func(k string, t token) error {
				v, err := p.value(t)
				if err != nil {
					return err
				}
				switch k {
				case "markTraffic":
					on, ok := onOff(v)
					if !ok {
						return p.errAt(t, "markTraffic %q must be on or off", v)
					}
					c.MarkTraffic = on
				case "dropPriority", "refreshVMListSecs", "forgetVMSecs", "cgroup_procs", "cgroup_accounting":
					// hsflowd's tuning of its D-Bus walk: this agent reads the cgroup tree instead.
				default:
					return p.errAt(t, "unknown systemd setting %q (markTraffic)", k)
				}
				return nil
			}); err != nil {
				return err
			}
		case "tcp":
			c.TCP = true
			if err := p.block(func(k string, t token) error {
				_, err := p.value(t)
				return err // hsflowd's tcp { } settings (tunnel, …) change nothing here
			}); err != nil {
				return err
			}
		case "polling", "sampling", "headerBytes", "agentIP", "agent", "DNSSD", "dnssd", "datagramBytes":
			v, err := p.value(t)
			if err != nil {
				return err
			}
			return c.set(key, v, func(format string, args ...any) error { return p.errAt(t, format, args...) })
		default:
			if p.peek().s == "{" { // other hsflowd modules (nflog, psample, dropmon…): reported at start
				if !slices.ContainsFunc(c.Unsupported, func(u string) bool { return strings.HasPrefix(u, key+" ") }) {
					c.Unsupported = append(c.Unsupported, fmt.Sprintf("%s (%s:%d)", key, p.file, t.line))
				}
				return p.skipBlock()
			}
			return p.errAt(t, "unknown setting %q", key)
		}
		return nil
	})
}

func (c *Config) set(key, v string, fail func(string, ...any) error) error {
	switch key {
	case "polling":
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return fail("polling %q must be seconds ≥ 1", v)
		}
		c.Polling = time.Duration(n) * time.Second
	case "sampling":
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return fail("sampling %q must be a whole number ≥ 1", v)
		}
		c.Sampling = uint32(n)
	case "headerBytes":
		n, err := strconv.Atoi(v)
		if err != nil || n < 14 || n > 256 {
			return fail("headerBytes %q must be 14–256", v)
		}
		c.HeaderBytes = n
	case "agentIP":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fail("agentIP %q is not an IP address", v)
		}
		c.AgentIP = a
	case "agent":
		c.AgentDevice = v
	}
	return nil
}

// ApplyEnv applies the sflow/host-sflow image's environment: COLLECTOR
// (addresses, space or comma separated, each optionally :port), SAMPLING,
// POLLING, and NET (host: sample every physical interface and docker0;
// none: no packet sampling; or a device list).
func (c *Config) ApplyEnv(getenv func(string) string, physical func() []string) error {
	if v := getenv("COLLECTOR"); v != "" {
		c.Collectors = nil
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			ap, err := netip.ParseAddrPort(f)
			if err != nil {
				a, err2 := netip.ParseAddr(f)
				if err2 != nil {
					return fmt.Errorf("COLLECTOR: %q is not an address or address:port", f)
				}
				ap = netip.AddrPortFrom(a, 6343)
			}
			c.Collectors = append(c.Collectors, Collector{Addr: ap})
		}
	}
	for _, kv := range []struct{ env, key string }{{"SAMPLING", "sampling"}, {"POLLING", "polling"}} {
		if v := getenv(kv.env); v != "" {
			if err := c.set(kv.key, v, func(f string, a ...any) error { return fmt.Errorf(kv.env+": "+f, a...) }); err != nil {
				return err
			}
		}
	}
	switch v := getenv("NET"); v {
	case "":
	case "none":
		c.Devices = nil
	case "host":
		c.Devices = nil
		for _, d := range physical() {
			c.Devices = append(c.Devices, Device{Name: d})
		}
	default:
		c.Devices = nil
		for _, d := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			c.Devices = append(c.Devices, Device{Name: d})
		}
	}
	return nil
}

// LoadConfig reads a configuration file (a missing default file is not an
// error when the environment names a collector) and applies the environment.
func LoadConfig(path string, mustExist bool) (Config, error) {
	c := DefaultConfig()
	f, err := os.Open(path)
	switch {
	case err == nil:
		defer f.Close()
		if c, err = ParseConfig(f, path); err != nil {
			return c, err
		}
	case mustExist || os.Getenv("COLLECTOR") == "":
		return c, fmt.Errorf("%v: write one (sflow { collector { ip=… } }) or set COLLECTOR", err)
	}
	if err := c.ApplyEnv(os.Getenv, PhysicalDevices); err != nil {
		return c, err
	}
	if len(c.Collectors) == 0 {
		return c, fmt.Errorf("%s: no collector { ip=… } (or COLLECTOR=…)", path)
	}
	return c, nil
}

type token struct {
	s    string
	line int
}

type parser struct {
	file string
	toks []token
	pos  int
}

func (p *parser) tokenize(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		// "{", "}" and "=" are tokens of their own, even without spaces.
		text = strings.NewReplacer("{", " { ", "}", " } ", "=", " = ").Replace(text)
		for _, f := range strings.Fields(text) {
			p.toks = append(p.toks, token{f, line})
		}
	}
	return sc.Err()
}

func (p *parser) next() token {
	if p.pos >= len(p.toks) {
		last := 1
		if len(p.toks) > 0 {
			last = p.toks[len(p.toks)-1].line
		}
		return token{"", last}
	}
	t := p.toks[p.pos]
	p.pos++
	return t
}

func (p *parser) peek() token {
	if p.pos >= len(p.toks) {
		return token{}
	}
	return p.toks[p.pos]
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &ConfigError{p.file, t.line, fmt.Sprintf(format, args...)}
}

// block reads "{ item… }", calling fn with each item's key token.
func (p *parser) block(fn func(key string, t token) error) error {
	if t := p.next(); t.s != "{" {
		return p.errAt(t, "expected {, found %q", t.s)
	}
	for {
		t := p.next()
		switch t.s {
		case "}":
			return nil
		case "":
			return p.errAt(t, "missing }")
		case "{", "=":
			return p.errAt(t, "unexpected %q", t.s)
		}
		if err := fn(t.s, t); err != nil {
			return err
		}
	}
}

// value reads "= value" after a key.
func (p *parser) value(key token) (string, error) {
	if t := p.next(); t.s != "=" {
		return "", p.errAt(key, "%s needs = value", key.s)
	}
	v := p.next()
	if v.s == "" || v.s == "{" || v.s == "}" || v.s == "=" {
		return "", p.errAt(key, "%s has no value", key.s)
	}
	return v.s, nil
}

func (p *parser) skipBlock() error {
	return p.block(func(k string, t token) error {
		if p.peek().s == "{" {
			return p.skipBlock()
		}
		_, err := p.value(t)
		return err
	})
}

// onOff reads hsflowd's booleans.
func onOff(v string) (on, ok bool) {
	switch strings.ToLower(v) {
	case "on", "yes", "true", "1":
		return true, true
	case "off", "no", "false", "0":
		return false, true
	}
	return false, false
}
