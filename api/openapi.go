package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/flowrt/flowrt/metric"
)

// The OpenAPI 3 document at /api-docs describes every endpoint the API
// serves; TestOpenAPICoversRoutes keeps it and the routes in step.

// op documents one operation. pattern is the route it documents when the
// OpenAPI path cannot spell it (wildcards).
type op struct {
	method, path, pattern string
	tag, summary          string
	query                 []param
	body                  string // request schema name
	resp                  string // response schema name, or a content type for non-JSON answers
}

type param struct {
	name, desc, typ string
	required        bool
}

var (
	qMaxFlows = param{"maxFlows", "largest flows to return (default 100)", "integer", false}
	qMinValue = param{"minValue", "leave out flows below this value", "number", false}
	qAggMode  = param{"aggMode", "how one flow seen at several data sources is merged: max (default), sum, avg, edge, core, in any case", "string", false}
	qFilter   = param{"filter", "more query parameters name=value keep the data sources whose metric name matches value (patterns allowed; repeated names are alternatives)", "object", false}
	qKey      = param{"key", "the flow key, its fields joined as the definition's fs (e.g. 10.0.0.1,10.0.0.2)", "string", true}
	qTimeout  = param{"timeout", "seconds to wait for something newer than the given ID (long poll)", "integer", false}
	qKeyMatch = param{"filter", "keep only the flows whose key matches this pattern, * standing for any characters (e.g. 10.0.0.*,*)", "string", false}
	qLease    = param{"lease", "seconds the definition lives unless PUT again: the same definition PUT again renews the lease and keeps its flows, a different one replaces it; once the lease lapses the definition is removed (the web pages' own ui_… flows are leased); leased definitions are not saved in state.dir. Without lease a definition stays until deleted", "number", false}
)

// paging parameters of the bounded listings (paging.go): the answer's
// X-Total-Count header has the listing's size, and its Link rel="next"
// header the next page.
var (
	qOffset    = param{"offset", "entries to skip (paging: the Link header of an answer cut short gives the next page's offset)", "integer", false}
	qMaxAgents = param{"maxAgents", "agents to return at most, in address order (default 10000)", "integer", false}
	qMaxPoints = param{"maxPoints", "points to return at most, in agent, data source and name order (default 100000)", "integer", false}
	qMaxRows   = param{"maxRows", "rows to return at most, after sort: (default 100000)", "integer", false}
)

// active are the query parameters of /activeflows, JSON and html alike.
var active = []param{qMaxFlows, qMinValue, qAggMode, qKeyMatch}

var operations = []op{
	{method: "get", path: "/version", tag: "engine", summary: "flowrt's version", resp: "String"},
	{method: "get", path: "/status", tag: "engine", summary: "OK, or 503 with a line UNAVAILABLE: script <id>: <why> for each script that did not load", resp: "text/plain"},
	{method: "get", path: "/analyzer/json", tag: "engine", summary: "datagrams, samples, losses, flows tracked, memory", resp: "Object"},
	{method: "get", path: "/agents/json", tag: "engine", summary: "agents with sequence accounting and data source counts",
		query: []param{{"agent", "agents to include (repeatable); default all", "string", false}, qMaxAgents, qOffset}, resp: "Object"},
	{method: "get", path: "/metrics/json", tag: "metrics", summary: "metric names → ms since last updated", resp: "Object"},
	{method: "get", path: "/metric/{agent}/json", tag: "metrics", summary: "every metric of one agent: \"<dataSource>.<metric>\" → value", query: []param{qMaxPoints, qOffset}, resp: "Object"},
	{method: "get", path: "/metric/{agent}/{metric}/json", tag: "metrics", summary: "one statistic per metric (aggregation prefixes " + aggregationPrefixes() + ")", query: []param{qFilter}, resp: "Statistics"},
	{method: "get", path: "/metric/{agent}/{metric}/html", tag: "metrics", summary: "live trend of a metric (the web interface's Metrics page)", resp: "text/html"},
	{method: "get", path: "/table/{agent}/{metric}/json", tag: "metrics", summary: "a row per data source with every column (null: optional, sort:…:N orders and keeps N)", query: []param{qFilter, qMaxRows, qOffset}, resp: "Array"},
	{method: "get", path: "/dump/{agent}/{metric}/json", tag: "metrics", summary: "every named metric (or ALL) at every data source", query: []param{qFilter, qMaxPoints, qOffset}, resp: "Array"},
	{method: "get", path: "/prometheus/metrics/{agent}/{metric}/txt", tag: "prometheus", summary: "metrics in the Prometheus text format: sflow_<metric>{agent,datasource,host}", query: []param{qFilter}, resp: "text/plain"},
	{method: "get", path: "/prometheus/analyzer/txt", tag: "prometheus", summary: "/analyzer/json's numbers as sflow_analyzer_<name>", resp: "text/plain"},
	{method: "get", path: "/metrics", tag: "prometheus", summary: "flowrt's own health for Prometheus: datagrams, samples, losses, decode errors, flows, scripts, Go runtime", resp: "text/plain"},
	{method: "get", path: "/flowkeys/json", tag: "flows", summary: "flow keys seen in traffic → ms since", resp: "Object"},
	{method: "get", path: "/flow/json", tag: "flows", summary: "flow definitions", resp: "Object"},
	{method: "get", path: "/flow/{name}/json", tag: "flows", summary: "one flow definition", resp: "Flow"},
	{method: "put", path: "/flow/{name}/json", tag: "flows", summary: "define a flow", query: []param{qLease}, body: "Flow"},
	{method: "post", path: "/flow/{name}/json", tag: "flows", summary: "define a flow (as PUT)", query: []param{qLease}, body: "Flow"},
	{method: "delete", path: "/flow/{name}/json", tag: "flows", summary: "remove a flow definition"},
	{method: "get", path: "/activeflows/{agent}/{name}/json", tag: "flows", summary: "the largest flows now, largest first", query: active, resp: "ActiveFlows"},
	{method: "get", path: "/activeflows/{agent}/{name}/html", tag: "flows", summary: "the same query as an HTML table (numbers as in the JSON), reloaded every 2 s: sFlow-RT's live top flows", query: active, resp: "text/html"},
	{method: "get", path: "/flowvalue/{agent}/{name}/json", tag: "flows", summary: "one flow's value at one data source; name is <dataSource>.<flow>", query: []param{qKey}, resp: "Number"},
	{method: "get", path: "/flowlocations/{agent}/{name}/json", tag: "flows", summary: "where a flow is seen: agent, data source, value", query: []param{qKey}, resp: "Array"},
	{method: "get", path: "/flows/json", tag: "flows", summary: "completed flows of definitions with log:true",
		query: []param{qMaxFlows, {"flowID", "return flows after this ID", "integer", false}, qTimeout, {"name", "only this definition", "string", false}}, resp: "Array"},
	{method: "get", path: "/threshold/json", tag: "thresholds", summary: "thresholds", resp: "Object"},
	{method: "get", path: "/threshold/{name}/json", tag: "thresholds", summary: "one threshold", resp: "Threshold"},
	{method: "put", path: "/threshold/{name}/json", tag: "thresholds", summary: "set a threshold", body: "Threshold"},
	{method: "post", path: "/threshold/{name}/json", tag: "thresholds", summary: "set a threshold (as PUT)", body: "Threshold"},
	{method: "delete", path: "/threshold/{name}/json", tag: "thresholds", summary: "remove a threshold"},
	{method: "get", path: "/events/json", tag: "thresholds", summary: "threshold events, newest first",
		query: []param{{"maxEvents", "events to return", "integer", false}, {"eventID", "return events after this ID", "integer", false}, qTimeout}, resp: "Array"},
	{method: "get", path: "/group/json", tag: "groups", summary: "the default address groups (sourcegroup, destinationgroup)", resp: "Groups"},
	{method: "put", path: "/group/json", tag: "groups", summary: "replace the default address groups", body: "Groups"},
	{method: "delete", path: "/group/json", tag: "groups", summary: "remove the default address groups"},
	{method: "get", path: "/groups/json", tag: "groups", summary: "group sets and their sizes", resp: "Object"},
	{method: "get", path: "/group/{name}/json", tag: "groups", summary: "a named group set (group:<key>:<name>)", resp: "Groups"},
	{method: "put", path: "/group/{name}/json", tag: "groups", summary: "replace a named group set", body: "Groups"},
	{method: "delete", path: "/group/{name}/json", tag: "groups", summary: "remove a named group set"},
	{method: "get", path: "/map/json", tag: "groups", summary: "value maps", resp: "Object"},
	{method: "get", path: "/map/{name}/json", tag: "groups", summary: "one value map (map:<key>:<name>)", resp: "Groups"},
	{method: "put", path: "/map/{name}/json", tag: "groups", summary: "replace a value map", body: "Groups"},
	{method: "delete", path: "/map/{name}/json", tag: "groups", summary: "remove a value map"},
	{method: "get", path: "/forwarding/json", tag: "forwarding", summary: "forwarding sessions with counters", resp: "Object"},
	{method: "get", path: "/forwarding/{name}/json", tag: "forwarding", summary: "one forwarding session", resp: "Forwarding"},
	{method: "put", path: "/forwarding/{name}/json", tag: "forwarding", summary: "forward copies of the datagrams (of some agents) to an address", body: "Forwarding"},
	{method: "post", path: "/forwarding/{name}/json", tag: "forwarding", summary: "as PUT", body: "Forwarding"},
	{method: "delete", path: "/forwarding/{name}/json", tag: "forwarding", summary: "stop a forwarding session"},
	{method: "get", path: "/tenant/json", tag: "forwarding", summary: "tenants with samples and datagrams forwarded, dropped and filtered", resp: "Object"},
	{method: "get", path: "/tenant/{name}/json", tag: "forwarding", summary: "one tenant", resp: "Tenant"},
	{method: "put", path: "/tenant/{name}/json", tag: "forwarding", summary: "stream a tenant its own samples (by interface, name, CIDR or MAC) as sFlow", body: "Tenant"},
	{method: "post", path: "/tenant/{name}/json", tag: "forwarding", summary: "as PUT", body: "Tenant"},
	{method: "delete", path: "/tenant/{name}/json", tag: "forwarding", summary: "stop a tenant's stream"},
	{method: "get", path: "/topology/json", tag: "topology", summary: "the topology", resp: "Topology"},
	{method: "put", path: "/topology/json", tag: "topology", summary: "set the topology (nodes, ports with ifindex, links)", body: "Topology"},
	{method: "post", path: "/topology/json", tag: "topology", summary: "as PUT", body: "Topology"},
	{method: "get", path: "/scripts/json", tag: "scripts", summary: "scripts with state, errors and counters", resp: "Object"},
	{method: "get", path: "/apps/json", tag: "scripts", summary: "applications under app.dir", resp: "Object"},
	{method: "get", path: "/app/{app}/status", tag: "scripts", summary: "OK when every script of the application loaded and runs; 503 with the reasons otherwise", resp: "text/plain"},
	{method: "get", path: "/app/{app}/html/", pattern: "GET /app/{app}/html/{file...}", tag: "scripts", summary: "the application's pages (app/<name>/html/)", resp: "text/html"},
	{method: "get", path: "/script/{script}/json", pattern: "/script/{rest...}", tag: "scripts",
		summary: "the script's HTTP handler (setHttpHandler); query values arrive as arrays, longer paths /script/<file>.js/<path…>/json too",
		query:   []param{{"action", "an example parameter the seed scripts read (request.query.action)", "string", false}}, resp: "Object"},
	{method: "post", path: "/script/{script}/json", pattern: "/script/{rest...}", tag: "scripts", summary: "the script's HTTP handler, with a body", body: "Object", resp: "Object"},
	{method: "get", path: "/app/{app}/scripts/{script}/json", pattern: "/app/{app}/scripts/{rest...}", tag: "scripts",
		summary: "an application script's HTTP handler (longer paths …/<file>.js/<path…>/json too)", resp: "Object"},
	{method: "get", path: "/", pattern: "GET /{$}", tag: "web", summary: "the web interface", resp: "text/html"},
	{method: "get", path: "/api/", pattern: "GET /api/{$}", tag: "web", summary: "this API explorer", resp: "text/html"},
	{method: "get", path: "/api-docs", tag: "web", summary: "this OpenAPI document", resp: "Object"},
	{method: "get", path: "/favicon.ico", tag: "web", summary: "flowrt's icon (SVG)", resp: "image/svg+xml"},
	{method: "get", path: "/inc/{file}", pattern: "GET /inc/", tag: "web", summary: "sFlow-RT's shared page assets that application pages load as ../../../inc/<file>: jquery.min.js, bootstrap.min.js/.css, popper.min.js, jquery-ui/, DataTables/ (from npm) and flowrt's own jquery.widget.js, jquery.stripchart.js, stripchart.js, jquery.gauge.js with their CSS", resp: "text/javascript"},
	{method: "get", path: "/html/{page}", pattern: "GET /html/{page...}", tag: "web", summary: "sFlow-RT's distribution UI paths (index.html, api.html): redirected to flowrt's interface", resp: "text/html"},
	{method: "get", path: "/api/index.html", tag: "web", summary: "sFlow-RT's API explorer page: redirected to /api/", resp: "text/html"},
	{method: "get", path: "/license/json", tag: "engine", summary: "licence, in sFlow-RT's shape: flowrt is open source (Apache-2.0), so no limit applies and every *_ok is true", resp: "Object"},
}

// aggregationPrefixes lists the aggregations /metric accepts, from the
// list the engine checks them against.
func aggregationPrefixes() string {
	return strings.Join(metric.Aggregations, ": ") + ":"
}

// documented reports which routes the table covers, by their mux pattern.
func (o op) routePattern() string {
	if o.pattern != "" {
		return o.pattern
	}
	return strings.ToUpper(o.method) + " " + o.path
}

var pathParams = map[string]string{
	"agent":  "agent address, ; separated list, ALL, TOPOLOGY, EDGE or CORE",
	"metric": "comma-separated metric names, each with an optional aggregation prefix (sum:load_one); ALL for every metric",
	"name":   "the definition's name",
	"app":    "application name (app/<name>/)",
	"script": "script file name, e.g. ddos.js",
	"file":   "asset path under /inc/, e.g. jquery.min.js or jquery-ui/jquery-ui.min.js",
	"page":   "page of sFlow-RT's distribution UI, e.g. index.html",
}

var schemas = map[string]any{
	"Object": map[string]any{"type": "object"},
	"Array":  map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
	"String": map[string]any{"type": "string"},
	"Number": map[string]any{"type": "number"},
	"Groups": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, "example": map[string]any{"external": []string{"0.0.0.0/0"}, "internal": []string{"10.0.0.0/8"}}},
	"Flow": obj(map[string]any{
		"keys": str("flow keys and key functions, comma separated (or an array)"), "value": str("bytes, frames, bps (bits: bytes × 8), fps (frames) or another numeric key"),
		"values": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, "filter": str("filter expression, e.g. ipprotocol=6&tcpdestinationport=80"),
		"n":   num("largest flows kept per data source: 1–20, default 5 (above 20 stored as 20, said in a 200 answer)"),
		"t":   num("smoothing time constant, seconds: more than 0, default 2 (stored within 0.1–600, said in a 200 answer)"),
		"fs":  str("key separator (default ,; not empty)"),
		"log": boolean("log completed flows (/flows/json, setFlowHandler)"), "flowStart": boolean("log at flow start"),
		"activeTimeout": num("seconds between log records of a long flow: 1 to a year, default 60"), "dropped": boolean("analyse dropped-packet samples"),
	}, map[string]any{"keys": "ipsource,ipdestination", "value": "bytes"}, "value"),
	"Threshold": obj(map[string]any{
		"metric": str("metric or flow name"), "value": num("level: an event when the metric exceeds it"),
		"byFlow": boolean("one event per flow"), "timeout": num("whole seconds at or below the level before it re-arms: 0 to a year, default 60"),
		"filter": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
	}, map[string]any{"metric": "ddos", "value": 1000, "byFlow": true, "timeout": 5}, "metric", "value"),
	"Forwarding": obj(map[string]any{
		"address": str("destination IP address (not this engine's own sFlow socket: refused)"), "port": num("destination UDP port, 1–65535 (default 6343)"),
		"agents": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "only these agents' datagrams (default all)"},
	}, map[string]any{"address": "10.0.0.99", "port": 6343}, "address"),
	"Tenant": obj(map[string]any{
		"collectorAddress": str("the tenant's collector (not this engine's own sFlow socket: refused)"),
		"collectorPort":    num("its UDP port, 1–65535 (default 6343)"),
		"filters": obj(map[string]any{
			"ifindex": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "<agent>_<ifIndex>: the interface's samples and counters"},
			"ifname":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "<agent>_<ifName>, by the port names agents report"},
			"cidr":    map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "prefixes holding a sampled packet's source or destination; <prefix>@<level> for a tunnel level (1: inside the first tunnel)"},
			"mac":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "a sampled frame's source or destination MAC, 12 hex digits"},
		}, nil),
	}, map[string]any{"collectorAddress": "10.0.0.99", "collectorPort": 6343, "filters": map[string]any{"cidr": []string{"10.1.0.0/16"}}}, "collectorAddress", "filters"),
	"Topology": obj(map[string]any{
		"nodes": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object"}},
		"links": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object"}},
	}, map[string]any{"nodes": map[string]any{"s1": map[string]any{"agent": "10.0.0.1", "ports": map[string]any{"s1-eth1": map[string]any{"ifindex": "1"}}}}, "links": map[string]any{}}, "nodes"),
	"ActiveFlows": map[string]any{"type": "array", "items": obj(map[string]any{
		"key": str("flow key"), "value": num("smoothed rate"), "agent": str("agent of the (max) value"), "dataSource": str("data source of the (max) value"),
	}, nil)},
	"Statistics": map[string]any{"type": "array", "items": obj(map[string]any{
		"metricName": str(""), "metricValue": map[string]any{"description": "number or string"}, "metricN": num("values summarised"),
		"agent": str(""), "dataSource": str(""), "lastUpdate": num("ms since updated"),
	}, nil)},
}

func obj(props map[string]any, example any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if example != nil {
		o["example"] = example
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func str(d string) map[string]any     { return map[string]any{"type": "string", "description": d} }
func num(d string) map[string]any     { return map[string]any{"type": "number", "description": d} }
func boolean(d string) map[string]any { return map[string]any{"type": "boolean", "description": d} }

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// OpenAPI returns the document.
func OpenAPI(version string) map[string]any {
	paths := map[string]map[string]any{}
	for _, o := range operations {
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"description": pathParams[m[1]], "schema": map[string]any{"type": "string"}})
		}
		for _, q := range o.query {
			p := map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": map[string]any{"type": q.typ}}
			if q.required {
				p["required"] = true
			}
			if q.typ == "object" {
				p["style"], p["explode"] = "form", true
				p["schema"] = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
			}
			params = append(params, p)
		}
		operation := map[string]any{"tags": []string{o.tag}, "summary": o.summary,
			"operationId": o.method + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(o.path)}
		if params != nil {
			operation["parameters"] = params
		}
		if o.body != "" {
			operation["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": ref(o.body)}}}
		}
		responses := map[string]any{"4XX": map[string]any{"description": "refused, with a one-line reason (409: a limit such as flow.definitions.max is reached, named with its property)",
			"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}}
		switch {
		case o.resp == "":
			responses["204"] = map[string]any{"description": "done, and saved in state.dir"}
			responses["5XX"] = map[string]any{"description": "applied but not saved in state.dir (507: the disk is full), with a one-line reason",
				"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
		case strings.Contains(o.resp, "/"):
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{o.resp: map[string]any{"schema": map[string]any{"type": "string"}}}}
		default:
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref(o.resp)}}}
		}
		operation["responses"] = responses
		if paths[o.path] == nil {
			paths[o.path] = map[string]any{}
		}
		paths[o.path][o.method] = operation
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "flowrt REST API", "version": version,
			"description": "Real-time sFlow analytics. The paths and JSON shapes are sFlow-RT's, so its clients and articles work unchanged; bodies may be JSON or the JavaScript object form the articles print."},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// openAPI answers the document, with the api.yml of each installed
// application merged in (appapi.go), read at each request so that an app
// installed since start-up is there.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	doc := OpenAPI(a.cfg.Version)
	mergeAppAPIs(doc, a.cfg.AppsDir)
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		a.fail(w, r, fmt.Errorf("the OpenAPI document with the applications' api.yml: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
