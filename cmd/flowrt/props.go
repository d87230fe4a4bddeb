package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// properties are sFlow-RT-style settings: -Dname=value arguments, the
// RTPROP environment variable (the Docker images' way), and flags named
// like the properties (-http.port=8080).
type properties map[string]string

// knownProperties are the ones the engine reads, with their defaults.
var knownProperties = []struct{ name, def, help string }{
	{"sflow.port", "6343", "UDP port for sFlow"},
	{"sflow.hostname", "", "address to receive sFlow on (default: every IPv4 and IPv6 address)"},
	{"sflow.file", "", "replay sFlow from this pcap/pcapng file instead of the socket"},
	{"sflow.file.realtime", "yes", "replay at the recorded pace (no: as fast as possible)"},
	{"sflow.rcvbuf", "8388608", "receive buffer per socket, bytes"},
	{"sflow.sockets", "0", "SO_REUSEPORT sockets (0: one per CPU)"},
	{"http.port", "8008", "TCP port for REST and web"},
	{"http.hostname", "", "address for REST and web (default: all)"},
	{"http.readonly", "no", "refuse REST calls that change flows"},
	{"flow.max", "1000000", "flows tracked by all definitions together"},
	{"flows.max", "1000", "completed flow records kept for /flows/json"},
	{"events.max", "1000", "threshold events kept for /events/json"},
	{"datasource.timeout", "60", "seconds before a silent data source is removed"},
	{"agent.timeout", "300", "seconds before a silent agent is removed"},
	{"log.level", "info", "debug, info, warn or error"},
	{"http.log", "no", "log every HTTP request"},
	{"geo.country", "", "MaxMind-format country database (.mmdb) for country: and sourcecountry"},
	{"geo.asn", "", "MaxMind-format ASN database (.mmdb) for asn: and sourceas"},
	{"oui.names", "/usr/share/ieee-data/oui.txt", "IEEE OUI list for oui: (Debian package ieee-data)"},
	{"script.file", "", "comma list of JavaScript files to run at start"},
	{"app.dir", "app", "applications: app/<name>/scripts/*.js and app/<name>/html/"},
	{"script.store", "store", "where scripts' storeSet() values are kept"},
	{"script.timeout", "5", "seconds one script callback may run before it is interrupted"},
	{"script.memory", "256", "megabytes one script may hold; a script that holds more is stopped (0: no limit)"},
	{"script.flowqueue", "100000", "flow records that may wait for one script's flow handler (a burst at an activeTimeout tick); more are lost, counted"},
	{"script.http.timeout", "30", "seconds an httpAsync() request may wait for its answer (http() and http2() also end with the callback)"},
	{"script.httpasync.max", "16", "httpAsync() requests one script may have in flight; more are refused"},
	{"script.runcmd", "no", "yes: allow scripts to run commands with runCmd(), as flowrt's own user"},
	{"prometheus.metric.prefix", "sflow_", "name prefix of /prometheus/metrics series"},
	{"prometheus.type", "no", "write \"# TYPE … gauge\" lines in /prometheus/metrics"},
	{"state.dir", "flowrt-state", "where definitions made over REST are kept across restarts (none: nowhere)"},
	{"system.propertyFiles", "", "comma list of files of name=value lines (arguments and RTPROP win)"},
}

// parseProperties reads RTPROP, then args (which win). It returns the
// arguments that are not properties.
func parseProperties(args []string, env string) (properties, []string, error) {
	p := properties{}
	for _, k := range knownProperties {
		p[k.name] = k.def
	}
	add := func(arg string) error {
		kv, _ := strings.CutPrefix(arg, "-D")
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("property %q must be -Dname=value", arg)
		}
		p[k] = v
		return nil
	}
	for _, f := range strings.Fields(env) {
		if err := add(f); err != nil {
			return nil, nil, fmt.Errorf("RTPROP: %w", err)
		}
	}
	var rest []string
	explicit := map[string]bool{}
	for _, f := range strings.Fields(env) {
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "-D"), "=")
		explicit[k] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-D"):
			if err := add(a); err != nil {
				return nil, nil, err
			}
			k, _, _ := strings.Cut(a[2:], "=")
			explicit[k] = true
		case strings.HasPrefix(a, "-") && p.isFlag(a):
			name := strings.TrimLeft(a, "-")
			if k, v, ok := strings.Cut(name, "="); ok {
				p[k], explicit[k] = v, true
			} else if i+1 < len(args) {
				p[name], explicit[name] = args[i+1], true
				i++
			} else {
				return nil, nil, fmt.Errorf("flag %s needs a value", a)
			}
		default:
			rest = append(rest, a)
		}
	}
	for _, file := range strings.Split(p["system.propertyFiles"], ",") {
		if file = strings.TrimSpace(file); file == "" {
			continue
		}
		if err := p.load(file, explicit); err != nil {
			return nil, nil, err
		}
	}
	return p, rest, nil
}

// load reads a properties file (name=value lines, # comments), as
// sFlow-RT's conf.d files; properties given explicitly are not overridden.
func (p properties) load(file string, explicit map[string]bool) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("system.propertyFiles: %w", err)
	}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: %q is not name=value", file, n+1, line)
		}
		if k = strings.TrimSpace(k); !explicit[k] {
			p[k] = strings.TrimSpace(v)
		}
	}
	return nil
}

func (p properties) isFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return slices.ContainsFunc(knownProperties, func(k struct{ name, def, help string }) bool { return k.name == name })
}

func (p properties) str(name string) string { return p[name] }

func (p properties) int(name string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(p[name]))
	if err != nil {
		return 0, fmt.Errorf("property %s=%q is not an integer", name, p[name])
	}
	return n, nil
}

func (p properties) seconds(name string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(p[name]), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("property %s=%q is not a positive number of seconds", name, p[name])
	}
	return time.Duration(f * float64(time.Second)), nil
}

func (p properties) bool(name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(p[name])) {
	case "yes", "true", "1", "on":
		return true, nil
	case "no", "false", "0", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("property %s=%q must be yes or no", name, p[name])
}

// unknown lists the properties flowrt does not read itself (kept for
// scripts, which read them with getSystemProperty).
func (p properties) unknown() []string {
	var out []string
	for k := range p {
		if !p.isFlag("-" + k) {
			out = append(out, k+"="+p[k])
		}
	}
	slices.Sort(out)
	return out
}

func propertiesUsage() string {
	var b strings.Builder
	for _, k := range knownProperties {
		fmt.Fprintf(&b, "  -D%-22s %s (default %q)\n", k.name+"=…", k.help, k.def)
	}
	return b.String()
}
