// flowrt's web interface: one page per view, each drawing what the REST API
// answers. Views poll their endpoints and stop when left; charts use uPlot
// when the build embedded it and every view also has a table, so the pages
// read well without it.
'use strict';

const main = document.getElementById('main');
const charts = typeof window.uPlot === 'function';

// ---- helpers -------------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

async function request(url, opts) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`${(opts && opts.method) || 'GET'} ${url}: ${r.status} ${(await r.text()).trim()}`);
  return r.status === 204 ? null : r.json();
}

// The pages' own flow definitions (ui_…): defined while a page shows them,
// deleted when it goes, also as the tab closes (keepalive).
function defineFlow(name, spec) {
  return request('/flow/' + encodeURIComponent(name) + '/json', {method: 'PUT', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(spec)});
}
function deleteFlow(name) {
  fetch('/flow/' + encodeURIComponent(name) + '/json', {method: 'DELETE', keepalive: true});
}

function showError(msg) { document.getElementById('error').textContent = msg || ''; }

// every runs fn now and then every ms until stopped; runs never overlap.
function every(ms, fn) {
  let stopped = false, timer;
  const tick = async () => {
    if (stopped) return;
    try { await fn(); showError(''); } catch (e) { showError(e.message); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function si(v) {
  if (typeof v !== 'number' || !isFinite(v)) return v === undefined || v === null ? '' : String(v);
  const a = Math.abs(v);
  for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) if (a >= d) return (v / d).toPrecision(3) + s;
  return a >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(3);
}

function age(ms) {
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return (s / 60).toFixed(0) + ' min';
  if (s < 86400) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}

function color(i) {
  const base = ['#1565c0', '#e65100', '#2e7d32', '#c62828', '#6a1b9a', '#00838f', '#f9a825', '#4e342e', '#ad1457',
    '#283593', '#558b2f', '#00695c', '#ef6c00', '#5d4037', '#0277bd', '#9e9d24', '#d84315', '#4527a0', '#37474f', '#8e24aa'];
  return i < base.length ? base[i] : `hsl(${(i * 137.508) % 360},60%,45%)`;
}

// table builds a table: cols are {t: title, f: row → cell, num: bool}.
function table(cols, rows, attrs) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, cols.map(c => el('th', {}, c.t)))),
    el('tbody', {}, rows.map(r => el('tr', {}, cols.map(c => {
      const v = c.f(r);
      return el('td', {class: c.num ? 'num' : c.cls}, v instanceof Node ? v : v === undefined ? '' : String(v));
    })))));
}

function card(k, v, bad) { return el('div', {class: 'card' + (bad ? ' bad' : '')}, el('div', {class: 'k'}, k), el('div', {class: 'v'}, v)); }

// completion offers the keys of /flowkeys/json after the last separator of
// a comma (keys) or &/| (filter) list, through a native datalist.
function completion(input, id, sep, words) {
  const list = el('datalist', {id});
  const fill = () => {
    const v = input.value, i = Math.max(...sep.map(s => v.lastIndexOf(s)));
    const head = v.slice(0, i + 1), tail = v.slice(i + 1).toLowerCase();
    list.replaceChildren(...words().filter(w => w.startsWith(tail)).slice(0, 200).map(w => el('option', {value: head + w})));
  };
  input.setAttribute('list', id);
  input.addEventListener('input', fill);
  input.addEventListener('focus', fill);
  return list;
}

// ---- trend chart -----------------------------------------------------------

// Trend keeps a time window of values per series and draws them, stacked
// or not, with uPlot; the set of series may change from one point to the
// next. Without uPlot it draws nothing and says so.
class Trend {
  constructor(parent, {stacked = false, windowMs = 300000, height = 420, unit = '', max = 1000} = {}) {
    this.stacked = stacked; this.windowMs = windowMs; this.height = height; this.unit = unit; this.max = max;
    this.times = []; this.series = new Map(); // key → values aligned with times
    this.paused = false; this.plot = null; this.keys = [];
    this.box = el('div', {class: 'chart', 'data-series': 0, 'data-points': 0});
    parent.append(this.box);
    if (!charts) this.box.append(el('div', {class: 'note', text: 'Charts are not in this build (bash scripts/assets); the table shows the values.'}));
  }

  // push adds a point: values maps series keys to numbers.
  push(t, values) {
    this.times.push(t / 1000);
    for (const arr of this.series.values()) arr.push(null);
    const n = this.times.length;
    for (const [k, v] of Object.entries(values)) {
      let arr = this.series.get(k);
      if (!arr) { arr = new Array(n).fill(null); this.series.set(k, arr); }
      arr[n - 1] = v;
    }
    const cut = this.times.findIndex(x => x * 1000 >= t - this.windowMs);
    if (cut > 0) {
      this.times.splice(0, cut);
      for (const [k, arr] of this.series) { arr.splice(0, cut); if (arr.every(v => v === null)) this.series.delete(k); }
    }
    if (!this.paused) this.draw();
  }

  // ranked orders series by their latest value, largest first.
  ranked() {
    const last = arr => { for (let i = arr.length - 1; i >= 0; i--) if (arr[i] !== null) return i === arr.length - 1 ? arr[i] : 0; return 0; };
    const sum = arr => arr.reduce((s, v) => s + (v || 0), 0);
    return [...this.series.keys()].sort((a, b) => (last(this.series.get(b)) - last(this.series.get(a))) || (sum(this.series.get(b)) - sum(this.series.get(a))));
  }

  draw() {
    const t0 = performance.now();
    // The largest max series are drawn; the rest of the window's keys add
    // up to one "other" series, so the chart never grows without bound.
    let keys = this.ranked(), raw;
    if (keys.length > this.max) {
      const rest = keys.slice(this.max), other = new Array(this.times.length).fill(null);
      for (const k of rest) this.series.get(k).forEach((v, i) => { if (v !== null) other[i] = (other[i] || 0) + v; });
      keys = keys.slice(0, this.max).concat(['other']);
      raw = keys.map(k => k === 'other' ? other : this.series.get(k));
    } else raw = keys.map(k => this.series.get(k));
    this.box.dataset.series = keys.length; this.box.dataset.points = this.times.length;
    if (!charts) return;
    let data = raw;
    if (this.stacked) { // cumulative from the largest up; drawn from the top down so each fill shows its band
      const cum = []; let acc = new Array(this.times.length).fill(0);
      for (const arr of raw) { acc = acc.map((a, i) => a + (arr[i] || 0)); cum.push(acc); }
      data = cum.reverse();
    }
    const order = this.stacked ? keys.slice().reverse() : keys;
    const same = order.length === this.keys.length && order.every((k, i) => k === this.keys[i]);
    if (!this.plot || !same) this.build(order, raw, keys);
    this.raw = raw; this.rank = keys;
    const t1 = performance.now();
    this.plot.setData([this.times, ...data]);
    this.box.dataset.prepMs = (t1 - t0).toFixed(1);
    this.box.dataset.setMs = (performance.now() - t1).toFixed(1);
    // what one update costs, drawing included (uPlot paints before the next frame), for the tests' record
    requestAnimationFrame(() => { this.box.dataset.drawMs = (performance.now() - t0).toFixed(1); });
  }

  build(order, raw, keys) {
    if (this.plot) this.plot.destroy();
    this.keys = order;
    const width = Math.max(400, this.box.clientWidth - 10);
    const self = this;
    const series = [{}].concat(order.map((k, i) => {
      const rank = keys.indexOf(k), c = color(rank);
      return {
        // many stacked bands: fills alone (strokes would double the drawing)
        label: k, stroke: c, width: this.stacked && order.length > 50 ? 0 : 1, fill: this.stacked ? c + 'cc' : undefined, points: {show: false},
        // the legend shows the series' own value, not the stacked sum
        value: (u, v, sidx, idx) => {
          const arr = self.raw && self.raw[self.rank.indexOf(k)];
          return arr && idx !== null && idx !== undefined && arr[idx] !== null ? si(arr[idx]) + self.unit : '';
        },
      };
    }));
    this.plot = new uPlot({
      width, height: this.height, series,
      scales: {x: {time: true}, y: {range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1]}},
      axes: [{}, {values: (u, vals) => vals.map(v => si(v)), size: 60}],
      legend: {show: order.length <= 12}, // beyond that the table beside the chart is the legend
      cursor: {drag: {x: true, y: false}},
      hooks: {setSelect: [u => { if (u.select.width > 0) self.setPaused(true); }]},
    }, [this.times, ...order.map(() => [])], this.box);
  }

  setPaused(p) {
    this.paused = p;
    if (this.onpause) this.onpause(p);
    if (!p && this.plot) { this.plot.setScale('x', {min: this.times[0], max: this.times[this.times.length - 1]}); this.draw(); }
  }

  destroy() { if (this.plot) this.plot.destroy(); this.plot = null; }
}

// ---- views ---------------------------------------------------------------

const views = {};

views.status = (root) => {
  root.append(el('h2', {}, 'Status'));
  const cards = el('div', {class: 'cards', id: 'status-cards'}), body = el('div');
  root.append(cards, body);
  let prev = null;
  return every(1000, async () => {
    const [an, agents, flows, thresholds, groups, fwd, scripts, apps] = await Promise.all([
      request('/analyzer/json'), request('/agents/json'), request('/flow/json'), request('/threshold/json'),
      request('/groups/json').catch(() => ({})), request('/forwarding/json').catch(() => ({})), request('/scripts/json').catch(() => ({})),
      request('/apps/json').catch(() => ({}))]);
    const now = Date.now();
    let dps = '', sps = '';
    if (prev) {
      const dt = (now - prev.t) / 1000;
      dps = si((an.sFlowDatagramsReceived - prev.d) / dt);
      sps = si((an.sFlowSamplesReceived - prev.s) / dt);
    }
    prev = {t: now, d: an.sFlowDatagramsReceived, s: an.sFlowSamplesReceived};
    const ag = Object.entries(agents);
    const gaps = ag.reduce((s, [, a]) => s + a.sFlowDatagramsLost, 0);
    const sampleGaps = ag.reduce((s, [, a]) => s + a.sFlowFlowLostSamples + a.sFlowCounterLostSamples, 0);
    cards.replaceChildren(
      card('uptime', age(an.uptime)), card('datagrams/s', dps), card('samples/s', sps),
      card('kernel drops', si(an.sFlowKernelDrops || 0), an.sFlowKernelDrops > 0),
      card('datagram sequence gaps', si(gaps), gaps > 0), card('sample sequence gaps', si(sampleGaps), sampleGaps > 0),
      card('decode errors', si(an.sFlowDecodeErrors), an.sFlowDecodeErrors > 0),
      card('agents', ag.length), card('flows tracked', si(an.flowsTracked)),
      card('definitions', `${Object.keys(flows).length} flows · ${Object.keys(thresholds).length} thresholds · ${Object.keys(groups).length} group sets · ${Object.keys(fwd).length} forwarding`));
    const scriptRows = Object.entries(scripts).sort();
    body.replaceChildren(
      el('h3', {}, 'Agents'),
      ag.length ? table([
        {t: 'agent', f: r => r[0]}, {t: 'last seen', f: r => age(r[1].lastSeen), num: true},
        {t: 'datagrams', f: r => si(r[1].sFlowDatagramsReceived), num: true},
        {t: 'lost', f: r => si(r[1].sFlowDatagramsLost), num: true},
        {t: 'flow samples', f: r => si(r[1].sFlowFlowSamples), num: true},
        {t: 'counter samples', f: r => si(r[1].sFlowCounterSamples), num: true},
        {t: 'data sources', f: r => r[1].sFlowDatasources, num: true},
        {t: 'decode errors', f: r => si(r[1].sFlowDatagramsDecodeErrors), num: true},
        {t: 'from', f: r => (r[1].sFlowDatagramSource || []).join(' ')},
      ], ag.sort((a, b) => a[0].localeCompare(b[0], undefined, {numeric: true})), {id: 'agents'})
        : el('p', {class: 'muted'}, 'No agent has sent sFlow yet (UDP ' + (an.sFlowPort || 6343) + ').'),
      el('h3', {}, 'Flow definitions'),
      table([{t: 'name', f: r => r[0]}, {t: 'keys', f: r => [].concat(r[1].keys).join(',')}, {t: 'value', f: r => r[1].value},
        {t: 'filter', f: r => r[1].filter || ''}, {t: 'top flows', f: r => el('a', {href: '#/flows?name=' + encodeURIComponent(r[0])}, 'trend')}],
      Object.entries(flows).sort(), {id: 'flows'}),
      el('h3', {}, 'Scripts and applications'),
      scriptRows.length ? table([
        {t: 'script', f: r => r[0]}, {t: 'state', f: r => el('span', {class: r[1].error ? 'bad' : 'ok'}, r[1].alive ? (r[1].error ? 'error' : 'running') : (r[1].gracefulExit ? 'ended' : 'stopped'))},
        {t: 'flows', f: r => si(r[1].flowsReceived), num: true}, {t: 'events', f: r => si(r[1].eventsReceived), num: true},
        {t: 'lost', f: r => si(r[1].flowsLost + r[1].eventsLost + r[1].requestsLost), num: true},
        {t: 'CPU ms', f: r => si(r[1].cpuMs), num: true}, {t: 'error', f: r => r[1].error || '', cls: 'err'},
      ], scriptRows, {id: 'scripts'}) : el('p', {class: 'muted'}, 'No scripts (-Dscript.file= or app/<name>/scripts/).'),
      Object.keys(apps).length ? table([
        {t: 'application', f: r => r[1].entry ? el('a', {href: r[1].entry}, r[0]) : r[0]},
        {t: 'scripts', f: r => (r[1].scripts || []).join(', ')},
        {t: 'state', f: r => {
          const bad = (r[1].scripts || []).some(f => (scripts[r[0] + '/' + f] || {}).error);
          return el('span', {class: bad ? 'bad' : 'ok'}, bad ? 'error' : 'ok');
        }}], Object.entries(apps).sort(), {id: 'apps'}) : null);
  });
};

views.flows = (root, q) => {
  root.append(el('h2', {}, 'Flow Trend'));
  const keys = el('input', {name: 'keys', class: 'wide', placeholder: 'ipsource,ipdestination', value: q.get('keys') || '', required: true});
  const value = el('input', {name: 'value', value: q.get('value') || 'bytes'});
  const filter = el('input', {name: 'filter', class: 'wide', placeholder: 'ipprotocol=6', value: q.get('filter') || ''});
  const maxFlows = el('input', {name: 'maxFlows', type: 'number', min: 1, max: 1000, value: q.get('maxFlows') || 20});
  let flowkeys = [];
  const pause = el('button', {type: 'button', class: 'plain', id: 'pause', disabled: true}, 'Pause');
  const remove = el('button', {type: 'button', class: 'plain', id: 'remove', disabled: true}, 'Remove');
  const form = el('form', {class: 'bar'},
    el('label', {}, 'Keys', keys), el('label', {}, 'Value', value), el('label', {}, 'Filter', filter),
    el('label', {}, 'Top', maxFlows), el('button', {type: 'submit', id: 'define'}, 'Define'), pause, remove,
    completion(keys, 'fk-keys', [','], () => flowkeys), completion(filter, 'fk-filter', ['&', '|', '(', '!'], () => flowkeys),
    completion(value, 'fk-value', [], () => ['bytes', 'frames', 'requests', 'duration'].concat(flowkeys)));
  const info = el('p', {class: 'muted', id: 'flow-info'}, q.get('name') ? '' : 'Type keys, a value and an optional filter; the trend defines the flow and removes it when you leave.');
  const split = el('div', {class: 'split'}), left = el('div', {style: 'flex:1 1 700px;min-width:0'}), side = el('div', {class: 'side', id: 'top-flows'});
  split.append(left, side);
  root.append(form, info, split);
  request('/flowkeys/json').then(k => { flowkeys = Object.keys(k).sort(); }).catch(() => {});

  let trend = null, stop = null, name = q.get('name'), owned = false;
  const cleanup = () => {
    if (stop) stop();
    stop = null;
    if (trend) trend.destroy();
    trend = null;
    if (owned && name) deleteFlow(name);
    owned = false;
  };
  const watch = () => {
    const n = Math.max(1, Math.min(1000, +maxFlows.value || 20));
    trend = new Trend(left, {stacked: true, max: n});
    trend.onpause = p => { pause.textContent = p ? 'Resume' : 'Pause'; };
    pause.disabled = false; remove.disabled = !owned;
    stop = every(500, async () => {
      const flows = await request(`/activeflows/ALL/${encodeURIComponent(name)}/json?maxFlows=${n}`);
      const now = Date.now(), values = {};
      for (const f of flows) values[f.key] = f.value;
      trend.push(now, values);
      side.replaceChildren(table([
        {t: '#', f: r => r.i + 1, num: true},
        {t: name, f: r => el('span', {}, el('span', {class: 'swatch', style: 'background:' + color(r.i)}), r.key)},
        {t: value.value || 'value', f: r => si(r.value), num: true}],
      // the first 100 rows: more is not readable at 2 Hz, and the chart has them all
      flows.slice(0, 100).map((f, i) => ({...f, i})), {id: 'top-table'}),
      flows.length > 100 ? el('p', {class: 'muted'}, `and ${flows.length - 100} more`) : null);
      info.textContent = `${name}: ${flows.length} flows now, ${trend.series.size} in the last 5 minutes` + (trend.paused ? ' (paused; Resume to follow)' : '');
    });
  };
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    cleanup();
    name = 'ui_trend_' + Math.random().toString(16).slice(2, 8); // ui_: not kept across restarts
    // n: flows kept per data source, enough for the top asked for.
    const spec = {keys: keys.value.trim(), value: value.value.trim() || 'bytes', n: Math.max(10, Math.min(1000, +maxFlows.value || 20))};
    if (filter.value.trim()) spec.filter = filter.value.trim();
    try {
      await defineFlow(name, spec);
    } catch (e) { showError(e.message); name = null; return; }
    owned = true;
    history.replaceState(null, '', '#/flows?' + new URLSearchParams({keys: spec.keys, value: spec.value, filter: spec.filter || '', maxFlows: maxFlows.value}));
    watch();
  });
  pause.addEventListener('click', () => trend && trend.setPaused(!trend.paused));
  remove.addEventListener('click', () => { cleanup(); name = null; side.replaceChildren(); left.replaceChildren(); info.textContent = 'Removed.'; pause.disabled = remove.disabled = true; });
  window.addEventListener('pagehide', cleanup);
  if (name) {
    request('/flow/' + encodeURIComponent(name) + '/json').then(spec => {
      keys.value = [].concat(spec.keys).join(','); value.value = spec.value; filter.value = spec.filter || '';
      watch();
    }).catch(e => showError(e.message));
  } else if (keys.value) form.requestSubmit();
  return () => { window.removeEventListener('pagehide', cleanup); cleanup(); };
};

views.metrics = (root, q) => {
  root.append(el('h2', {}, 'Metrics'));
  const agent = el('select', {name: 'agent', id: 'metric-agent'}, el('option', {value: 'ALL'}, 'ALL'));
  const metric = el('input', {name: 'metric', value: q.get('metric') || 'ifinoctets', class: 'wide'});
  const agg = el('select', {name: 'agg'}, ['max', 'min', 'sum', 'avg', 'var', 'sdev', 'med', 'q1', 'q3', 'iqr', 'any', 'count'].map(a => el('option', {value: a}, a)));
  if (q.get('agg')) agg.value = q.get('agg');
  let names = [];
  const form = el('form', {class: 'bar'}, el('label', {}, 'Agent', agent), el('label', {}, 'Metric', metric), el('label', {}, 'Aggregation', agg),
    el('button', {type: 'submit'}, 'Show'), completion(metric, 'metric-names', [','], () => names));
  const now = el('p', {class: 'muted', id: 'metric-now'});
  const chartBox = el('div'), all = el('div', {id: 'agent-metrics'});
  root.append(form, now, chartBox, all);
  request('/metrics/json').then(m => { names = Object.keys(m).sort(); }).catch(() => {});
  let stop = null, trend = null;
  const start = () => {
    if (stop) stop();
    if (trend) trend.destroy();
    chartBox.replaceChildren();
    trend = new Trend(chartBox, {height: 320});
    const a = agent.value || 'ALL', m = metric.value.trim(), g = agg.value;
    history.replaceState(null, '', '#/metrics?' + new URLSearchParams({agent: a, metric: m, agg: g}));
    stop = every(1000, async () => {
      const [st] = await request(`/metric/${encodeURIComponent(a)}/${encodeURIComponent(g + ':' + m)}/json`);
      const v = typeof st.metricValue === 'number' ? st.metricValue : null;
      trend.push(Date.now(), v === null ? {} : {[`${g}:${m}`]: v});
      now.textContent = `${g}:${m} = ${v === null ? 'no value' : si(v)} over ${st.metricN || 0} data sources` + (st.agent ? ` (${st.agent} ${st.dataSource})` : '');
      if (a !== 'ALL') {
        const vals = await request(`/metric/${encodeURIComponent(a)}/json`);
        const rows = Object.entries(vals).map(([k, v]) => { const i = k.lastIndexOf('.'); return {ds: k.slice(0, i), m: k.slice(i + 1), v}; })
          .sort((x, y) => x.ds.localeCompare(y.ds, undefined, {numeric: true}) || x.m.localeCompare(y.m));
        all.replaceChildren(el('h3', {}, `All metrics of ${a}`), table([{t: 'data source', f: r => r.ds}, {t: 'metric', f: r => r.m},
          {t: 'value', f: r => typeof r.v === 'number' ? si(r.v) : r.v, num: true}], rows, {id: 'agent-metrics-table'}));
      } else {
        const rows = await request(`/dump/ALL/${encodeURIComponent(m)}/json`);
        all.replaceChildren(el('h3', {}, `${m} at every data source`), table([{t: 'agent', f: r => r.agent}, {t: 'data source', f: r => r.dataSource},
          {t: 'value', f: r => typeof r.metricValue === 'number' ? si(r.metricValue) : r.metricValue, num: true}, {t: 'updated', f: r => age(r.lastUpdate), num: true}],
        rows, {id: 'agent-metrics-table'}));
      }
    });
  };
  form.addEventListener('submit', ev => { ev.preventDefault(); start(); });
  // The agent list first, so that the agent asked for can be selected.
  request('/agents/json').then(a => {
    const want = q.get('agent') || 'ALL';
    const list = Object.keys(a).sort((x, y) => x.localeCompare(y, undefined, {numeric: true}));
    if (want !== 'ALL' && !list.includes(want)) list.push(want);
    for (const k of list) agent.append(el('option', {value: k}, k));
    agent.value = want;
  }).catch(e => showError(e.message)).finally(start);
  return () => { if (stop) stop(); if (trend) trend.destroy(); };
};

// relax places nodes on a circle, then lets links pull and nodes push
// (a small force-directed layout), so that trees and fabrics read as such.
function relax(nodes, links, W, H, R) {
  const pos = {};
  nodes.forEach((n, i) => { const a = 2 * Math.PI * i / nodes.length - Math.PI / 2; pos[n] = [W / 2 + R * Math.cos(a), H / 2 + R * Math.sin(a)]; });
  const k = Math.sqrt(W * H / Math.max(nodes.length, 1)) * 0.6;
  for (let it = 0; it < 200; it++) {
    const f = Object.fromEntries(nodes.map(n => [n, [0, 0]]));
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) {
      const a = pos[nodes[i]], b = pos[nodes[j]], dx = a[0] - b[0], dy = a[1] - b[1], d = Math.max(Math.hypot(dx, dy), 1);
      const r = k * k / d / d;
      f[nodes[i]][0] += dx * r; f[nodes[i]][1] += dy * r; f[nodes[j]][0] -= dx * r; f[nodes[j]][1] -= dy * r;
    }
    for (const l of links) {
      const a = pos[l.node1], b = pos[l.node2];
      if (!a || !b) continue;
      const dx = a[0] - b[0], dy = a[1] - b[1], d = Math.max(Math.hypot(dx, dy), 1), r = d / k;
      f[l.node1][0] -= dx * r; f[l.node1][1] -= dy * r; f[l.node2][0] += dx * r; f[l.node2][1] += dy * r;
    }
    const step = 10 * (1 - it / 200);
    for (const n of nodes) {
      const [fx, fy] = f[n], m = Math.max(Math.hypot(fx, fy), 1e-9), s = Math.min(step, m);
      pos[n][0] = Math.min(W - 60, Math.max(40, pos[n][0] + fx / m * s));
      pos[n][1] = Math.min(H - 30, Math.max(30, pos[n][1] + fy / m * s));
    }
  }
  return pos;
}

views.topology = (root) => {
  root.append(el('h2', {}, 'Topology'));
  const box = el('div'), flowsBox = el('div', {id: 'link-flows'});
  root.append(box, flowsBox);
  const flowName = 'ui_links_' + Math.random().toString(16).slice(2, 8);
  let defined = false, selected = null, layout = null;
  const define = async () => {
    if (defined) return;
    await defineFlow(flowName, {keys: 'or:[link:inputifindex]:[link:outputifindex],ipsource,ipdestination', value: 'bytes'});
    defined = true;
  };
  const util = (m, ifindex) => Math.max(m[ifindex + '.ifinutilization'] || 0, m[ifindex + '.ifoututilization'] || 0);
  const heat = u => u >= 80 ? '#c62828' : u >= 50 ? '#ef6c00' : u >= 20 ? '#f9a825' : u > 0 ? '#2e7d32' : '#9aa5b1';
  const stop = every(1000, async () => {
    const topo = await request('/topology/json');
    const nodes = Object.keys(topo.nodes || {}).sort();
    if (!nodes.length) {
      box.replaceChildren(el('p', {class: 'muted', id: 'no-topology'}, 'No topology is set. PUT one to /topology/json (as Mininet\'s sflow.py does) or call setTopology() from a script.'));
      return;
    }
    await define();
    const agents = [...new Set(nodes.map(n => topo.nodes[n].agent).filter(Boolean))];
    const metrics = {};
    await Promise.all(agents.map(a => request('/metric/' + a + '/json').then(m => { metrics[a] = m; }).catch(() => { metrics[a] = {}; })));
    const W = 760, H = 480, R = Math.min(W, H) / 2 - 60;
    if (!layout || layout.n !== nodes.join() + '|' + Object.keys(topo.links || {}).join()) {
      layout = {n: nodes.join() + '|' + Object.keys(topo.links || {}).join(), pos: relax(nodes, Object.values(topo.links || {}), W, H, R)};
    }
    const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'topo'); svg.setAttribute('width', W); svg.setAttribute('height', H);
    const linkRows = [];
    for (const [name, l] of Object.entries(topo.links || {}).sort()) {
      const n1 = topo.nodes[l.node1] || {}, n2 = topo.nodes[l.node2] || {};
      const p1 = (n1.ports || {})[l.port1] || {}, p2 = (n2.ports || {})[l.port2] || {};
      const u = Math.max(util(metrics[n1.agent] || {}, p1.ifindex), util(metrics[n2.agent] || {}, p2.ifindex));
      linkRows.push({name, l, u});
      const [x1, y1] = layout.pos[l.node1] || [0, 0], [x2, y2] = layout.pos[l.node2] || [0, 0];
      const line = document.createElementNS(ns, 'line');
      Object.entries({x1, y1, x2, y2, stroke: heat(u), 'data-link': name, class: name === selected ? 'selected' : ''}).forEach(([k, v]) => line.setAttribute(k, v));
      const title = document.createElementNS(ns, 'title'); title.textContent = `${name}: ${u.toFixed(1)}%`; line.append(title);
      line.addEventListener('click', () => { selected = name; });
      svg.append(line);
    }
    for (const n of nodes) {
      const [x, y] = layout.pos[n];
      const c = document.createElementNS(ns, 'circle'); c.setAttribute('cx', x); c.setAttribute('cy', y); c.setAttribute('r', 9);
      const t = document.createElementNS(ns, 'text'); t.setAttribute('x', x + 12); t.setAttribute('y', y + 4); t.textContent = n;
      svg.append(c, t);
    }
    box.replaceChildren(svg, el('div', {class: 'legend muted'}, ['idle', '< 20%', '20–50%', '50–80%', '≥ 80%'].map((s, i) =>
      el('span', {}, el('span', {class: 'swatch', style: 'background:' + heat([0, 1, 20, 50, 80][i])}), s))),
    el('h3', {}, 'Links'), table([{t: 'link', f: r => el('a', {href: 'javascript:void 0', onclick: () => { selected = r.name; }}, r.name)},
      {t: 'ends', f: r => `${r.l.node1}:${r.l.port1} — ${r.l.node2}:${r.l.port2}`}, {t: 'utilization', f: r => r.u.toFixed(1) + '%', num: true}],
    linkRows, {id: 'links'}));
    if (selected) {
      const flows = (await request(`/activeflows/ALL/${flowName}/json?maxFlows=1000`)).filter(f => f.key.startsWith(selected + ','));
      flowsBox.replaceChildren(el('h3', {}, `Top flows on ${selected}`), table([{t: 'source', f: r => r.key.split(',')[1]},
        {t: 'destination', f: r => r.key.split(',')[2]}, {t: 'bytes/s', f: r => si(r.value), num: true}], flows.slice(0, 50), {id: 'link-flows-table'}));
    }
  });
  const cleanup = () => { if (defined) deleteFlow(flowName); defined = false; };
  window.addEventListener('pagehide', cleanup);
  return () => { stop(); window.removeEventListener('pagehide', cleanup); cleanup(); };
};

views.events = (root) => {
  root.append(el('h2', {}, 'Events'));
  const box = el('div');
  root.append(box);
  const events = [];
  let last = -1;
  return every(1000, async () => {
    const got = await request('/events/json?maxEvents=200' + (last >= 0 ? '&eventID=' + last : ''));
    for (const e of got) if (e.eventID > last) { events.unshift(e); last = Math.max(last, e.eventID); }
    events.sort((a, b) => b.eventID - a.eventID).splice(500);
    box.replaceChildren(events.length ? table([
      {t: 'time', f: r => new Date(r.timestamp).toLocaleTimeString()}, {t: 'threshold', f: r => r.thresholdID},
      {t: 'metric', f: r => r.metric}, {t: 'agent', f: r => r.agent}, {t: 'data source', f: r => r.dataSource},
      {t: 'flow', f: r => r.flowKey || ''}, {t: 'value', f: r => si(r.value), num: true}, {t: 'threshold', f: r => si(r.threshold), num: true},
    ], events, {id: 'events'}) : el('p', {class: 'muted', id: 'no-events'}, 'No events yet. Thresholds (PUT /threshold/{name}/json) raise them.'));
  });
};

// ---- routing -------------------------------------------------------------

let leave = null;
function route() {
  if (leave) leave();
  leave = null;
  showError('');
  const [name, query] = location.hash.replace(/^#\/?/, '').split('?');
  const view = views[name] ? name : 'status';
  document.querySelectorAll('nav a[data-page]').forEach(a => a.classList.toggle('active', a.dataset.page === view));
  main.replaceChildren();
  leave = views[view](main, new URLSearchParams(query || ''));
}
window.addEventListener('hashchange', route);
request('/version').then(v => { document.getElementById('version').textContent = 'flowrt ' + v; }).catch(() => {});
route();
