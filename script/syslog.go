package script

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

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
		msg, err := s.syslogMessageOf(arg(c, 4))
		if err == nil {
			ctx, cancel := s.callContext(syslogTimeout)
			err = timedOut(ctx, sendSyslog(ctx, s.m.deps.Resolver, optString(arg(c, 0)), port, facility, severity, msg),
				s.limitName(syslogTimeout))
			cancel()
		}
		if err != nil {
			throw(vm, "syslog: %v", err)
		}
		return vm.ToValue(true)
	})
}

// syslogField is one of the object's fields, its value as JavaScript would
// print it (String(v); JSON for objects and arrays).
type syslogField struct{ name, value string }

// syslogMessage is what a script asked to send: an object's fields, or a
// text.
type syslogMessage struct {
	fields []syslogField // nil for a text
	text   string
}

// syslogMessageOf reads syslog()'s last argument: an object's own fields in
// the script's order, or a string (or any other value, as JSON).
func (s *Script) syslogMessageOf(v goja.Value) (syslogMessage, error) {
	if !present(v) {
		return syslogMessage{}, errors.New("no message: give an object of fields or a string")
	}
	if s, ok := v.Export().(string); ok {
		return syslogMessage{text: s}, nil
	}
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() == "Array" {
		return syslogMessage{text: string(s.jsonOf(v))}, nil
	}
	m := syslogMessage{fields: []syslogField{}}
	for _, k := range obj.Keys() {
		if err := checkParamName(k); err != nil {
			return syslogMessage{}, err
		}
		fv := obj.Get(k)
		val := fv.String()
		if o, ok := fv.(*goja.Object); ok && o.ClassName() != "Date" && o.ClassName() != "String" && o.ClassName() != "Number" {
			val = string(s.jsonOf(fv))
		}
		m.fields = append(m.fields, syslogField{k, val})
	}
	return m, nil
}

// checkParamName refuses a field name that RFC 5424 does not allow as a
// PARAM-NAME (1–32 printable US-ASCII characters but '=', ' ', ']' and '"'):
// renaming it would send a field the script never named.
func checkParamName(k string) error {
	ok := len(k) >= 1 && len(k) <= 32
	for i := 0; ok && i < len(k); i++ {
		c := k[i]
		ok = c > 32 && c < 127 && c != '=' && c != ']' && c != '"'
	}
	if !ok {
		return fmt.Errorf("field name %q cannot be sent: RFC 5424 names are 1 to 32 printable ASCII characters without '=', ' ', ']' or '\"'", k)
	}
	return nil
}

// syslogSequence numbers the messages this process sends ([meta
// sequenceId], 1 to 2147483647, then 1 again), so that a receiver can count
// what UDP lost.
var syslogSequence atomic.Uint32

func nextSequence() uint32 {
	for {
		old := syslogSequence.Load()
		next := old + 1
		if next > 2147483647 {
			next = 1
		}
		if syslogSequence.CompareAndSwap(old, next) {
			return next
		}
	}
}

// syslogTimeout bounds syslog(): sending a datagram does not wait, but
// looking up the host's name may (and the callback's time bounds it too).
const syslogTimeout = 5 * time.Second

// sendSyslog sends one RFC 5424 message over UDP (RFC 5426); ctx bounds
// the name lookup.
func sendSyslog(ctx context.Context, r *net.Resolver, host string, port, facility, severity int, m syslogMessage) error {
	if host == "" {
		host = "127.0.0.1"
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d out of range (1–65535)", port)
	}
	if facility < 0 || facility > 23 || severity < 0 || severity > 7 {
		return fmt.Errorf("facility %d / severity %d out of range (0–23 / 0–7)", facility, severity)
	}
	hostname, _ := os.Hostname()
	b := formatSyslog(facility*8+severity, time.Now(), hostname, os.Getpid(), nextSequence(), m)
	conn, err := dialer(r).DialContext(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(d)
	}
	_, err = conn.Write(b)
	return err
}

// syslogSDID names flowrt's structured data element. RFC 5424 wants a name
// outside IANA's registry to carry a private enterprise number; flowrt has
// none of its own and uses 32473, which RFC 5612 sets aside for examples,
// rather than borrow another organisation's.
const syslogSDID = "flowrt@32473"

// formatSyslog writes
//
//	<PRI>1 TIMESTAMP HOSTNAME flowrt PROCID - [flowrt@32473 k="v" …][meta sequenceId="n"] k=v …
//
// keeping RFC 5424's rules: TIME-SECFRAC of at most 6 digits (microseconds,
// UTC); HOSTNAME 1–255 printable US-ASCII characters or "-"; PARAM-VALUEs
// with '"', '\' and ']' escaped; the fields again in MSG as key=value pairs
// (values with spaces, quotes, '=', '\' or control characters quoted as Go
// strings), the form that SIEM tools split by themselves and that a syslog
// file shows; MSG with a byte order mark when it is UTF-8 beyond ASCII.
func formatSyslog(pri int, now time.Time, hostname string, pid int, seq uint32, m syslogMessage) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s flowrt %d - ", pri, now.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		headerField(hostname, 255), pid)
	if len(m.fields) > 0 {
		b.WriteString("[" + syslogSDID)
		for _, f := range m.fields {
			b.WriteString(" " + f.name + `="`)
			sdEscaper.WriteString(&b, f.value)
			b.WriteByte('"')
		}
		b.WriteByte(']')
	}
	fmt.Fprintf(&b, `[meta sequenceId="%d"]`, seq)
	text := m.text
	if m.fields != nil {
		text = keyValues(m.fields)
	}
	if text != "" {
		b.WriteByte(' ')
		if !isASCII(text) {
			b.WriteString("\uFEFF") // BOM: RFC 5424's MSG-UTF8
		}
		b.WriteString(text)
	}
	return b.Bytes()
}

var sdEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// headerField is a header field's value, or the NILVALUE "-" when it is
// empty, too long or not printable US-ASCII (RFC 5424 allows no other).
func headerField(v string, max int) string {
	if v == "" || len(v) > max {
		return "-"
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= 32 || v[i] >= 127 {
			return "-"
		}
	}
	return v
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// keyValues writes the fields as key=value pairs, quoting the values that
// would not read back as one value.
func keyValues(fields []syslogField) string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		v := f.value
		if v == "" || strings.IndexFunc(v, func(r rune) bool {
			return r == ' ' || r == '"' || r == '=' || r == '\\' || !unicode.IsPrint(r)
		}) >= 0 {
			v = strconv.Quote(v)
		}
		parts = append(parts, f.name+"="+v)
	}
	return strings.Join(parts, " ")
}
