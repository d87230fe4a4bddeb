// flowrt's web interface: what every view shares. Views (status.js,
// flows.js …) each register views.<page>; app.js routes between them.
// Plain scripts, loaded in order, no framework (docs/web.md says why).
'use strict';

const main = document.getElementById('main');
const charts = typeof window.uPlot === 'function';
// What the engine accepts, from the lists it checks requests against
// (web.go): aggregations, aggModes, n per data source, lease range.
const config = Object.assign({aggregations: ['max'], aggModes: ['max'], maxN: 20, minLease: 1, maxLease: 3600},
  JSON.parse((document.getElementById('flowrt-config') || {}).textContent || '{}'));
const views = {};

// ---- DOM -------------------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  append(e, kids);
  return e;
}

// kids leaves out null, undefined and false: replaceChildren(…, null)
// would write "null" into the page.
function kids(list) { return list.flat(Infinity).filter(k => k !== null && k !== undefined && k !== false).map(k => k instanceof Node ? k : String(k)); }
function append(parent, ...list) { parent.append(...kids(list)); }
function put(parent, ...list) { parent.replaceChildren(...kids(list)); }

function showError(msg) { document.getElementById('error').textContent = msg || ''; }

// table builds a table: cols are {t: title, f: row → cell, num: bool, cls, title: tooltip}.
function table(cols, rows, attrs) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, cols.map(c => el('th', {title: c.title}, c.t)))),
    el('tbody', {}, rows.map(r => el('tr', {}, cols.map(c => el('td', {class: c.num ? 'num' : c.cls}, c.f(r)))))));
}

function card(k, v, bad, title, note) {
  return el('div', {class: 'card' + (bad ? ' bad' : ''), title}, el('div', {class: 'k'}, k), el('div', {class: 'v'}, v),
    note ? el('div', {class: 'k note'}, note) : null);
}

// completion offers words after the last separator of a comma (keys) or
// &/| (filter) list, through a native datalist.
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

// ---- REST ------------------------------------------------------------------

async function request(url, opts) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`${(opts && opts.method) || 'GET'} ${url}: ${r.status} ${(await r.text()).trim()}`);
  return r.status === 204 ? null : r.json();
}

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

// pageLease is how long, in seconds, the page's own definitions outlive
// the page if it vanishes without removing them (a closed laptop, a
// crashed browser): #/…?lease=<s>, 120 by default, within the engine's range.
function pageLease(q) {
  const s = +(q && q.get('lease')) || 120;
  return Math.min(config.maxLease, Math.max(config.minLease, s));
}

// ownFlow is one of a page's own flow definitions (ui_<what>_<random>):
// defined with a lease that the page renews while it is open (a quarter of
// the lease apart, and at once when the tab is shown again, so a woken
// laptop picks up where it was); removed when the page goes, also as the
// tab closes (keepalive). If the page cannot say so, the lease lapses and
// the engine removes it.
function ownFlow(what, spec, lease) {
  const name = `ui_${what}_` + Math.random().toString(16).slice(2, 8);
  const url = `/flow/${encodeURIComponent(name)}/json`;
  let timer = null, live = false;
  const define = () => request(url + '?lease=' + lease, {method: 'PUT', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(spec)});
  const renew = async () => {
    clearTimeout(timer);
    if (!live) return;
    try { await define(); } catch (e) { showError(e.message); }
    if (live) timer = setTimeout(renew, Math.max(1000, lease * 250));
  };
  const shown = () => { if (document.visibilityState === 'visible') renew(); };
  // stopped: stop() came, perhaps while start() still waited for the
  // engine; the definition it made then is removed as soon as it is made,
  // rather than renewed for ever behind a page that was left.
  let stopped = false;
  const remove = () => fetch(url, {method: 'DELETE', keepalive: true}).catch(() => {});
  return {
    name,
    async start() {
      stopped = false;
      await define();
      if (stopped) { remove(); return; }
      live = true;
      timer = setTimeout(renew, Math.max(1000, lease * 250));
      document.addEventListener('visibilitychange', shown);
    },
    stop() {
      stopped = true;
      if (!live) return;
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', shown);
      remove();
    },
  };
}

// ---- numbers and units -----------------------------------------------------

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

const pad2 = n => String(n).padStart(2, '0');
// clock writes a time as hh:mm:ss (24 h, local time).
function clock(ms) { const d = new Date(ms); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`; }

// unitsOf lists the units a flow value (or a byte-counting metric) can be
// shown in, each with the factor from the engine's number: flow values are
// per-second rates of their value, bytes also as bits (×8), as sFlow-RT's
// Flow Trend offers them.
function unitsOf(value) {
  if (value === 'bytes') return [{u: 'bits/s', f: 8}, {u: 'bytes/s', f: 1}];
  if (value === 'frames') return [{u: 'frames/s', f: 1}];
  return [{u: (value || 'value') + '/s', f: 1}];
}

// unitSelect is a <select> of unitsOf(value), keeping the choice when the
// value changes to one that has it.
function unitSelect(name, value, want) {
  const s = el('select', {name});
  s.fill = (v, w) => {
    const keep = w || s.value;
    s.dataset.value = v;
    put(s, unitsOf(v).map(x => el('option', {value: x.u}, x.u)));
    if ([...s.options].some(o => o.value === keep)) s.value = keep;
  };
  s.factor = () => (unitsOf(s.dataset.value).find(x => x.u === s.value) || {f: 1}).f;
  s.fill(value, want);
  return s;
}

function color(i) {
  if (i < 0) return '#9aa5b1'; // not among the drawn series (the chart's "other")
  const base = ['#1565c0', '#e65100', '#2e7d32', '#c62828', '#6a1b9a', '#00838f', '#f9a825', '#4e342e', '#ad1457',
    '#283593', '#558b2f', '#00695c', '#ef6c00', '#5d4037', '#0277bd', '#9e9d24', '#d84315', '#4527a0', '#37474f', '#8e24aa'];
  return i < base.length ? base[i] : `hsl(${(i * 137.508) % 360},60%,45%)`;
}

// own reports whether a definition is one of the pages' own (ui_…), which
// lists leave out.
const own = name => name.startsWith('ui_');
