package script

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// bindSyslog installs syslog(host, port, facility, severity, obj).
func bindSyslog(s *Script) {
	vm := s.vm
	s.set("syslog", func(c goja.FunctionCall) goja.Value {
		port, facility, severity := 514, 16, 5
		if present(arg(c, 1)) {
			port = int(arg(c, 1).ToInteger())
		}
		if present(arg(c, 2)) {
			facility = int(arg(c, 2).ToInteger())
		}
		if present(arg(c, 3)) {
			severity = int(arg(c, 3).ToInteger())
		}
		if err := sendSyslog(arg(c, 0).String(), port, facility, severity, arg(c, 4).Export()); err != nil {
			throw(vm, "syslog: %v", err)
		}
		return vm.ToValue(true)
	})
}

// sendSyslog sends one RFC 5424 message over UDP: <PRI>1 TIMESTAMP HOST
// flowrt PROCID - - MSG, where MSG is the object's fields as key=value pairs
// (values with spaces, quotes or '=' are quoted), in key order — a form SIEM
// tools such as Splunk and Logstash split into fields by themselves.
func sendSyslog(host string, port, facility, severity int, obj any) error {
	if host == "" {
		host = "127.0.0.1"
	}
	if facility < 0 || facility > 23 || severity < 0 || severity > 7 {
		return fmt.Errorf("facility %d / severity %d out of range (0–23 / 0–7)", facility, severity)
	}
	hostname, _ := os.Hostname()
	if hostname == "" {
		hostname = "-"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s flowrt %d - - ", facility*8+severity, time.Now().UTC().Format(time.RFC3339Nano),
		hostname, os.Getpid())
	b.WriteString(keyValues(obj))
	conn, err := net.Dial("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write(b.Bytes())
	return err
}

func keyValues(obj any) string {
	m, ok := obj.(map[string]any)
	if !ok {
		return fmt.Sprint(obj)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		if v == "" || strings.ContainsAny(v, " \"=\t") {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}
