package api

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// An sFlow-RT application may ship an OpenAPI document, app/<name>/api.yml,
// describing its scripts' REST endpoints relative to its scripts
// (/export.js/flows/{agent}/txt); sFlow-RT merges them into its explorer.
// flowrt does the same at each GET /api-docs: each app's paths under
// /app/<name>/scripts, tagged with the app's name, its schemas renamed
// <name>.<schema> so that two apps cannot clash. A document that cannot be
// read is not left out silently: the reason is in x-flowrt-app-errors.

// maxAppAPI bounds an app's api.yml (InMon's largest is a few KB).
const maxAppAPI = 1 << 20

// mergeAppAPIs adds the api.yml of each application under dir to doc.
func mergeAppAPIs(doc map[string]any, dir string) {
	if dir == "" {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // no app.dir yet: no apps to document
	}
	paths := doc["paths"].(map[string]map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	problems := map[string]string{}
	var tags []any
	for _, e := range ents {
		file := filepath.Join(dir, e.Name(), "api.yml")
		st, err := os.Stat(file)
		if !e.IsDir() || err != nil {
			continue
		}
		if st.Size() > maxAppAPI {
			problems[e.Name()] = fmt.Sprintf("%s is %d bytes, more than the %d read", file, st.Size(), maxAppAPI)
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			problems[e.Name()] = err.Error()
			continue
		}
		app, err := appAPI(e.Name(), b)
		if err != nil {
			problems[e.Name()] = fmt.Sprintf("%s: %v", file, err)
			continue
		}
		for p, ops := range app.paths {
			if paths[p] == nil {
				paths[p] = map[string]any{}
			}
			for m, op := range ops {
				paths[p][m] = op
			}
		}
		for name, s := range app.schemas {
			schemas[name] = s
		}
		tags = append(tags, map[string]any{"name": e.Name(), "description": app.title})
	}
	if len(tags) > 0 {
		doc["tags"] = tags
	}
	if len(problems) > 0 {
		doc["x-flowrt-app-errors"] = problems
	}
}

type appDoc struct {
	title   string
	paths   map[string]map[string]any
	schemas map[string]any
}

// appAPI reads one app's document and rebases it on /app/<name>/scripts.
func appAPI(name string, b []byte) (*appDoc, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not YAML: %v", err)
	}
	rawPaths, ok := raw["paths"].(map[string]any)
	if !ok || len(rawPaths) == 0 {
		return nil, fmt.Errorf("no paths")
	}
	d := &appDoc{paths: map[string]map[string]any{}, schemas: map[string]any{}}
	if info, ok := raw["info"].(map[string]any); ok {
		d.title, _ = info["title"].(string)
	}
	rename := map[string]string{}
	if comps, ok := raw["components"].(map[string]any); ok {
		if s, ok := comps["schemas"].(map[string]any); ok {
			for k, v := range s {
				rename["#/components/schemas/"+k] = "#/components/schemas/" + name + "." + k
				d.schemas[name+"."+k] = v
			}
		}
	}
	for p, v := range rawPaths {
		ops, ok := v.(map[string]any)
		if !ok || !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("path %q: want /<script>.js/… with its operations", p)
		}
		full := "/app/" + name + "/scripts" + p
		d.paths[full] = map[string]any{}
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op, ok := ops[m].(map[string]any)
			if !ok {
				d.paths[full][m] = ops[m] // path-level parameters, summary …
				continue
			}
			op["tags"] = []any{name}
			if id, ok := op["operationId"].(string); ok {
				op["operationId"] = name + "_" + id
			} else {
				op["operationId"] = m + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(full)
			}
			d.paths[full][m] = op
		}
	}
	for k, v := range d.schemas {
		d.schemas[k] = rewriteRefs(v, rename)
	}
	for p, ops := range d.paths {
		for m, op := range ops {
			d.paths[p][m] = rewriteRefs(op, rename)
		}
	}
	return d, nil
}

// rewriteRefs renames the $refs to the app's own schemas, and gives maps
// with other keys than strings (YAML's responses: 200:) string keys, as
// JSON needs.
func rewriteRefs(v any, rename map[string]string) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return rewriteRefs(m, rename)
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				if to, ok := rename[s]; ok {
					x[k] = to
				}
				continue
			}
			x[k] = rewriteRefs(e, rename)
		}
	case []any:
		for i, e := range x {
			x[i] = rewriteRefs(e, rename)
		}
	}
	return v
}
