// Status: the engine's health, its agents, and everything defined in it
// (flows, thresholds, group sets, forwarding, tenants, scripts), each listed.
'use strict';

const gapHelp = {
  datagrams: 'Datagrams an agent numbered that never arrived here: lost in the network, or in this host before flowrt read them ' +
    '(kernel drops, counted apart). Counted from each agent\'s datagram sequence numbers; per agent in the table below.',
  samples: 'Flow and counter samples missing from the sample sequence numbers of the agents\' data sources: lost with their ' +
    'datagrams, or dropped by the agent itself (sampling faster than it can export). Per agent in the table below.',
};

// capHelp says what each cap's counter means (docs/engine.md, "Caps").
const capHelp = {
  agentsEvicted: 'Agents evicted at agents.max, least recently heard first: a flood of spoofed agent addresses, or more real agents than the cap (raise -Dagents.max).',
  sourcesEvicted: 'Data sources evicted at agent.datasources.max (one agent) or datasources.max (all agents), least recently heard first.',
  samplesRefused: 'Samples not applied: datasources.max was reached and no data source could give way to theirs.',
  recordErrors: 'Records that did not decode inside datagrams that did (a bad sampled_header or host_descr length …): left out, the rest of the datagram applied.',
  flows: 'Flows evicted (the smallest of their table) or refused (their table had none to give up) at flow.max.',
};

// shownAgents bounds the agents table: /agents/json pages past it.
const shownAgents = 500;
// shownTenants bounds the tenants table (a shared network may define thousands).
const shownTenants = 200;

function buildText(b) {
  if (!b) return '';
  return [b.revision ? 'git ' + b.revision.slice(0, 12) + (b.modified ? ' (modified)' : '') : '', b.time || '', b.go || ''].filter(Boolean).join(' · ');
}

views.status = (root) => {
  append(root, el('h2', {}, 'Status'));
  const cards = el('div', {class: 'cards', id: 'status-cards'}), body = el('div');
  append(root, cards, body);
  let prev = null;
  return every(1000, async () => {
    const [an, agents, flows, thresholds, groups, fwd, scripts, apps, tenants] = await Promise.all([
      request('/analyzer/json'), request('/agents/json?maxAgents=' + shownAgents), request('/flow/json'), request('/threshold/json').catch(() => ({})),
      request('/groups/json').catch(() => ({})), request('/forwarding/json').catch(() => ({})), request('/scripts/json').catch(() => ({})),
      request('/apps/json').catch(() => ({})), request('/tenant/json').catch(() => ({}))]);
    const now = Date.now();
    let dps = '', sps = '';
    if (prev) {
      const dt = (now - prev.t) / 1000;
      dps = si((an.sFlowDatagramsReceived - prev.d) / dt);
      sps = si((an.sFlowSamplesReceived - prev.s) / dt);
    }
    prev = {t: now, d: an.sFlowDatagramsReceived, s: an.sFlowSamplesReceived};
    const ag = Object.entries(agents).sort((a, b) => a[0].localeCompare(b[0], undefined, {numeric: true}));
    const sampleGaps = a => a.sFlowFlowLostSamples + a.sFlowCounterLostSamples;
    const gaps = ag.reduce((s, [, a]) => s + a.sFlowDatagramsLost, 0);
    const sGaps = ag.reduce((s, [, a]) => s + sampleGaps(a), 0);
    const userFlows = Object.entries(flows).filter(([n]) => !own(n)).sort();
    const pageFlows = Object.keys(flows).length - userFlows.length;
    put(cards,
      card('version', an.version || '', false, 'flowrt ' + (an.version || '') + ' ' + buildText(an.build), buildText(an.build)), card('uptime', age(an.uptime)),
      card('datagrams/s', dps), card('samples/s', sps),
      card('kernel drops', si(an.sFlowKernelDrops || 0), an.sFlowKernelDrops > 0, 'Datagrams the kernel dropped because flowrt read its socket too slowly (SO_RXQ_OVFL).'),
      card('datagram sequence gaps', si(gaps), gaps > 0, gapHelp.datagrams), card('sample sequence gaps', si(sGaps), sGaps > 0, gapHelp.samples),
      card('decode errors', si(an.sFlowDecodeErrors), an.sFlowDecodeErrors > 0, 'Datagrams that did not decode (by reason in /analyzer/json).'),
      card('record decode errors', si(an.sFlowRecordDecodeErrors), an.sFlowRecordDecodeErrors > 0, capHelp.recordErrors),
      card('agents', si(an.sFlowAgents), false, 'Agents held; at most agents.max.', `max ${si(an.sFlowAgentsMax)}`),
      card('agents evicted', si(an.sFlowAgentsEvicted), an.sFlowAgentsEvicted > 0, capHelp.agentsEvicted),
      card('data sources', si(an.sFlowDatasources), false,
        `Data sources held, of all agents: at most datasources.max, and agent.datasources.max (${si(an.sFlowAgentDatasourcesMax)}) per agent.`, `max ${si(an.sFlowDatasourcesMax)}`),
      card('data sources evicted', si(an.sFlowDatasourcesEvicted), an.sFlowDatasourcesEvicted > 0, capHelp.sourcesEvicted),
      card('samples refused', si(an.sFlowSamplesRefused), an.sFlowSamplesRefused > 0, capHelp.samplesRefused),
      card('flows tracked', si(an.flowsTracked), false, 'Flows held by all flow tables: at most flow.max.', `max ${si(an.flowsMax)}`),
      card('flows evicted', si(an.flowsEvicted), an.flowsEvicted > 0, capHelp.flows),
      card('flows refused', si(an.flowsRefused), an.flowsRefused > 0, capHelp.flows));
    const scriptRows = Object.entries(scripts).sort();
    put(body,
      el('h3', {}, 'Agents'),
      ag.length ? [table([
        {t: 'agent', f: r => r[0]}, {t: 'last seen', f: r => age(r[1].lastSeen), num: true},
        {t: 'datagrams', f: r => si(r[1].sFlowDatagramsReceived), num: true},
        {t: 'datagram gaps', f: r => si(r[1].sFlowDatagramsLost), num: true, title: gapHelp.datagrams},
        {t: 'flow samples', f: r => si(r[1].sFlowFlowSamples), num: true},
        {t: 'counter samples', f: r => si(r[1].sFlowCounterSamples), num: true},
        {t: 'sample gaps', f: r => si(sampleGaps(r[1])), num: true, title: gapHelp.samples},
        {t: 'data sources', f: r => r[1].sFlowDatasources, num: true},
        {t: 'decode errors', f: r => si(r[1].sFlowDatagramsDecodeErrors), num: true},
        {t: 'record errors', f: r => si(r[1].sFlowRecordDecodeErrors), num: true, title: capHelp.recordErrors},
        {t: 'data sources evicted', f: r => si(r[1].sFlowDatasourcesEvicted), num: true, title: capHelp.sourcesEvicted},
        {t: 'from', f: r => (r[1].sFlowDatagramSource || []).join(' ')},
      ], ag, {id: 'agents'}),
      an.sFlowAgents > ag.length ? el('p', {class: 'muted note', id: 'agents-shown'},
        `The first ${ag.length} of ${an.sFlowAgents} agents, by address; /agents/json?offset=${ag.length} lists the next.`) : null,
      el('p', {class: 'muted note', id: 'gaps-note'}, 'Gaps are counted from sequence numbers: a datagram gap is a datagram the agent sent that did not arrive; ',
        'a sample gap is a sample an agent\'s data source numbered that is missing (lost with a datagram, or dropped by the agent). ',
        'Kernel drops are datagrams that arrived but were dropped before flowrt read them.')]
        : el('p', {class: 'muted'}, 'No agent has sent sFlow yet (UDP ' + (an.sFlowPort || 6343) + ').'),
      el('h3', {}, 'Flow definitions'),
      userFlows.length ? table([{t: 'name', f: r => r[0]}, {t: 'keys', f: r => [].concat(r[1].keys).join(',')}, {t: 'value', f: r => r[1].value},
        {t: 'filter', f: r => r[1].filter || ''}, {t: 'n', f: r => r[1].n, num: true}, {t: 't', f: r => r[1].t, num: true},
        {t: 'top flows', f: r => [el('a', {href: '#/flows?name=' + encodeURIComponent(r[0])}, 'trend'), ' ',
          el('a', {href: '/activeflows/ALL/' + encodeURIComponent(r[0]) + '/html'}, 'table')]}],
      userFlows, {id: 'flows'}) : el('p', {class: 'muted', id: 'no-flows'}, 'No flow definitions (PUT /flow/{name}/json, setFlow() or Flow Trend).'),
      pageFlows ? el('p', {class: 'muted', id: 'page-flows'}, `and ${pageFlows} of the web pages' own (ui_…), removed when the pages close or their lease lapses`) : null,
      el('h3', {}, 'Thresholds'),
      Object.keys(thresholds).length ? table([{t: 'name', f: r => r[0]}, {t: 'metric', f: r => r[1].metric},
        {t: 'level', f: r => si(r[1].value), num: true}, {t: 'by flow', f: r => r[1].byFlow ? 'yes' : 'no'},
        {t: 'timeout', f: r => r[1].timeout + ' s', num: true},
        {t: 'filter', f: r => Object.entries(r[1].filter || {}).map(([k, v]) => k + '=' + [].concat(v).join('|')).join(' & ')}],
      Object.entries(thresholds).sort(), {id: 'thresholds'}) : el('p', {class: 'muted', id: 'no-thresholds'}, 'No thresholds (PUT /threshold/{name}/json or setThreshold()).'),
      el('h3', {}, 'Address groups'),
      Object.keys(groups).length ? table([
        {t: 'group set', f: r => el('a', {href: r[0] === '(default)' ? '/group/json' : '/group/' + encodeURIComponent(r[0]) + '/json'}, r[0])},
        {t: 'groups', f: r => r[1].labels, num: true}, {t: 'prefixes', f: r => si(r[1].prefixes), num: true},
        {t: 'keys', f: r => r[0] === '(default)' ? 'sourcegroup, destinationgroup' : `group:<address key>:${r[0]}`}],
      Object.entries(groups).sort(), {id: 'groups'}) : el('p', {class: 'muted', id: 'no-groups'}, 'No address groups (PUT /group/json or setGroups()).'),
      el('h3', {}, 'Forwarding'),
      Object.keys(fwd).length ? table([{t: 'session', f: r => r[0]},
        {t: 'target', f: r => `${r[1].address}:${r[1].port || 6343}`},
        {t: 'agents', f: r => (r[1].agents || []).join(' ') || 'all'},
        // every counter the session reports, whatever the engine counts
        {t: 'counts', f: r => Object.entries(r[1]).filter(([k, v]) => typeof v === 'number' && k !== 'port').map(([k, v]) => `${k} ${si(v)}`).join(' · ')}],
      Object.entries(fwd).sort(), {id: 'forwarding'}) : el('p', {class: 'muted', id: 'no-forwarding'}, 'No forwarding sessions (PUT /forwarding/{name}/json).'),
      el('h3', {}, 'Tenants'),
      Object.keys(tenants).length ? table([{t: 'tenant', f: r => el('a', {href: '/tenant/' + encodeURIComponent(r[0]) + '/json'}, r[0])},
        {t: 'collector', f: r => `${r[1].collectorAddress}:${r[1].collectorPort}`},
        {t: 'filters', f: r => Object.entries(r[1].filters || {}).map(([k, v]) => `${k} ${v.length}`).join(' · ')},
        {t: 'counts', f: r => Object.entries(r[1]).filter(([k, v]) => typeof v === 'number' && k !== 'collectorPort').map(([k, v]) => `${k} ${si(v)}`).join(' · ')}],
      Object.entries(tenants).sort().slice(0, shownTenants), {id: 'tenants'}) : el('p', {class: 'muted', id: 'no-tenants'}, 'No tenants (PUT /tenant/{name}/json).'),
      Object.keys(tenants).length > shownTenants ? el('p', {class: 'muted'}, `The first ${shownTenants} of ${Object.keys(tenants).length} tenants (all in /tenant/json).`) : null,
      el('h3', {}, 'Exports'),
      exportsTable(an.exports || {}),
      el('h3', {}, 'Scripts and applications'),
      scriptRows.length ? table([
        {t: 'script', f: r => r[0]}, {t: 'state', f: r => el('span', {class: r[1].loadError || r[1].error ? 'bad' : 'ok'}, scriptState(r[1]))},
        {t: 'errors', f: r => si(r[1].errors || 0), num: true},
        {t: 'flows', f: r => si(r[1].flowsReceived), num: true}, {t: 'events', f: r => si(r[1].eventsReceived), num: true},
        {t: 'lost', f: r => si(r[1].flowsLost + r[1].eventsLost + r[1].requestsLost), num: true},
        {t: 'CPU ms', f: r => si(r[1].cpuMs), num: true}, {t: 'error', f: r => r[1].loadError || r[1].error || '', cls: 'err'},
      ], scriptRows, {id: 'scripts'}) : el('p', {class: 'muted'}, 'No scripts (-Dscript.file= or app/<name>/scripts/).'),
      Object.keys(apps).length ? table([
        {t: 'application', f: r => r[1].entry ? el('a', {href: '/app/' + r[0] + r[1].entry}, r[0]) : r[0]},
        {t: 'scripts', f: r => (r[1].scripts || []).join(', ')},
        {t: 'state', f: r => {
          const bad = (r[1].scripts || []).some(f => { const x = scripts[f] || {}; return x.error || x.loadError; });
          return el('span', {class: bad ? 'bad' : 'ok'}, bad ? 'error' : 'ok');
        }}], Object.entries(apps).sort(), {id: 'apps'}) : null);
  });
};

// scriptState says in a word what /scripts/json says of a script: one that
// did not load (a missing file, a syntax error) is not "stopped".
function scriptState(x) {
  if (!x.alive) return x.loadError ? 'did not load' : x.gracefulExit ? 'ended' : 'stopped';
  return x.loadError ? 'load error' : x.error ? 'error' : 'running';
}

// exportsTable lists /analyzer/json's exports (Kafka, ClickHouse, InfluxDB,
// IPFIX, NetFlow): one row per exporter, then one per reason it dropped
// records for, each count exact (the loss is counted exactly, so it is
// shown exactly, not rounded).
function exportsTable(ex) {
  const names = Object.keys(ex).sort();
  if (!names.length) return el('p', {class: 'muted', id: 'no-exports'}, 'No exports (Kafka, ClickHouse, InfluxDB, IPFIX/NetFlow: docs/exports.md).');
  const rows = [];
  for (const n of names) {
    const x = ex[n], reasons = Object.entries(x.dropped || {}).sort();
    const lost = reasons.reduce((s, [, v]) => s + v, 0);
    rows.push({n, x, reason: reasons.length ? 'in all' : '', dropped: lost, err: x.lastError || ''});
    for (const [r, v] of reasons) rows.push({n, reason: r, dropped: v, sub: true});
  }
  return table([
    {t: 'exporter', f: r => r.sub ? '' : r.n},
    {t: 'destination', f: r => r.sub ? '' : r.x.destination || ''},
    {t: 'sent', f: r => r.sub ? '' : String(r.x.sent || 0), num: true, title: 'Records delivered: lines, messages or rows.'},
    {t: 'batches', f: r => r.sub ? '' : String(r.x.batches || 0), num: true},
    {t: 'drop reason', f: r => r.reason},
    {t: 'dropped', f: r => el('span', {class: r.dropped ? 'bad' : ''}, String(r.dropped)), num: true,
      title: 'Records lost, in all and by reason: the collector never waits for an export.'},
    {t: 'last error', f: r => r.err || '', cls: 'err'},
  ], rows, {id: 'exports'});
}
