package api

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowrt/flowrt/metric"
)

// /metric/{agent}/{metric}/html polls the JSON endpoint next to it once a
// second and redraws; it needs nothing but the engine. With the web
// interface (the web package, Config.UI) it opens the Metrics page instead.
// /activeflows/…/html is served from the engine directly (toppage.go).

const indexPage = `<!doctype html><html><head><meta charset="utf-8"><title>flowrt</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}code{background:#eee;padding:0 .3em}</style></head>
<body><h1>flowrt %s</h1>
<p>Real-time sFlow analytics. REST endpoints (sFlow-RT compatible):</p>
<ul>
<li><a href="analyzer/json">/analyzer/json</a> — datagrams, samples, loss, flows tracked</li>
<li><a href="agents/json">/agents/json</a> — agents and their sequence accounting</li>
<li><a href="metrics/json">/metrics/json</a> — metric names</li>
<li><a href="flow/json">/flow/json</a> — flow definitions; <code>PUT /flow/{name}/json</code> to define one</li>
<li><a href="flowkeys/json">/flowkeys/json</a> — flow keys in use</li>
<li><a href="flows/json">/flows/json</a> — completed flows (definitions with log:true)</li>
</ul>
<p>Live views: <code>/activeflows/ALL/{flow}/html</code>, <code>/metric/ALL/{metric}/html</code>.</p>
</body></html>`

var trendPage = template.Must(template.New("trend").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>{{.Title}}</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}#err{color:#a00}svg{border:1px solid #ccc;background:#fff}</style>
</head><body><h2>{{.Title}}</h2><div id="now"></div><div id="err"></div>
<svg id="chart" width="900" height="320"></svg>
<script>
const url = {{.JSON}}, W=900, H=320, span=300*1000, pts=[];
function draw(){
  const svg=document.getElementById('chart'); svg.replaceChildren();
  if(pts.length<1)return;
  const t1=Date.now(), t0=t1-span, vmax=Math.max(...pts.map(p=>p[1]),1e-9)*1.1;
  const x=t=>40+(W-50)*(t-t0)/span, y=v=>H-20-(H-30)*v/vmax;
  const ns='http://www.w3.org/2000/svg', line=document.createElementNS(ns,'polyline');
  line.setAttribute('points',pts.map(p=>x(p[0])+','+y(p[1])).join(' '));
  line.setAttribute('fill','none');line.setAttribute('stroke','#1565c0');line.setAttribute('stroke-width','2');
  svg.appendChild(line);
  [0,0.5,1].forEach(f=>{const t=document.createElementNS(ns,'text');t.setAttribute('x',2);t.setAttribute('y',y(vmax*f/1.1)+4);
    t.textContent=(vmax*f/1.1).toPrecision(3);t.setAttribute('font-size','11');svg.appendChild(t)});
}
async function tick(){
  try{
    const r=await fetch(url); if(!r.ok){document.getElementById('err').textContent=await r.text();return}
    const s=(await r.json())[0]; document.getElementById('err').textContent='';
    const v=typeof s.metricValue==='number'?s.metricValue:0;
    pts.push([Date.now(),v]); while(pts.length&&pts[0][0]<Date.now()-span)pts.shift();
    document.getElementById('now').textContent=s.metricName+' = '+v.toPrecision(4)+' ('+(s.metricN||0)+' values)';
    draw();
  }catch(e){document.getElementById('err').textContent=String(e)}
}
tick(); setInterval(tick,1000);
</script></body></html>`))

type pageData struct {
	Title string
	JSON  string
}

func (a *API) metricPage(w http.ResponseWriter, r *http.Request) {
	if a.cfg.UI != nil {
		agg, name, err := metric.ParseName(strings.Split(r.PathValue("metric"), ",")[0])
		if err != nil {
			a.fail(w, r, badRequest("%v", err))
			return
		}
		v := url.Values{"agent": {r.PathValue("agent")}, "metric": {name}, "agg": {agg}}
		if r.URL.RawQuery != "" {
			v.Set("filter", r.URL.RawQuery) // the data source filter (host_name=*web*…), applied by the page
		}
		http.Redirect(w, r, "/#/metrics?"+v.Encode(), http.StatusFound)
		return
	}
	livePage(w, r, trendPage, "Metric: "+r.PathValue("metric"))
}

// livePage serves a page that polls the JSON endpoint beside it (same
// path, json for html, same query).
func livePage(w http.ResponseWriter, r *http.Request, t *template.Template, title string) {
	q := ""
	if r.URL.RawQuery != "" {
		q = "?" + r.URL.RawQuery
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	t.Execute(w, pageData{Title: title + " at " + r.PathValue("agent"), JSON: "json" + q})
}
