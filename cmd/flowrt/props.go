package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowrt/flowrt/api"
	"github.com/flowrt/flowrt/flow"
)

// properties are sFlow-RT-style settings: -Dname=value arguments, the
// RTPROP environment variable (the Docker images' way), and flags named
// like the properties (-http.port=8080).
type properties map[string]string

// knownProperties are the ones the engine reads, with their defaults and
// what values they take (check; nil: any string, checked where it is used,
// as a file or an address is).
var knownProperties = []struct {
	name, def, help string
	check           func(string) error
}{
	{"sflow.port", "6343", "UDP port for sFlow (0: any free port, logged)", intIn(0, 65535, "")},
	{"sflow.hostname", "", "address to receive sFlow on (default: every IPv4 and IPv6 address)", nil},
	{"sflow.file", "", "replay sFlow from this pcap/pcapng file instead of the socket", nil},
	{"sflow.file.realtime", "yes", "replay at the recorded pace (no: as fast as possible, on the capture's clock)", isBool},
	{"sflow.rcvbuf", "8388608", "receive buffer per socket, bytes", intIn(1, math.MaxInt32, "bytes")},
	{"sflow.rcvpktsbuffer", "", "sFlow-RT's name for sflow.rcvbuf, bytes (when both are given, sflow.rcvbuf wins)", emptyOr(intIn(1, math.MaxInt32, "bytes"))},
	{"sflow.sockets", "0", "SO_REUSEPORT sockets (0: one per CPU)", intIn(0, 1024, "sockets")},
	{"sflow.workers", "0", "goroutines that apply flow samples, fed by the sockets' (0: one per CPU; -1: none, each socket's goroutine applies its own, so that one exporter gets one core)", intIn(-1, 1024, "workers")},
	{"http.port", "8008", "TCP port for REST and web (0: any free port, logged)", intIn(0, 65535, "")},
	{"http.hostname", "", "address for REST and web (default: all)", nil},
	{"http.readonly", "no", "refuse REST calls that change flows", isBool},
	{"http.body.groups", fmt.Sprint(api.DefaultBodyLimits.Groups), "largest group set or map PUT over REST, bytes (300,000 CIDRs: 5.4 MB)", intIn(1<<10, 1<<30, "bytes")},
	{"http.body.topology", fmt.Sprint(api.DefaultBodyLimits.Topology), "largest topology PUT over REST, bytes (1,000 128-port switches: 7.6 MB)", intIn(1<<10, 1<<30, "bytes")},
	{"http.body.definitions", fmt.Sprint(api.DefaultBodyLimits.Definitions), "largest flow, threshold or forwarding PUT over REST, bytes", intIn(1<<10, 1<<30, "bytes")},
	{"http.body.scripts", fmt.Sprint(api.DefaultBodyLimits.Scripts), "largest body passed to a script's REST handler, bytes", intIn(1<<10, 1<<30, "bytes")},
	{"flow.max", "1000000", "flows tracked by all definitions together", intIn(1, math.MaxInt64, "flows")},
	{"flows.max", "1000", "completed flow records kept for /flows/json", intIn(1, maxHistory, "records")},
	{"events.max", "1000", "threshold events kept for /events/json", intIn(1, maxHistory, "events")},
	{"datasource.timeout", "60", "seconds before a silent data source is removed", secondsIn(maxTimeout)},
	{"agent.timeout", "300", "seconds before a silent agent is removed", secondsIn(maxTimeout)},
	{"agents.max", "10000", "agents held; past it the least recently heard are evicted", intIn(1, maxCap, "agents")},
	{"agent.datasources.max", "10000", "data sources held per agent; past it the agent's least recently heard are evicted", intIn(1, maxCap, "data sources")},
	{"datasources.max", "100000", "data sources held by all agents; past it the least recently heard of all agents are evicted", intIn(1, maxCap, "data sources")},
	{"flow.definitions.max", "100", "flow definitions (REST and scripts); more are refused (409)", intIn(1, 100_000, "definitions")},
	{"thresholds.max", "100", "thresholds; more are refused (409)", intIn(1, 100_000, "thresholds")},
	{"forwarding.sessions.max", "8", "forwarding sessions; more are refused (409)", intIn(1, 10_000, "sessions")},
	{"groups.max", "64", "named address group sets; more are refused (409)", intIn(1, 100_000, "group sets")},
	{"maps.max", "64", "value maps; more are refused (409)", intIn(1, 100_000, "maps")},
	{"log.level", "info", "debug, info, warn or error", func(v string) error { _, err := logLevel(v); return err }},
	{"http.log", "no", "log every HTTP request", isBool},
	{"http.html.redirect", "", "where / sends the browser instead of flowrt's own interface, e.g. ./app/flow-trend/html/ (sFlow-RT's landing page setting; default: flowrt's interface)", nil},
	{"http.auth.file", "", "users and bearer tokens, a user:bcrypt-hash:role or token:role line each, role read-only or read-write; re-read when it changes or on SIGHUP (default: none, anyone may call, as in sFlow-RT)", nil},
	{"http.auth", "", "more of the same entries, comma-separated (a command line shows in ps: prefer the file or RTPROP)", nil},
	{"http.tls.cert", "", "PEM certificate (chain) to serve HTTPS instead of HTTP; re-read when it changes or on SIGHUP", nil},
	{"http.tls.key", "", "PEM private key of http.tls.cert", nil},
	{"http.hosts", "", "comma list of names requests may give as Host besides addresses and localhost (default: any; set it against DNS rebinding)", nil},
	{"http.read.timeout", "30", "seconds to read a request, header and body", secondsIn(3600)},
	{"http.write.timeout", "60", "seconds to write an answer (a long-poll adds its wait)", secondsIn(3600)},
	{"http.idle.timeout", "30", "seconds a keep-alive connection waits for its next request", secondsIn(3600)},
	{"http.connections.max", "0", "HTTP connections held at once, beyond which idle and slow ones are closed and new ones wait (default 0: half the open-files limit, 16 to 4096)", intIn(0, 1<<20, "connections")},
	{"geo.country", "", "MaxMind-format country database (.mmdb) for country: and sourcecountry", nil},
	{"geo.asn", "", "MaxMind-format ASN database (.mmdb) for asn: and sourceas", nil},
	{"oui.names", "/usr/share/ieee-data/oui.txt", "IEEE OUI list for oui: (Debian package ieee-data)", nil},
	{"dns.servers", "", "comma list of DNS servers (address or address:port) for dns: reverse lookups (default: the system's resolver)", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return nil // the system's resolver
		}
		_, err := flow.ServersLookup(strings.Split(v, ","))
		return err
	}},
	{"script.file", "", "comma list of JavaScript files to run at start", nil},
	{"app.dir", "app", "applications: app/<name>/scripts/*.js and app/<name>/html/", nil},
	{"script.store", "store", "where scripts' storeSet() values are kept", nil},
	{"script.timeout", "5", "seconds one script callback may run before it is interrupted", secondsIn(3600)},
	{"script.memory", "256", "megabytes one script may hold; a script that holds more is stopped (0: no limit)", intIn(0, 1<<20, "MB")},
	{"script.flowqueue", "100000", "flow records that may wait for one script's flow handler (a burst at an activeTimeout tick); more are lost, counted", intIn(1, 10_000_000, "records")},
	{"script.http.timeout", "30", "seconds an httpAsync() request may wait for its answer (http() and http2() also end with the callback)", secondsIn(3600)},
	{"script.httpasync.max", "16", "httpAsync() requests one script may have in flight; more are refused", intIn(1, 10_000, "requests")},
	{"script.runcmd", "no", "yes: allow scripts to run commands with runCmd(), as flowrt's own user", isBool},
	{"prometheus.metric.prefix", "sflow_", "name prefix of /prometheus/metrics series", isPromPrefix},
	{"prometheus.type", "no", "write \"# TYPE … gauge\" lines in /prometheus/metrics", isBool},
	{"state.dir", "flowrt-state", "where definitions made over REST are kept across restarts (none: nowhere)", nil},
	{"state.retry", "10", "seconds between attempts to save state after a save failed (full or read-only disk)", secondsIn(3600)},
	{"influxdb.url", "", "push metrics to InfluxDB at this http(s)://host:port (with influxdb.database, or influxdb.org and influxdb.bucket)", nil},
	{"influxdb.database", "", "InfluxDB 1.x database to write to", nil},
	{"influxdb.org", "", "InfluxDB 2.x organization", nil},
	{"influxdb.bucket", "", "InfluxDB 2.x bucket", nil},
	{"influxdb.token", "", "InfluxDB 2.x API token (or user:password for 1.x); prefer RTPROP or a property file to the command line", nil},
	{"influxdb.interval", "10", "seconds between pushes to InfluxDB", secondsIn(3600)},
	{"influxdb.measurement", "sflow", "InfluxDB measurement of the metrics", nil},
	{"prometheus.remotewrite.url", "", "push metrics with Prometheus remote_write to this http(s) URL (Prometheus: /api/v1/write)", nil},
	{"prometheus.remotewrite.interval", "15", "seconds between remote_write pushes", secondsIn(3600)},
	{"clickhouse.url", "", "write flow samples and counters to ClickHouse over HTTP at this http(s)://host:8123 (tables made if missing)", nil},
	{"clickhouse.database", "flowrt", "ClickHouse database of the flows and counters tables", nil},
	{"clickhouse.user", "", "ClickHouse user (default: the server's default user)", nil},
	{"clickhouse.password", "", "ClickHouse password; prefer RTPROP or a property file to the command line", nil},
	{"clickhouse.keys", "", "comma list of flow keys stored with each flow sample (default: MACs, VLAN, IPv4/IPv6 addresses, protocol, ports, TCP flags, ToS)", nil},
	{"clickhouse.ttl", "0", "days ClickHouse keeps rows (0: forever; needs ClickHouse 19.6 or later)", intIn(0, 100_000, "days")},
	{"clickhouse.flush", "1", "seconds between inserts of the buffered flow samples", secondsIn(3600)},
	{"clickhouse.counters", "20", "seconds between writes of every counter metric", secondsIn(86400)},
	{"clickhouse.buffer", "67108864", "bytes of flow rows waiting for an insert; past it samples are dropped, counted", intIn(1<<16, 1<<34, "bytes")},
	{"sflow.source", "udp", "where sFlow comes from: udp (sflow.port), or kafka (consume kafka.topic.raw as a member of kafka.group)", nil},
	{"kafka.brokers", "", "comma list of Kafka brokers (host:port) to publish to or consume from", nil},
	{"kafka.topic.raw", "", "topic of the sFlow datagrams as received (published; consumed with sflow.source=kafka)", nil},
	{"kafka.topic.flows", "", "topic of the decoded flow samples", nil},
	{"kafka.topic.counters", "", "topic of every data source's metrics, every kafka.counters seconds", nil},
	{"kafka.topic.records", "", "topic of the records of log:true flow definitions", nil},
	{"kafka.format", "json", "json or protobuf (docs/flowrt.proto) for flows, counters and records", nil},
	{"kafka.compression", "lz4", "batch compression: none, gzip, snappy, lz4 or zstd", nil},
	{"kafka.keys", "", "comma list of flow keys in each flow sample message (default: as clickhouse.keys)", nil},
	{"kafka.buffer", "100000", "records waiting for Kafka; past it records are dropped, counted", intIn(1, 100_000_000, "records")},
	{"kafka.timeout", "10", "seconds a record may wait for Kafka before it is dropped, counted", secondsIn(3600)},
	{"kafka.counters", "20", "seconds between publications of every data source's metrics", secondsIn(86400)},
	{"kafka.group", "flowrt", "consumer group of engines sharing kafka.topic.raw (sflow.source=kafka)", nil},
	{"kafka.offset", "latest", "where a new consumer group starts: latest or earliest", nil},
	{"kafka.inlet", "no", "yes: only receive UDP and publish the datagrams to kafka.topic.raw (an Akvorado-style inlet)", isBool},
	{"kafka.tls", "no", "yes: connect to the brokers with TLS", isBool},
	{"kafka.tls.ca", "", "PEM CA certificates to verify the brokers (default: the system's)", nil},
	{"kafka.sasl.mechanism", "", "SASL: plain, scram-sha-256 or scram-sha-512 (default: none)", nil},
	{"kafka.sasl.user", "", "SASL user", nil},
	{"kafka.sasl.password", "", "SASL password; prefer RTPROP or a property file to the command line", nil},
	{"bgp.start", "no", "yes: run the embedded BGP speaker (bgpAddNeighbor …, docs/bgp.md)", isBool},
	{"bgp.port", "1179", "TCP port the BGP speaker listens on (179 needs privileges)", intIn(1, 65535, "")},
	{"bgp.hostname", "", "comma list of addresses the BGP speaker listens on (default: every IPv4 and IPv6 address)", nil},
	{"ipfix.templates", "60", "seconds between resends of each IPFIX / NetFlow v9 template to a collector (RFC 7011 §8.4)", secondsIn(86400)},
	{"ipfix.collectors", "", "comma list of collectors (host or host:port, default 4739) sent every flow sample as an IPFIX record", nil},
	{"netflow.collectors", "", "comma list of collectors (host or host:port, default 2055) sent every flow sample as a NetFlow v9 record", nil},
	{"system.propertyFiles", "", "comma list of files of name=value lines (arguments and RTPROP win)", nil},
	{"system.propertyFiles", "", "comma list of files of name=value lines (arguments and RTPROP win, and these win over conf.dir's)", nil},
	{"conf.dir", "conf.d", "directory whose *.conf files (name=value lines) are read at start in name order, as sFlow-RT reads its conf.d (arguments and RTPROP win; empty: none)", nil},
}

// Upper bounds: the flow and event logs are allocated whole at start, and
// a duration in seconds must fit time.Duration.
const (
	maxHistory = 1_000_000
	maxTimeout = 366 * 24 * 3600 // a year
	maxCap     = 100_000_000     // agents or data sources: far beyond what memory holds, within the engine's int32 sentinel
)

func intIn(lo, hi int64, unit string) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("is not an integer")
		}
		if n < lo || n > hi {
			if hi == math.MaxInt64 {
				return fmt.Errorf("is out of range: %s", strings.TrimSpace(fmt.Sprintf("%d or more %s", lo, unit)))
			}
			return fmt.Errorf("is out of range: %s", strings.TrimSpace(fmt.Sprintf("%d to %d %s", lo, hi, unit)))
		}
		return nil
	}
}

func secondsIn(hi float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) {
			return fmt.Errorf("is not a number of seconds")
		}
		if f <= 0 || f > hi {
			return fmt.Errorf("is out of range: more than 0, at most %s seconds", strconv.FormatFloat(hi, 'f', -1, 64))
		}
		return nil
	}
}

// emptyOr accepts "" (not given) or what check accepts.
func emptyOr(check func(string) error) func(string) error {
	return func(v string) error {
		if v == "" {
			return nil
		}
		return check(v)
	}
}

func isBool(v string) error {
	_, err := parseBool(v)
	return err
}

func isPromPrefix(v string) error {
	for i, c := range v {
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return fmt.Errorf("is not a Prometheus name prefix (letters, digits, _ and :, not starting with a digit)")
		}
	}
	if v == "" {
		return fmt.Errorf("is empty: a prefix is needed (default sflow_)")
	}
	return nil
}

// check validates every property flowrt reads: a value out of range stops
// start-up with the allowed range, rather than being replaced by a default.
func (p properties) check() error {
	var errs []error
	for _, k := range knownProperties {
		if k.check == nil {
			continue
		}
		if err := k.check(p[k.name]); err != nil {
			errs = append(errs, fmt.Errorf("property %s=%q %w (%s)", k.name, p[k.name], err, k.help))
		}
	}
	return errors.Join(errs...)
}

// parseProperties reads RTPROP, then args (which win). It returns the
// properties, the JVM options of sFlow-RT's start.sh line (-Xmx2000m …,
// which do nothing here and are only noted) and the arguments that are
// neither.
func parseProperties(args []string, env string) (p properties, jvm, rest []string, err error) {
	p = properties{}
	for _, k := range knownProperties {
		p[k.name] = k.def
	}
	add := func(arg string) error {
		kv, _ := strings.CutPrefix(arg, "-D")
		k, v, ok := strings.Cut(kv, "=")
		if !ok && isJVMProperty(k) { // the JVM takes -Dname alone (value "")
			ok = true
		}
		if !ok || k == "" {
			return fmt.Errorf("property %q must be -Dname=value", arg)
		}
		p[k] = v
		return nil
	}
	explicit := map[string]bool{}
	for _, f := range strings.Fields(env) {
		if isJVMOption(f) {
			jvm = append(jvm, f)
			continue
		}
		if err := add(f); err != nil {
			return nil, nil, nil, fmt.Errorf("RTPROP: %w", err)
		}
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "-D"), "=")
		explicit[k] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-D"):
			if err := add(a); err != nil {
				return nil, nil, nil, err
			}
			k, _, _ := strings.Cut(a[2:], "=")
			explicit[k] = true
		case isJVMOption(a):
			jvm = append(jvm, a)
		case strings.HasPrefix(a, "-") && p.isFlag(a):
			name := strings.TrimLeft(a, "-")
			if k, v, ok := strings.Cut(name, "="); ok {
				p[k], explicit[k] = v, true
			} else if i+1 < len(args) {
				p[name], explicit[name] = args[i+1], true
				i++
			} else {
				return nil, nil, nil, fmt.Errorf("flag %s needs a value", a)
			}
		default:
			rest = append(rest, a)
		}
	}
	// conf.d first, then system.propertyFiles (which conf.d may name): a
	// later file overrides an earlier one, and none overrides an argument.
	given := maps.Clone(explicit)
	files, err := confFiles(p["conf.dir"])
	if err != nil {
		return nil, nil, nil, err
	}
	for _, file := range files {
		if err := p.load(file, explicit, given); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, file := range strings.Split(p["system.propertyFiles"], ",") {
		if file = strings.TrimSpace(file); file == "" {
			continue
		}
		if err := p.load(file, explicit, given); err != nil {
			return nil, nil, nil, err
		}
	}
	// sflow.rcvpktsbuffer is sFlow-RT's name for the receive buffer; flowrt's
	// own sflow.rcvbuf wins when both are given.
	if given["sflow.rcvpktsbuffer"] && !given["sflow.rcvbuf"] {
		p["sflow.rcvbuf"] = p["sflow.rcvpktsbuffer"]
	}
	return p, jvm, rest, nil
}

// confFiles lists the *.conf files of the conf.d directory, in name order;
// none when dir is "" or does not exist.
func confFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("conf.dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") && !e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// load reads a properties file (name=value lines, # comments), as
// sFlow-RT's conf.d files; properties given explicitly are not overridden.
// given records what it set.
func (p properties) load(file string, explicit, given map[string]bool) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("properties file: %w", err)
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
			p[k], given[k] = strings.TrimSpace(v), true
		}
	}
	return nil
}

func (p properties) isFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return isKnown(name)
}

func isKnown(name string) bool {
	for _, k := range knownProperties {
		if k.name == name {
			return true
		}
	}
	return false
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
	b, err := parseBool(p[name])
	if err != nil {
		return false, fmt.Errorf("property %s=%q %w", name, p[name], err)
	}
	return b, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "on":
		return true, nil
	case "no", "false", "0", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("must be yes or no")
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
		// A default is said once: by the help when it names it, else here.
		def := ""
		if k.def != "" && !strings.Contains(k.help, "default") {
			def = fmt.Sprintf(" (default %s)", k.def)
		}
		fmt.Fprintf(&b, "  -D%-26s %s%s\n", k.name+"=…", k.help, def)
	}
	return b.String()
}

// forScripts is what getSystemProperty may read: everything but the
// secrets of http.auth.
func (p properties) forScripts() map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if k != "http.auth" {
			out[k] = v
		}
	}
	return out
}
