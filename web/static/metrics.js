// Metrics: a live trend of one metric, aggregated over an agent's (or
// every agent's) data sources, and the table of every metric of the agent.
'use strict';

// metricUnits are the units a metric can be shown in: byte counters
// (…octets) and flows of bytes as bits/s or bytes/s, flows of frames as
// frames/s, utilizations in %; other metrics as the engine gives them.
function metricUnits(name, flows) {
  const base = name.replace(/^.*\./, ''); // a data source qualifier (2.1.ifinoctets) aside
  if (flows[base]) return unitsOf(flows[base].value);
  if (/octets$/.test(base)) return unitsOf('bytes');
  if (/utilization$/.test(base)) return [{u: '%', f: 1}];
  return [{u: '', f: 1}];
}

views.metrics = (root, q) => {
  append(root, el('h2', {}, 'Metrics'));
  const agent = el('select', {name: 'agent', id: 'metric-agent'}, el('option', {value: 'ALL'}, 'ALL'));
  const metric = el('input', {name: 'metric', value: q.get('metric') || 'ifinoctets', class: 'wide'});
  // the aggregations the engine accepts, from its own list (web.go)
  const agg = el('select', {name: 'agg', id: 'metric-agg'}, config.aggregations.map(a => el('option', {value: a}, a)));
  if (config.aggregations.includes(q.get('agg'))) agg.value = q.get('agg');
  const units = el('select', {name: 'units', id: 'metric-units'});
  const filter = el('input', {name: 'filter', class: 'wide', placeholder: 'host_name=*web*&ifspeed=1000000000', value: q.get('filter') || '',
    title: 'data sources whose metrics match: name=value pairs joined with &, values may be patterns (as /metric/{agent}/{metric}/json takes them)'});
  let names = [], flows = {};
  const form = el('form', {class: 'bar'}, el('label', {}, 'Agent', agent), el('label', {}, 'Metric', metric), el('label', {}, 'Aggregation', agg),
    el('label', {}, 'Units', units), el('label', {}, 'Data source filter', filter),
    el('button', {type: 'submit'}, 'Show'), completion(metric, 'metric-names', [','], () => names));
  const now = el('p', {class: 'muted', id: 'metric-now'});
  const chartBox = el('div'), all = el('div', {id: 'agent-metrics'});
  append(root, form, now, chartBox, all);
  request('/metrics/json').then(m => { names = Object.keys(m).filter(n => !own(n)).sort(); }).catch(() => {});
  const fillUnits = want => {
    const list = metricUnits(metric.value.trim(), flows), keep = want || units.value;
    put(units, list.map(x => el('option', {value: x.u}, x.u || '(as reported)')));
    if (list.some(x => x.u === keep)) units.value = keep;
  };
  const factor = () => (metricUnits(metric.value.trim(), flows).find(x => x.u === units.value) || {f: 1}).f;
  let stop = null, trend = null, gone = false;
  const start = () => {
    // The first start waits for the agent list; a user who left in the
    // meantime must not be pulled back here by the replaceState, nor leave
    // a poll running behind the page they went to.
    if (gone) return;
    if (stop) stop();
    if (trend) trend.destroy();
    put(chartBox);
    const a = agent.value || 'ALL', m = metric.value.trim(), g = agg.value, fq = filter.value.trim().replace(/^\?/, '');
    trend = new Trend(chartBox, {height: 320, unit: units.value, factor: factor()});
    history.replaceState(null, '', '#/metrics?' + new URLSearchParams({agent: a, metric: m, agg: g, units: units.value, filter: fq}));
    const sel = fq ? '?' + fq : '';
    stop = every(1000, async () => {
      const [st] = await request(`/metric/${encodeURIComponent(a)}/${encodeURIComponent(g + ':' + m)}/json${sel}`);
      const v = typeof st.metricValue === 'number' ? st.metricValue : null, f = factor(), u = units.value;
      trend.push(Date.now(), v === null ? {} : {[`${g}:${m}`]: v});
      now.textContent = `${g}:${m} = ${v === null ? 'no value' : si(v * f) + (u ? ' ' + u : '')} over ${st.metricN || 0} data sources` + (st.agent ? ` (${st.agent} ${st.dataSource})` : '');
      const shown = x => typeof x === 'number' ? si(x) : x;
      if (a !== 'ALL') {
        const vals = await request(`/metric/${encodeURIComponent(a)}/json`);
        const rows = Object.entries(vals).map(([k, x]) => { const i = k.lastIndexOf('.'); return {ds: k.slice(0, i), m: k.slice(i + 1), v: x}; })
          .filter(r => !own(r.m))
          .sort((x, y) => x.ds.localeCompare(y.ds, undefined, {numeric: true}) || x.m.localeCompare(y.m));
        put(all, el('h3', {}, `All metrics of ${a}`), table([{t: 'data source', f: r => r.ds}, {t: 'metric', f: r => r.m},
          {t: 'value', f: r => shown(r.v), num: true}], rows, {id: 'agent-metrics-table'}));
      } else {
        const rows = await request(`/dump/ALL/${encodeURIComponent(m)}/json${sel}`);
        put(all, el('h3', {}, `${m} at every data source`), table([{t: 'agent', f: r => r.agent}, {t: 'data source', f: r => r.dataSource},
          {t: u ? `value (${u})` : 'value', f: r => typeof r.metricValue === 'number' ? si(r.metricValue * f) : r.metricValue, num: true},
          {t: 'updated', f: r => age(r.lastUpdate), num: true}], rows, {id: 'agent-metrics-table'}));
      }
    });
  };
  metric.addEventListener('change', () => fillUnits());
  units.addEventListener('change', () => { if (trend) trend.setUnit(units.value, factor()); });
  form.addEventListener('submit', ev => { ev.preventDefault(); start(); });
  // The agent list and the flow definitions first, so that the agent asked
  // for can be selected and a flow metric gets its units.
  Promise.all([request('/agents/json'), request('/flow/json').catch(() => ({}))]).then(([a, f]) => {
    flows = f;
    const want = q.get('agent') || 'ALL';
    const list = Object.keys(a).sort((x, y) => x.localeCompare(y, undefined, {numeric: true}));
    if (want !== 'ALL' && !list.includes(want)) list.push(want);
    for (const k of list) agent.append(el('option', {value: k}, k));
    agent.value = want;
  }).catch(e => showError(e.message)).finally(() => { fillUnits(q.get('units')); start(); });
  return () => { gone = true; if (stop) stop(); if (trend) trend.destroy(); };
};
