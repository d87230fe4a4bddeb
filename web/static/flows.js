// Flow Trend: define a flow (or watch one) and draw its top flows over
// five minutes, stacked, with the table of the current top beside it.
'use strict';

views.flows = (root, q) => {
  append(root, el('h2', {}, 'Flow Trend'));
  const keys = el('input', {name: 'keys', class: 'wide', placeholder: 'ipsource,ipdestination', value: q.get('keys') || '', required: true});
  const value = el('input', {name: 'value', value: q.get('value') || 'bytes'});
  const units = unitSelect('units', value.value, q.get('units'));
  const filter = el('input', {name: 'filter', class: 'wide', placeholder: 'ipprotocol=6', value: q.get('filter') || ''});
  const maxFlows = el('input', {name: 'maxFlows', type: 'number', min: 1, max: 1000, value: q.get('maxFlows') || 20});
  const aggMode = el('select', {name: 'aggMode', title: 'how a flow seen at several data sources counts: the largest observation (max) or their sum'},
    config.aggModes.map(m => el('option', {value: m}, m)));
  aggMode.value = config.aggModes.includes(q.get('aggMode')) ? q.get('aggMode') : config.aggModes[0];
  let flowkeys = [];
  const pause = el('button', {type: 'button', class: 'plain', id: 'pause', disabled: true}, 'Pause');
  const remove = el('button', {type: 'button', class: 'plain', id: 'remove', disabled: true}, 'Remove');
  const form = el('form', {class: 'bar'},
    el('label', {}, 'Keys', keys), el('label', {}, 'Value', value), el('label', {}, 'Units', units), el('label', {}, 'Filter', filter),
    el('label', {}, 'Top', maxFlows), el('label', {}, 'Aggregation', aggMode), el('button', {type: 'submit', id: 'define'}, 'Define'), pause, remove,
    completion(keys, 'fk-keys', [','], () => flowkeys), completion(filter, 'fk-filter', ['&', '|', '(', '!'], () => flowkeys),
    completion(value, 'fk-value', [], () => ['bytes', 'frames', 'requests', 'duration'].concat(flowkeys)));
  const info = el('p', {class: 'muted', id: 'flow-info'}, q.get('name') ? '' : 'Type keys, a value and an optional filter; the trend defines the flow and removes it when you leave.');
  const split = el('div', {class: 'split'}), left = el('div', {class: 'main-col'}), side = el('div', {class: 'side', id: 'top-flows'});
  append(split, left, side);
  append(root, form, info, split);
  request('/flowkeys/json').then(k => { flowkeys = Object.keys(k).sort(); }).catch(() => {});
  value.addEventListener('change', () => units.fill(value.value.trim()));

  let trend = null, stop = null, name = q.get('name'), owned = null, label = '', last = [], gone = false;
  const cleanup = () => {
    if (stop) stop();
    stop = null;
    if (trend) trend.destroy();
    trend = null;
    if (owned) owned.stop();
    owned = null;
  };
  const unit = () => ({u: units.value, f: units.factor()});
  const drawTable = flows => {
    const {u, f} = unit();
    put(side, table([
      {t: '#', f: r => r.i + 1, num: true},
      {t: label, f: r => el('span', {}, el('span', {class: 'swatch', style: 'background:' + color(trend ? trend.rank.indexOf(r.key) : r.i)}), r.key)},
      {t: u, f: r => el('span', {'data-value': r.value}, si(r.value * f)), num: true}],
    // the first 100 rows: more is not readable at 2 Hz, and the chart has them all
    flows.slice(0, 100).map((x, i) => ({...x, i})), {id: 'top-table'}),
    flows.length > 100 ? el('p', {class: 'muted'}, `and ${flows.length - 100} more`) : null);
  };
  units.addEventListener('change', () => {
    if (trend) trend.setUnit(units.value, units.factor());
    drawTable(last);
    if (owned) history.replaceState(null, '', hashOf());
  });
  const hashOf = () => '#/flows?' + new URLSearchParams({keys: keys.value.trim(), value: value.value.trim(), units: units.value,
    filter: filter.value.trim(), maxFlows: maxFlows.value, aggMode: aggMode.value});
  const watch = () => {
    const n = Math.max(1, Math.min(1000, +maxFlows.value || 20));
    label = keys.value.trim() || 'flow';
    trend = new Trend(left, {stacked: true, max: n, unit: units.value, factor: units.factor()});
    trend.onpause = p => { pause.textContent = p ? 'Resume' : 'Pause'; };
    pause.disabled = false; remove.disabled = !owned;
    const what = `${label} · ${value.value}${filter.value ? ' · ' + filter.value : ''}` + (owned ? '' : ` (definition ${name})`);
    const query = new URLSearchParams({maxFlows: n, aggMode: aggMode.value});
    stop = every(500, async () => {
      const flows = await request(`/activeflows/ALL/${encodeURIComponent(name)}/json?${query}`);
      const values = {};
      for (const x of flows) values[x.key] = x.value;
      last = flows;
      trend.push(Date.now(), values);
      drawTable(flows);
      info.textContent = `${what}: ${flows.length} flows now, ${trend.series.size} in the last 5 minutes` + (trend.paused ? ' (paused; Resume to follow)' : '');
    });
  };
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    cleanup();
    // n: flows kept per data source, as many as the engine keeps, so the top asked for is the true top.
    const spec = {keys: keys.value.trim(), value: value.value.trim() || 'bytes', n: config.maxN};
    if (filter.value.trim()) spec.filter = filter.value.trim();
    units.fill(spec.value);
    const f = ownFlow('trend', spec, pageLease(q));
    try {
      await f.start();
    } catch (e) { showError(e.message); return; }
    // A user who left while the definition was made must not be pulled back
    // by the replaceState, nor leave the flow and a poll behind the page.
    if (gone) { f.stop(); return; }
    owned = f; name = f.name;
    history.replaceState(null, '', hashOf());
    watch();
  });
  pause.addEventListener('click', () => trend && trend.setPaused(!trend.paused));
  remove.addEventListener('click', () => {
    cleanup(); name = null; put(side); put(left); info.textContent = 'Removed.'; pause.disabled = remove.disabled = true;
  });
  window.addEventListener('pagehide', cleanup);
  if (name) {
    request('/flow/' + encodeURIComponent(name) + '/json').then(spec => {
      keys.value = [].concat(spec.keys).join(','); value.value = spec.value; filter.value = spec.filter || '';
      units.fill(spec.value, q.get('units'));
      if (!gone) watch();
    }).catch(e => showError(e.message));
  } else if (keys.value) form.requestSubmit();
  return () => { gone = true; window.removeEventListener('pagehide', cleanup); cleanup(); };
};
