package script

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
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
		ctx, cancel := s.callContext(graphiteTimeout)
		defer cancel()
		if err := sendGraphite(ctx, s.m.deps.Resolver, arg(c, 0).String(), port, arg(c, 2).Export()); err != nil {
			throw(vm, "graphite: %v", timedOut(ctx, err, s.limitName(graphiteTimeout)))
		}
		return vm.ToValue(true)
	})
}

// graphiteTimeout bounds graphite(): the connection and the write of the
// lines (the callback's time bounds it too).
const graphiteTimeout = 10 * time.Second

// sendGraphite sends metrics with the plaintext protocol: "name value
// timestamp" lines over TCP; ctx bounds the lookup, the connection and the
// write (a carbon that accepts and does not read).
func sendGraphite(ctx context.Context, r *net.Resolver, host string, port int, metrics any) error {
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
	conn, err := dialer(r).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(d)
	}
	_, err = conn.Write(b.Bytes())
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = context.DeadlineExceeded
	}
	return err
}
