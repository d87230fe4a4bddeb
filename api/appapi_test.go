package api

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrt/flowrt/engine"
)

// An application's api.yml (written here the way sFlow-RT's apps write
// theirs: paths relative to the app's scripts, numeric response codes,
// their own schemas) is merged into /api-docs under /app/<name>/scripts,
// read at each request; a broken one is reported, not dropped silently.
func TestAppAPIMerged(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exporter/api.yml", `openapi: 3.0.1
info:
  title: Test exporter
  version: 1.0.0
paths:
  /export.js/flows/{agent}/txt:
    get:
      tags:
      - Flows
      summary: Flows in Prometheus format
      parameters:
      - name: agent
        in: path
        required: true
        schema:
          type: string
      responses:
        200:
          description: OK
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Row'
components:
  schemas:
    Row:
      type: object
      properties:
        key:
          type: string
`)
	srv := httptest.NewServer(New(engine.New(engine.Config{}), Config{Version: "test", AppsDir: dir}))
	defer srv.Close()
	doc := func() map[string]any {
		code, body := call(t, srv, "GET", "/api-docs", "")
		if code != 200 {
			t.Fatalf("/api-docs = %d %s", code, body)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := doc()
	paths := d["paths"].(map[string]any)
	op, ok := paths["/app/exporter/scripts/export.js/flows/{agent}/txt"].(map[string]any)["get"].(map[string]any)
	if !ok {
		t.Fatalf("the app's path is not in /api-docs: %v", keys(paths))
	}
	ref := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"]
	if op["summary"] != "Flows in Prometheus format" || op["tags"].([]any)[0] != "exporter" || ref != "#/components/schemas/exporter.Row" {
		t.Errorf("merged operation = %v", op)
	}
	if _, ok := d["components"].(map[string]any)["schemas"].(map[string]any)["exporter.Row"]; !ok {
		t.Error("the app's schema Row is not in components as exporter.Row")
	}
	if _, ok := paths["/flow/{name}/json"]; !ok {
		t.Error("flowrt's own paths are gone")
	}
	// Installed later, and broken: said, not dropped silently.
	write("broken/api.yml", "paths: [not, a, map\n")
	d = doc()
	errs, _ := d["x-flowrt-app-errors"].(map[string]any)
	if msg, _ := errs["broken"].(string); !strings.Contains(msg, "broken/api.yml: not YAML") {
		t.Errorf("x-flowrt-app-errors = %v", d["x-flowrt-app-errors"])
	}
	if _, ok := d["paths"].(map[string]any)["/app/exporter/scripts/export.js/flows/{agent}/txt"]; !ok {
		t.Error("a broken api.yml dropped another app's paths")
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
