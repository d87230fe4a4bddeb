// Large Flows: the SC13 large-flow demo's picture. Twice a second the page
// asks for the largest 100 flows and draws each IP address as a dot, each
// address group (setGroups, /group/json) as a circle holding its
// addresses, and each flow as a line from source to destination whose
// width is its rate and whose colour is its traffic type. Drawn on a
// canvas (some hundred shapes, redrawn each frame while the widths move
// to their new values); the geometry is also in window.largeFlows and the
// top flows in a table, for reading and for the tests.
'use strict';

// Traffic types, by protocol and service port (the well-known end of the
// flow: web replies come from port 443, requests go to it).
const trafficTypes = [
  {name: 'Web', color: '#1565c0', ports: [80, 443, 8080, 8443]},
  {name: 'DNS', color: '#2e7d32', ports: [53]},
  {name: 'SSH', color: '#6a1b9a', ports: [22]},
  {name: 'Mail', color: '#ef6c00', ports: [25, 110, 143, 465, 587, 993, 995]},
  {name: 'Other TCP', color: '#00838f', proto: ['6']},
  {name: 'Other UDP', color: '#b8860b', proto: ['17']},
  {name: 'ICMP', color: '#c62828', proto: ['1', '58']},
  {name: 'Other', color: '#757575'},
];

function trafficType(proto, sport, dport) {
  const s = +sport, d = +dport, known = p => p > 0 && p < 1024;
  const service = known(s) && !known(d) ? s : known(d) && !known(s) ? d : Math.min(s || d, d || s);
  if (proto === '6' || proto === '17') {
    const t = trafficTypes.find(x => x.ports && x.ports.includes(service));
    if (t) return t;
  }
  return trafficTypes.find(x => x.proto && x.proto.includes(proto)) || trafficTypes[trafficTypes.length - 1];
}

// The flow's fields, joined with '|' (a group label may hold commas).
const largeKeys = set => {
  const group = (addr, dflt) => set ? `null:[group:[or:${addr}:ip6${addr.slice(2)}]:${set}]:~` : `null:${dflt}:~`;
  return ['or:ipsource:ip6source', 'or:ipdestination:ip6destination', group('ipsource', 'sourcegroup'), group('ipdestination', 'destinationgroup'),
    'null:[or:ipprotocol:ip6nexthdr]:~', 'null:[or:tcpsourceport:udpsourceport]:~', 'null:[or:tcpdestinationport:udpdestinationport]:~'].join(',');
};

views.largeflows = (root, q) => {
  append(root, el('h2', {}, 'Large Flows'));
  const setSelect = el('select', {name: 'groups', id: 'group-set'}, el('option', {value: ''}, 'default (/group/json)'));
  const top = el('input', {name: 'maxFlows', type: 'number', min: 1, max: 1000, value: q.get('maxFlows') || 100});
  const form = el('form', {class: 'bar'}, el('label', {}, 'Address groups', setSelect), el('label', {}, 'Top', top),
    el('button', {type: 'submit'}, 'Show'));
  const info = el('p', {class: 'muted', id: 'large-info'}, 'Dots are addresses, circles their groups, lines flows: width the rate, colour the traffic type.');
  const legend = el('div', {class: 'legend muted', id: 'large-legend'}, trafficTypes.map(t => el('span', {}, el('span', {class: 'swatch', style: 'background:' + t.color}), t.name)));
  const wrap = el('div', {class: 'large-wrap'}), canvas = el('canvas', {id: 'large-flows'});
  const tableBox = el('div', {id: 'large-table'});
  append(wrap, canvas);
  append(root, form, info, legend, wrap, tableBox);

  const W = () => Math.max(600, Math.min(1400, wrap.clientWidth || 1000)), H = 640;
  // Addresses keep their place while they stay in the top flows: a group's
  // addresses in the order they came, placed on a sunflower spiral.
  const groups = new Map(); // label → {addrs: Map(addr → last seen ms), defined: [cidrs]}
  let defs = {}, flows = [], prev = new Map(), shown = new Map(), tween = null, stopPoll = null, flow = null, left = false;
  let frames = 0, frameSum = 0, frameMax = 0;

  const place = (w, h) => {
    const list = [...groups.entries()].filter(([, g]) => g.addrs.size).sort((a, b) => a[0] === '~' ? 1 : b[0] === '~' ? -1 : a[0].localeCompare(b[0], undefined, {numeric: true}));
    const n = list.length, gap = 40, top = 26; // room for a circle's label above it
    // Circles: one in the middle, two side by side, more around an ellipse
    // (each taking an arc as wide as it is); the dots' spacing shrinks until
    // the circles fit the canvas without touching.
    const arrange = spacing => {
      const rs = list.map(([, g]) => spacing * Math.sqrt(g.addrs.size) + 14);
      let cs;
      if (n === 1) cs = [[w / 2, h / 2 + top / 2]];
      else if (n === 2) {
        const total = 2 * rs[0] + 2 * rs[1] + 3 * gap, x0 = w / 2 - total / 2 + rs[0] + gap;
        cs = [[x0, h / 2 + top / 2], [x0 + rs[0] + 3 * gap + rs[1] - gap, h / 2 + top / 2]];
      } else {
        const big = Math.max(...rs), rx = w / 2 - big - 20, ry = (h - top) / 2 - big - 12;
        const arcs = rs.map(r => 2 * r + gap), sum = arcs.reduce((x, y) => x + y, 0);
        let acc = 0;
        cs = rs.map((r, i) => { const th = -Math.PI / 2 + 2 * Math.PI * (acc + arcs[i] / 2) / sum; acc += arcs[i]; return [w / 2 + rx * Math.cos(th), top / 2 + h / 2 + ry * Math.sin(th)]; });
      }
      const inside = cs.every(([x, y], i) => x - rs[i] >= 8 && x + rs[i] <= w - 8 && y - rs[i] >= top && y + rs[i] <= h - 8);
      const apart = cs.every(([x, y], i) => cs.every(([u, v], j) => j <= i || Math.hypot(x - u, y - v) >= rs[i] + rs[j] + 16));
      return {rs, cs, ok: inside && apart};
    };
    let spacing = 12, f = arrange(spacing);
    while (!f.ok && spacing > 2) { spacing *= 0.92; f = arrange(spacing); }
    const out = {groups: [], dots: new Map(), cx: w / 2, cy: h / 2 + top / 2, spacing};
    list.forEach(([label, g], i) => {
      const [x, y] = f.cs[i];
      out.groups.push({label, x, y, r: f.rs[i], n: g.addrs.size, cidrs: defs[label] || []});
      [...g.addrs.keys()].forEach((addr, j) => {
        const rho = spacing * Math.sqrt(j + 0.5), th = j * 2.399963229728653; // the golden angle
        out.dots.set(addr, {addr, group: label, x: x + rho * Math.cos(th), y: y + rho * Math.sin(th)});
      });
    });
    return out;
  };

  const draw = (geo, mix) => {
    const t0 = performance.now();
    const w = W(), dpr = window.devicePixelRatio || 1;
    if (canvas.width !== w * dpr || canvas.height !== H * dpr) { canvas.width = w * dpr; canvas.height = H * dpr; canvas.style.width = w + 'px'; canvas.style.height = H + 'px'; }
    const c = canvas.getContext('2d');
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, w, H);
    c.lineCap = 'round';
    for (const g of geo.groups) {
      c.beginPath(); c.arc(g.x, g.y, g.r, 0, 2 * Math.PI);
      c.fillStyle = g.label === '~' ? '#f4f4f4' : '#eef3f8'; c.fill();
      c.strokeStyle = '#9fb3c8'; c.lineWidth = 1.5; c.stroke();
    }
    // Flows, thinnest first so the large ones lie on top; each bows towards
    // the middle (within a group, towards the group's centre).
    const lines = geo.lines.map(l => ({...l, w: l.from + (l.width - l.from) * mix})).filter(l => l.w > 0.05).sort((a, b) => a.w - b.w);
    for (const l of lines) {
      const s = geo.dots.get(l.src), d = geo.dots.get(l.dst);
      if (!s || !d) continue;
      const g = s.group === d.group ? geo.groups.find(x => x.label === s.group) : null;
      const px = g ? g.x : geo.cx, py = g ? g.y : geo.cy, mx = (s.x + d.x) / 2, my = (s.y + d.y) / 2;
      c.beginPath(); c.moveTo(s.x, s.y);
      c.quadraticCurveTo(mx + (px - mx) * 0.5, my + (py - my) * 0.5, d.x, d.y);
      c.strokeStyle = l.color; c.globalAlpha = 0.78; c.lineWidth = l.w; c.stroke();
    }
    c.globalAlpha = 1;
    for (const d of geo.dots.values()) { c.beginPath(); c.arc(d.x, d.y, 3, 0, 2 * Math.PI); c.fillStyle = '#243b53'; c.fill(); }
    c.font = '13px system-ui, sans-serif'; c.textAlign = 'center'; c.lineJoin = 'round';
    const label = (text, x, y, bold) => {
      c.font = (bold ? '600 ' : '') + '13px system-ui, sans-serif';
      c.strokeStyle = 'rgba(255,255,255,.9)'; c.lineWidth = 4; c.strokeText(text, x, y); c.fillStyle = '#1d2733'; c.fillText(text, x, y);
    };
    // Labels: the groups', then the busiest addresses' where they do not
    // cover one already written.
    const taken = [];
    const free = (text, x, y, bold) => {
      c.font = (bold ? '600 ' : '') + '13px system-ui, sans-serif';
      const tw = c.measureText(text).width, box = [x - tw / 2 - 2, y - 13, x + tw / 2 + 2, y + 3];
      if (taken.some(b => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) return false;
      taken.push(box);
      return true;
    };
    for (const g of geo.groups) {
      const text = `${g.label === '~' ? 'not in a group' : g.label} (${g.n})`;
      free(text, g.x, g.y - g.r - 8, true);
      label(text, g.x, g.y - g.r - 8, true);
    }
    geo.labelled = [];
    for (const a of geo.busiest) {
      const d = geo.dots.get(a);
      if (d && free(a, d.x, d.y - 7)) { label(a, d.x, d.y - 7); geo.labelled.push(a); }
    }
    const ms = performance.now() - t0;
    frames++; frameSum += ms; frameMax = Math.max(frameMax, ms);
    Object.assign(canvas.dataset, {frameMs: ms.toFixed(2), frameMeanMs: (frameSum / frames).toFixed(2), frameMaxMs: frameMax.toFixed(2), frames});
  };

  // animate moves the widths from the last poll's to this one's over 400 ms.
  const animate = geo => {
    if (tween) cancelAnimationFrame(tween);
    const t0 = performance.now();
    const step = now => {
      const mix = Math.min(1, (now - t0) / 400);
      draw(geo, mix);
      tween = mix < 1 ? requestAnimationFrame(step) : null;
    };
    tween = requestAnimationFrame(step);
  };

  const update = got => {
    const t0 = performance.now(), now = Date.now();
    flows = got.map(f => {
      const [src, dst, sg, dg, proto, sport, dport] = f.key.split('|');
      return {key: f.key, src, dst, sg, dg, proto, sport, dport, value: f.value, type: trafficType(proto, sport, dport)};
    }).filter(f => f.src && f.dst);
    for (const f of flows) {
      for (const [a, g] of [[f.src, f.sg], [f.dst, f.dg]]) {
        for (const [label, x] of groups) if (label !== g) x.addrs.delete(a); // an address whose group changed moves
        if (!groups.has(g)) groups.set(g, {addrs: new Map()});
        groups.get(g).addrs.set(a, now);
      }
    }
    // Addresses out of the top for 30 s leave their circle.
    for (const g of groups.values()) for (const [a, t] of g.addrs) if (now - t > 30000) g.addrs.delete(a);
    const geo = place(W(), H);
    const max = Math.max(...flows.map(f => f.value), 1e-9);
    // width: in proportion to the rate, the largest 10 px (and none thinner
    // than 0.75 px, to stay visible)
    const width = v => Math.max(0.75, 10 * v / max);
    const next = new Map(flows.map(f => [f.key, width(f.value)]));
    geo.lines = flows.map(f => ({key: f.key, src: f.src, dst: f.dst, value: f.value, width: next.get(f.key), from: shown.get(f.key) ?? 0,
      color: f.type.color, type: f.type.name}));
    // flows that left the top fade out
    for (const [k, w] of shown) if (!next.has(k)) {
      const old = prev.get(k);
      if (old) geo.lines.push({...old, width: 0, from: w});
    }
    const perAddr = new Map();
    for (const f of flows) for (const a of [f.src, f.dst]) perAddr.set(a, (perAddr.get(a) || 0) + f.value);
    geo.busiest = [...perAddr.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([a]) => a);
    prev = new Map(geo.lines.filter(l => l.width > 0).map(l => [l.key, l]));
    shown = next;
    window.largeFlows = {groups: geo.groups, dots: [...geo.dots.values()], lines: geo.lines.filter(l => l.width > 0), busiest: geo.busiest, max};
    canvas.dataset.flows = flows.length; canvas.dataset.addresses = geo.dots.size; canvas.dataset.groups = geo.groups.length;
    canvas.dataset.updateMs = (performance.now() - t0).toFixed(2);
    animate(geo);
    info.textContent = `${flows.length} flows between ${geo.dots.size} addresses in ${geo.groups.filter(g => g.label !== '~').length} groups` +
      (groups.has('~') && groups.get('~').addrs.size ? ` (and ${groups.get('~').addrs.size} addresses in no group)` : '') + ` · largest ${si(max * 8)} bits/s`;
    put(tableBox, el('h3', {}, 'Largest flows'), table([
      {t: 'source', f: r => r.src}, {t: 'group', f: r => r.sg === '~' ? '' : r.sg}, {t: 'destination', f: r => r.dst}, {t: 'group', f: r => r.dg === '~' ? '' : r.dg},
      {t: 'type', f: r => el('span', {}, el('span', {class: 'swatch', style: 'background:' + r.type.color}), r.type.name)},
      {t: 'protocol', f: r => r.proto}, {t: 'ports', f: r => r.sport === '~' ? '' : `${r.sport} → ${r.dport}`},
      {t: 'bits/s', f: r => si(r.value * 8), num: true}], flows.slice(0, 20), {id: 'large-flows-table'}));
  };

  const start = async () => {
    if (stopPoll) stopPoll();
    if (flow) flow.stop();
    groups.clear(); shown = new Map(); prev = new Map();
    const set = setSelect.value, n = Math.max(1, Math.min(1000, +top.value || 100));
    defs = await request(set ? `/group/${encodeURIComponent(set)}/json` : '/group/json').catch(() => ({}));
    if (left) return;
    flow = ownFlow('largeflows', {keys: largeKeys(set), value: 'bytes', fs: '|', n: config.maxN}, pageLease(q));
    await flow.start();
    // The awaits above take a while on a loaded engine; a user who left in the
    // meantime must not be pulled back here by the replaceState, nor leave a
    // poll and a flow running behind the page they went to.
    if (left) { flow.stop(); return; }
    history.replaceState(null, '', '#/largeflows?' + new URLSearchParams({groups: set, maxFlows: n}));
    stopPoll = every(500, async () => update(await request(`/activeflows/ALL/${flow.name}/json?maxFlows=${n}`)));
  };
  form.addEventListener('submit', ev => { ev.preventDefault(); start().catch(e => showError(e.message)); });
  request('/groups/json').then(gs => {
    for (const name of Object.keys(gs).filter(n => n !== '(default)').sort()) setSelect.append(el('option', {value: name}, name));
    if (q.get('groups')) setSelect.value = q.get('groups');
  }).catch(() => {}).finally(() => start().catch(e => showError(e.message)));
  const cleanup = () => { if (flow) flow.stop(); };
  window.addEventListener('pagehide', cleanup);
  return () => {
    left = true;
    if (stopPoll) stopPoll();
    if (tween) cancelAnimationFrame(tween);
    window.removeEventListener('pagehide', cleanup);
    cleanup();
  };
};
