package script

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// http() of a path asks the engine itself (Deps.Self), as ddos-sonify
// reads ddos-protect's trend at '/script/ddos-protect~ddos.js/trend/json';
// without a known address it says so.
func TestHTTPPathAsksTheEngine(t *testing.T) {
	r := newRig(t, 2*time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, `{"path":%q,"after":%q}`, req.URL.Path, req.URL.Query().Get("after"))
	}))
	defer srv.Close()
	r.m.deps.Self = srv.URL
	s := r.load(t, "self.js", `
setHttpHandler(function() {
  var out = [];
  try { out.push(JSON.parse(http('/script/other.js/trend/json?after=5'))); } catch(e) { out.push(String(e)); }
  return out;
});`)
	var got []map[string]string
	if err := json.Unmarshal(call(t, s, "x", nil).Body, &got); err != nil || len(got) != 1 ||
		got[0]["path"] != "/script/other.js/trend/json" || got[0]["after"] != "5" {
		t.Fatalf("http of a path: %+v %v", got, err)
	}
	r.m.deps.Self = ""
	var msg []string
	json.Unmarshal(call(t, s, "x", nil).Body, &msg)
	if len(msg) != 1 || !strings.Contains(msg[0], "is a path, and this engine's own address is not known") {
		t.Errorf("without the engine's address: %q", msg)
	}
}
