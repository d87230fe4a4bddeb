package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnrestorableKept: flows whose keys need the OUI list and the country
// database are defined, and the engine restarted without either. They are
// reported (log, /analyzer/json) and kept in the state file through the
// saves that follow — they used to be erased by the next save — so that
// restarting with the properties set again brings them back. A definition
// made again under the same name replaces the kept one.
func TestUnrestorableKept(t *testing.T) {
	dir := t.TempDir()
	oui := filepath.Join(t.TempDir(), "oui.txt")
	os.WriteFile(oui, []byte("00-00-0C   (hex)\t\tCisco Systems, Inc\n00-50-56   (hex)\t\tVMware, Inc.\n"), 0o644)
	withDBs := []string{"-Dstate.dir=" + dir, "-Doui.names=" + oui, "-Dgeo.country=" + countryDB(t)}
	without := []string{"-Dstate.dir=" + dir, "-Doui.names="}

	e := startEngine(t, withDBs...)
	for name, body := range map[string]string{
		"vendors":   "{keys:'oui:macsource', value:'frames'}",
		"countries": "{keys:'sourcecountry', value:'bytes'}",
		"plain":     "{keys:'ipsource', value:'bytes'}",
	} {
		if code, msg := e.do(t, "PUT", "/flow/"+name+"/json", body); code != 204 {
			t.Fatalf("PUT %s: %d %s", name, code, msg)
		}
	}
	e.stop()

	e = startEngine(t, without...)
	for _, name := range []string{"vendors", "countries"} {
		if code, _ := e.do(t, "GET", "/flow/"+name+"/json", ""); code != 404 {
			t.Errorf("%s defined without its database: %d", name, code)
		}
	}
	s := e.saving(t)
	got := map[string]string{}
	for _, n := range s.State.NotRestored {
		got[n.Kind+"/"+n.Name] = n.Error
	}
	if len(got) != 2 || !strings.Contains(got["flows/vendors"], "-Doui.names") || !strings.Contains(got["flows/countries"], "-Dgeo.country") {
		t.Errorf("/analyzer/json state.notRestored: %+v", s.State.NotRestored)
	}
	// Saves: a new flow (the first save after start rewrites the snapshot),
	// then countries defined again with another key and deleted.
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/flow/other/json", "{keys:'ipdestination', value:'bytes'}"},
		{"PUT", "/flow/countries/json", "{keys:'ipprotocol', value:'bytes'}"},
		{"DELETE", "/flow/countries/json", ""},
		{"PUT", "/flow/more/json", "{keys:'ipprotocol', value:'frames'}"},
	} {
		if code, msg := e.do(t, c.method, c.path, c.body); code != 204 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, code, msg)
		}
	}
	if s := e.saving(t); len(s.State.NotRestored) != 1 || s.State.NotRestored[0].Name != "vendors" {
		t.Errorf("after countries was defined again, not restored: %+v", s.State.NotRestored)
	}
	e.kill()
	log := e.log.String()
	if !strings.Contains(log, "flow not restored; it stays in the state file") || !strings.Contains(log, "name=vendors") {
		t.Errorf("the unrestorable flows are not logged:\n%s", log)
	}

	e = startEngine(t, withDBs...)
	var spec struct{ Keys string }
	e.get(t, "/flow/vendors/json", &spec)
	if spec.Keys != "oui:macsource" {
		t.Errorf("vendors came back as %+v", spec)
	}
	for name, want := range map[string]int{"countries": 404, "plain": 200, "other": 200, "more": 200} {
		if code, _ := e.do(t, "GET", "/flow/"+name+"/json", ""); code != want {
			t.Errorf("GET %s after the restart: %d, want %d", name, code, want)
		}
	}
	if s := e.saving(t); len(s.State.NotRestored) != 0 {
		t.Errorf("not restored with the databases back: %+v", s.State.NotRestored)
	}
}
