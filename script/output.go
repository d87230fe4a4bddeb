package script

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

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

// cmdResult is what runCmd returns.
type cmdResult struct {
	Status int      `json:"status"`
	Stdout []string `json:"stdout"`
	Stderr []string `json:"stderr"`
}

func runCmd(argv, env []string, dir string, limit time.Duration) cmdResult {
	if len(argv) == 0 {
		return cmdResult{Status: -1, Stderr: []string{"runCmd needs a command"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cmdResult{Stdout: lines(out.String()), Stderr: lines(errb.String())}
	if cmd.ProcessState != nil {
		r.Status = cmd.ProcessState.ExitCode()
	} else if err != nil {
		r.Status = -1
		r.Stderr = append(r.Stderr, err.Error())
	}
	return r
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}
