package main_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSetMapNumbers: an application builds a map from a registry it
// downloads, with numbers among the values (the way InMon's scitags app
// maps IPv6 flow labels: [label, 'exp.activity']). sFlow-RT takes them;
// flowrt refused the whole map ("cannot unmarshal number") and the script
// did not load. The numbers are kept as their text, and a map: key
// matches them against the key's value.
func TestSetMapNumbers(t *testing.T) {
	registry := serveText(t, `{"experiments":[{"name":"exp one","id":3,"activities":[{"name":"bulk","id":2}]}]}`)
	dir := t.TempDir()
	js := `
var reg = JSON.parse(http(getSystemProperty('maptest.url')));
var tags = {};
reg.experiments.forEach(function(e) {
  e.activities.forEach(function(a) { tags[(e.name + '.' + a.name).replace(/ /g, '_')] = [(e.id << 9) + (a.id << 2), e.id + '.' + a.id]; });
});
setMap('tags', tags);
setMap('protos', {udp: [17], tcp: [6, '6.0']});
setFlow('byproto', {keys: 'map:ipprotocol:protos', value: 'frames', t: 2});
`
	os.MkdirAll(filepath.Join(dir, "maptest", "scripts"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "maptest", "scripts", "tags.js"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, "-Dapp.dir="+dir, "-Dmaptest.url="+registry)
	if code, body := e.do(t, "GET", "/app/maptest/status", ""); code != 200 {
		t.Fatalf("the application did not load: %d %s\n%s", code, body, e.logText())
	}
	var tags, protos map[string][]string
	e.get(t, "/map/tags/json", &tags)
	if got, _ := json.Marshal(tags); string(got) != `{"exp_one.bulk":["1544","3.2"]}` {
		t.Errorf("GET /map/tags/json = %s, want the flow label 1544 as text", got)
	}
	e.get(t, "/map/protos/json", &protos)
	if got, _ := json.Marshal(protos); string(got) != `{"tcp":["6","6.0"],"udp":["17"]}` {
		t.Errorf("GET /map/protos/json = %s", got)
	}
	attack(t, e.sflow, 20, netip.MustParseAddr("192.0.2.7")) // UDP: ipprotocol 17
	var keys []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var top []struct{ Key string }
		e.get(t, "/activeflows/ALL/byproto/json", &top)
		keys = keys[:0]
		for _, f := range top {
			keys = append(keys, f.Key)
		}
		if len(keys) > 0 {
			break
		}
	}
	if strings.Join(keys, ",") != "udp" {
		t.Errorf("flows keyed by map:ipprotocol:protos = %v, want [udp]", keys)
	}
}
