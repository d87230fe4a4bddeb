package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/flowrt/flowrt/engine"
	"github.com/flowrt/flowrt/forward"
	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/script"
	"github.com/flowrt/flowrt/tenant"
	"github.com/flowrt/flowrt/threshold"
	"github.com/flowrt/flowrt/topology"
	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPICoversRoutes validates the document with kin-openapi and
// checks it against the routes really registered: every route is
// documented and every documented operation is a route.
func TestOpenAPICoversRoutes(t *testing.T) {
	b, err := json.Marshal(OpenAPI("test"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	e := engine.New(engine.Config{})
	tenants, err := tenant.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tenants.Close()
	scripts := script.NewManager(script.Deps{Engine: e})
	defer scripts.Stop()
	a := New(e, Config{Version: "test", UI: http.NotFoundHandler(), Thresholds: threshold.New(e, 100), Groups: &group.Groups{},
		Maps: &group.Maps{}, Forwarder: forward.New(nil), Tenants: tenants, Topology: &topology.Store{}, Scripts: scripts, AppsDir: t.TempDir()})
	routes := a.Patterns()
	documented := map[string]bool{}
	for _, o := range operations {
		documented[o.routePattern()] = true
		if !slices.Contains(routes, o.routePattern()) {
			t.Errorf("%s %s is documented but not served (%s)", o.method, o.path, o.routePattern())
		}
	}
	for _, r := range routes {
		if r == "GET /ui/" || r == "GET /api" { // the interface's files and a redirect
			continue
		}
		if !documented[r] {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	t.Logf("%d routes, %d documented operations on %d paths", len(routes), len(operations), len(doc.Paths.Map()))
}
