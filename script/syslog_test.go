package script

import (
	"strings"
	"testing"
	"time"
)

// TestFormatSyslog: the bytes RFC 5424 asks for, field by field.
func TestFormatSyslog(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		what, host string
		m          syslogMessage
		want       string
	}{
		{"fields: escaped in SD, quoted in MSG, microseconds in UTC", "sflow-1",
			syslogMessage{fields: []syslogField{{"type", "scan"}, {"note", `a "b" \c ]d`}, {"n", "5"}}},
			`<133>1 2026-03-04T04:06:07.123456Z sflow-1 flowrt 42 - [flowrt@32473 type="scan" note="a \"b\" \\c \]d" n="5"][meta sequenceId="7"] ` +
				`type=scan note="a \"b\" \\c ]d" n=5`},
		{"UTF-8 beyond ASCII: MSG starts with the BOM", "h",
			syslogMessage{fields: []syslogField{{"city", "Zürich"}}},
			"<133>1 2026-03-04T04:06:07.123456Z h flowrt 42 - [flowrt@32473 city=\"Zürich\"][meta sequenceId=\"7\"] \uFEFFcity=Zürich"},
		{"a text, a hostname RFC 5424 cannot carry", "bad host",
			syslogMessage{text: "link down"},
			`<133>1 2026-03-04T04:06:07.123456Z - flowrt 42 - [meta sequenceId="7"] link down`},
		{"an empty object: no MSG, a hostname too long", strings.Repeat("h", 256),
			syslogMessage{fields: []syslogField{}},
			`<133>1 2026-03-04T04:06:07.123456Z - flowrt 42 - [meta sequenceId="7"]`},
		{"a control character in MSG is quoted, the SD keeps it", "h",
			syslogMessage{fields: []syslogField{{"l", "a\nb"}, {"e", ""}}},
			"<133>1 2026-03-04T04:06:07.123456Z h flowrt 42 - [flowrt@32473 l=\"a\nb\" e=\"\"][meta sequenceId=\"7\"] l=\"a\\nb\" e=\"\""},
	} {
		if got := string(formatSyslog(133, at, c.host, 42, 7, c.m)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, got, c.want)
		}
	}
}

// TestSyslogRefusals: what RFC 5424 cannot carry is refused with the rule,
// not renamed or dropped.
func TestSyslogRefusals(t *testing.T) {
	r := newRig(t, 2*time.Second)
	s := r.load(t, "refuse.js", `
setHttpHandler(function(req) {
  try {
    switch (req.path[0]) {
    case 'space': syslog('127.0.0.1', 9, null, null, {'two words': 1}); break;
    case 'long': syslog('127.0.0.1', 9, null, null, {abcdefghijklmnopqrstuvwxyz0123456: 1}); break;
    case 'none': syslog('127.0.0.1', 9, null, null); break;
    case 'facility': syslog('127.0.0.1', 9, 24, 5, 'x'); break;
    case 'port': syslog('127.0.0.1', 70000, null, null, 'x'); break;
    case 'max32': syslog('127.0.0.1', 9, null, null, {abcdefghijklmnopqrstuvwxyz012345: 1}); break;
    }
    return 'sent';
  } catch (e) { return '' + e; }
});`)
	for path, want := range map[string]string{
		"space":    `field name "two words" cannot be sent: RFC 5424 names are 1 to 32 printable ASCII characters`,
		"long":     `field name "abcdefghijklmnopqrstuvwxyz0123456" cannot be sent`,
		"none":     "syslog: no message: give an object of fields or a string",
		"facility": "facility 24 / severity 5 out of range (0–23 / 0–7)",
		"port":     "port 70000 out of range (1–65535)",
	} {
		if got := string(call(t, s, path, nil).Body); !strings.Contains(got, want) {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if got := string(call(t, s, "max32", nil).Body); got != "sent" {
		t.Errorf("a 32-character name: %s", got)
	}
}
