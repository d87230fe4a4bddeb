package api

import (
	"encoding/json"
	"os"
	"testing"
)

// /license/json answers in sFlow-RT's shape, with nothing invented: the
// host is this machine's, and no limit applies.
func TestLicense(t *testing.T) {
	srv := testServer(t, false)
	code, body := call(t, srv, "GET", "/license/json", "")
	if code != 200 {
		t.Fatalf("/license/json = %d %s", code, body)
	}
	var got struct {
		License  map[string]any
		Analyzer map[string]any
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	l := got.License
	if l["type"] != "open-source" || l["license"] != "Apache-2.0" || l["host"] != host || l["host_ok"] != true ||
		l["max_bps_ok"] != true || l["expires_ok"] != true || got.Analyzer["host"] != host {
		t.Errorf("/license/json = %s", body)
	}
	for _, invented := range []string{"max_bps", "expires", "account"} {
		if _, ok := l[invented]; ok {
			t.Errorf("/license/json has %s, a limit flowrt does not have: %s", invented, body)
		}
	}
}
