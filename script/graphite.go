package script

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// bindGraphite installs graphite(host, port, metrics).
func bindGraphite(s *Script) {
	vm := s.vm
	s.set("graphite", func(c goja.FunctionCall) goja.Value {
		port := 2003
		if present(arg(c, 1)) {
			port = int(arg(c, 1).ToInteger())
		}
		if err := sendGraphite(arg(c, 0).String(), port, arg(c, 2).Export()); err != nil {
			throw(vm, "graphite: %v", err)
		}
		return vm.ToValue(true)
	})
}

// sendGraphite sends metrics with the plaintext protocol: "name value
// timestamp" lines over TCP.
func sendGraphite(host string, port int, metrics any) error {
	m, ok := metrics.(map[string]any)
	if !ok {
		return fmt.Errorf("metrics must be an object of name → value")
	}
	if host == "" {
		host = "127.0.0.1"
	}
	now := time.Now().Unix()
	var b bytes.Buffer
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch v := m[k].(type) {
		case int64, float64, int:
			fmt.Fprintf(&b, "%s %v %d\n", strings.ReplaceAll(k, " ", "_"), v, now)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Write(b.Bytes())
	return err
}
