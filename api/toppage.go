package api

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flowrt/flowrt/flow"
)

// /activeflows/{agent}/{name}/html is sFlow-RT's live top-N table ("a bit
// like the Linux top command", as the ICMP and DNS articles print it): the
// same query as the JSON endpoint beside it (readActiveQuery), answered by
// the server as a plain HTML table whose cells hold the JSON's numbers, so
// curl reads it as well as a browser, which reloads it every few seconds.

// topRefresh is how often the browser reloads the table.
const topRefresh = 2 * time.Second

var topPage = template.Must(template.New("top").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>{{.Name}} at {{.Agent}}: top flows</title>
{{if .UI}}<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/ui/static/style.css">{{else}}<style>
body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}
th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
</style>{{end}}
</head><body>
{{if .UI}}<script src="/ui/static/nav.js"></script>{{end}}
<main>
<h2>Top flows: {{.Name}} at {{.Agent}}</h2>
<p class="muted" id="query">keys <code>{{.Keys}}</code>, value <code>{{.Value}}</code>{{if .Filter}}, definition filter <code>{{.Filter}}</code>{{end}} ·
aggMode {{.AggMode}} · maxFlows {{.MaxFlows}} · minValue {{.MinValue}}{{if .KeyFilter}} · key filter <code>{{.KeyFilter}}</code>{{end}} ·
{{len .Rows}} flows at <time datetime="{{.AtISO}}">{{.At}}</time>, reloaded every {{.Refresh}} s ·
<a href="{{.JSON}}">JSON</a>{{if .UI}} · <a href="{{.Trend}}">trend</a>{{end}}</p>
<table id="activeflows">
<thead><tr><th>#</th>{{range .KeyNames}}<th>{{.}}</th>{{end}}<th>{{.Unit}}</th>{{range .ValueNames}}<th>{{.}}</th>{{end}}<th>agent</th><th>data source</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="num">{{.Rank}}</td>{{range .Keys}}<td>{{.}}</td>{{end}}<td class="num">{{.Value}}</td>{{range .Values}}<td class="num">{{.}}</td>{{end}}<td>{{.Agent}}</td><td>{{.DataSource}}</td></tr>
{{end}}</tbody></table>
{{if not .Rows}}<p class="muted" id="no-flows">No active flows match: the definition has seen no traffic in the last few seconds, or minValue and the key filter leave none.</p>{{end}}
</main></body></html>
`))

type topRow struct {
	Rank              int
	Keys              []string
	Value             string
	Values            []string
	Agent, DataSource string
}

type topData struct {
	Name, Agent, Keys, Value, Filter string
	AggMode, KeyFilter, Unit         string
	MaxFlows                         int
	MinValue                         string
	At, AtISO                        string
	Refresh                          int
	JSON, Trend                      string
	UI                               bool
	KeyNames, ValueNames             []string
	Rows                             []topRow
}

func (a *API) activeFlowsPage(w http.ResponseWriter, r *http.Request) {
	q, err := a.readActiveQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	flows, err := a.runActiveQuery(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	spec, _ := a.e.Definition(q.name)
	now := a.cfg.Now()
	d := topData{
		Name: q.name, Agent: r.PathValue("agent"), Keys: strings.Join(spec.Keys, ","), Value: spec.Value, Filter: spec.Filter,
		AggMode: q.aggMode, KeyFilter: q.filter, Unit: rateUnit(spec.Value), MaxFlows: q.maxFlows, MinValue: jsonNumber(q.minValue),
		At: now.Format("15:04:05"), AtISO: now.Format(time.RFC3339), Refresh: int(topRefresh / time.Second),
		JSON: "json", UI: a.cfg.UI != nil, KeyNames: keyColumns(spec),
	}
	if d.AggMode == "" {
		d.AggMode = "max"
	}
	if r.URL.RawQuery != "" {
		d.JSON += "?" + r.URL.RawQuery
	}
	d.Trend = "/#/flows?" + trendQuery(q)
	for _, v := range spec.Values {
		d.ValueNames = append(d.ValueNames, rateUnit(v))
	}
	for i, f := range flows {
		row := topRow{Rank: i + 1, Keys: keyCells(spec, f.Key, len(d.KeyNames)), Value: jsonNumber(f.Value), Agent: f.Agent, DataSource: f.DataSource}
		for _, v := range f.Values {
			row.Values = append(row.Values, jsonNumber(v))
		}
		d.Rows = append(d.Rows, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := topPage.Execute(w, d); err != nil {
		a.cfg.Logger.Error("top flows page not written", "flow", q.name, "err", err)
	}
}

// jsonNumber writes v as the JSON endpoint does, so that the cells and the
// JSON hold the same text.
func jsonNumber(v float64) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "NaN"
	}
	return string(b)
}

// rateUnit labels a flow value: flow values are rates, per second.
func rateUnit(value string) string { return value + "/s" }

// keyColumns are the key's columns: one per key of the definition (none
// for a definition without keys).
func keyColumns(spec flow.Spec) []string { return append([]string{}, spec.Keys...) }

// keyCells splits a key into its fields (joined with the definition's fs);
// a key whose fields hold the separator themselves stays whole in the
// first column rather than spilling into the wrong ones.
func keyCells(spec flow.Spec, key string, n int) []string {
	if n == 0 {
		return nil
	}
	parts := strings.Split(key, spec.FS)
	if len(parts) == n {
		return parts
	}
	out := make([]string, n)
	out[0] = key
	return out
}

// trendQuery opens the same flow, top and aggregation in the web
// interface's Flow Trend.
func trendQuery(q activeQuery) string {
	v := url.Values{"name": {q.name}, "maxFlows": {strconv.Itoa(q.maxFlows)}}
	if q.aggMode != "" {
		v.Set("aggMode", q.aggMode)
	}
	return v.Encode()
}
