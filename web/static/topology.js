// Topology: the network set by REST or setTopology(), each link coloured by
// its utilization; a click on a link lists its top flows.
'use strict';

// layered places a network that has levels (a tree, a leaf-spine fabric)
// in rows: the central nodes (smallest eccentricity, the busiest of them)
// on top, each further hop a row lower, each row ordered by where its
// neighbours above are. It returns null when some link joins two nodes of
// one row (a ring, a mesh), which rows cannot draw.
function layered(nodes, links, W, H) {
  const adj = new Map(nodes.map(n => [n, new Set()]));
  for (const l of links) if (adj.has(l.node1) && adj.has(l.node2) && l.node1 !== l.node2) { adj.get(l.node1).add(l.node2); adj.get(l.node2).add(l.node1); }
  const hops = from => {
    const d = new Map([[from, 0]]), queue = [from];
    while (queue.length) { const n = queue.shift(); for (const m of adj.get(n)) if (!d.has(m)) { d.set(m, d.get(n) + 1); queue.push(m); } }
    return d;
  };
  const layer = new Map();
  for (const start of nodes) {
    if (layer.has(start)) continue;
    const comp = [...hops(start).keys()];
    const ecc = new Map(comp.map(n => [n, Math.max(...hops(n).values())]));
    const minEcc = Math.min(...ecc.values());
    const centre = comp.filter(n => ecc.get(n) === minEcc), maxDeg = Math.max(...centre.map(n => adj.get(n).size));
    const roots = centre.filter(n => adj.get(n).size === maxDeg);
    const queue = [...roots];
    roots.forEach(r => layer.set(r, 0));
    while (queue.length) { const n = queue.shift(); for (const m of adj.get(n)) if (!layer.has(m)) { layer.set(m, layer.get(n) + 1); queue.push(m); } }
  }
  for (const [a, s] of adj) for (const b of s) if (layer.get(a) === layer.get(b)) return null;
  const rows = [];
  for (const n of nodes) (rows[layer.get(n)] ||= []).push(n);
  // Order each row by the mean position of its neighbours in the row above
  // (then below), a few sweeps, so that links cross little.
  const rank = new Map();
  rows.forEach(r => r.forEach((n, i) => rank.set(n, i / Math.max(1, r.length - 1))));
  const sweep = (r, ref) => {
    const at = n => { const ns = [...adj.get(n)].filter(m => layer.get(m) === ref); return ns.length ? ns.reduce((s, m) => s + rank.get(m), 0) / ns.length : rank.get(n); };
    r.sort((a, b) => at(a) - at(b) || a.localeCompare(b, undefined, {numeric: true}));
    r.forEach((n, i) => rank.set(n, i / Math.max(1, r.length - 1)));
  };
  for (let it = 0; it < 4; it++) {
    for (let i = 1; i < rows.length; i++) sweep(rows[i], i - 1);
    for (let i = rows.length - 2; i >= 0; i--) sweep(rows[i], i + 1);
  }
  const pos = {}, top = 50, gap = rows.length > 1 ? Math.min(170, (H - 2 * top) / (rows.length - 1)) : 0;
  const y0 = rows.length > 1 ? (H - gap * (rows.length - 1)) / 2 : H / 2;
  rows.forEach((r, i) => r.forEach((n, j) => { pos[n] = [W * (j + 1) / (r.length + 1), y0 + i * gap]; }));
  return pos;
}

// relax places nodes on a circle, then lets links pull and nodes push
// (a small force-directed layout), and moves nodes off links that pass
// over them, so that no link seems to run through a node it does not join.
function relax(nodes, links, W, H) {
  const pos = {}, R = Math.min(W, H) / 2 - 60;
  nodes.forEach((n, i) => { const a = 2 * Math.PI * i / nodes.length - Math.PI / 2; pos[n] = [W / 2 + R * Math.cos(a), H / 2 + R * Math.sin(a)]; });
  const k = Math.sqrt(W * H / Math.max(nodes.length, 1)) * 0.6;
  const clamp = n => { pos[n][0] = Math.min(W - 60, Math.max(60, pos[n][0])); pos[n][1] = Math.min(H - 40, Math.max(40, pos[n][1])); };
  for (let it = 0; it < 200; it++) {
    const f = Object.fromEntries(nodes.map(n => [n, [0, 0]]));
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) {
      const a = pos[nodes[i]], b = pos[nodes[j]], dx = a[0] - b[0], dy = a[1] - b[1], d = Math.max(Math.hypot(dx, dy), 1);
      const r = k * k / d / d;
      f[nodes[i]][0] += dx * r; f[nodes[i]][1] += dy * r; f[nodes[j]][0] -= dx * r; f[nodes[j]][1] -= dy * r;
    }
    for (const l of links) {
      const a = pos[l.node1], b = pos[l.node2];
      if (!a || !b || a === b) continue;
      const dx = a[0] - b[0], dy = a[1] - b[1], d = Math.max(Math.hypot(dx, dy), 1), r = d / k;
      f[l.node1][0] -= dx * r; f[l.node1][1] -= dy * r; f[l.node2][0] += dx * r; f[l.node2][1] += dy * r;
    }
    const step = 10 * (1 - it / 200);
    for (const n of nodes) {
      const [fx, fy] = f[n], m = Math.max(Math.hypot(fx, fy), 1e-9), s = Math.min(step, m);
      pos[n][0] += fx / m * s; pos[n][1] += fy / m * s;
      clamp(n);
    }
  }
  const clear = 30;
  for (let it = 0; it < 50; it++) {
    let moved = false;
    for (const n of nodes) for (const l of links) {
      if (l.node1 === n || l.node2 === n || !pos[l.node1] || !pos[l.node2]) continue;
      const [ax, ay] = pos[l.node1], [bx, by] = pos[l.node2], [px, py] = pos[n];
      const len2 = (bx - ax) ** 2 + (by - ay) ** 2 || 1, t = Math.max(0, Math.min(1, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2));
      const cx = ax + t * (bx - ax), cy = ay + t * (by - ay), d = Math.hypot(px - cx, py - cy);
      if (d >= clear) continue;
      // away from the link, sideways when the node sits on it
      let ux = px - cx, uy = py - cy;
      if (d < 1e-6) { ux = -(by - ay); uy = bx - ax; }
      const u = Math.hypot(ux, uy) || 1;
      pos[n][0] += ux / u * (clear - d + 1); pos[n][1] += uy / u * (clear - d + 1);
      clamp(n);
      moved = true;
    }
    if (!moved) break;
  }
  return pos;
}

const svgNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

views.topology = (root, q) => {
  append(root, el('h2', {}, 'Topology'));
  const box = el('div'), flowsBox = el('div', {id: 'link-flows'});
  append(root, box, flowsBox);
  const links = ownFlow('links', {keys: 'or:[link:inputifindex]:[link:outputifindex],ipsource,ipdestination', value: 'bytes', n: config.maxN}, pageLease(q));
  let defined = false, selected = null, layout = null, gone = false;
  const util = (m, ifindex) => Math.max(m[ifindex + '.ifinutilization'] || 0, m[ifindex + '.ifoututilization'] || 0);
  const heat = u => u >= 80 ? '#c62828' : u >= 50 ? '#ef6c00' : u >= 20 ? '#f9a825' : u > 0 ? '#2e7d32' : '#9aa5b1';
  const stop = every(1000, async () => {
    const topo = await request('/topology/json');
    const nodes = Object.keys(topo.nodes || {}).sort((a, b) => a.localeCompare(b, undefined, {numeric: true}));
    const allLinks = Object.entries(topo.links || {}).sort();
    if (!nodes.length) {
      put(box, el('p', {class: 'muted', id: 'no-topology'}, 'No topology is set. PUT one to /topology/json (as Mininet\'s sflow.py does) or call setTopology() from a script.'));
      return;
    }
    // gone: left while /topology/json was on its way; nothing more to do,
    // and no definition to make behind the page the user went to.
    if (gone) return;
    if (!defined) { await links.start(); defined = true; }
    if (gone) return;
    const agents = [...new Set(nodes.map(n => topo.nodes[n].agent).filter(Boolean))];
    const metrics = {};
    await Promise.all(agents.map(a => request('/metric/' + a + '/json').then(m => { metrics[a] = m; }).catch(() => { metrics[a] = {}; })));
    const W = Math.max(600, Math.min(1100, box.clientWidth || 900)), H = 480;
    const shape = W + '|' + nodes.join() + '|' + allLinks.map(([n, l]) => `${n}:${l.node1}-${l.node2}`).join();
    if (!layout || layout.shape !== shape) {
      const ls = allLinks.map(([, l]) => l);
      layout = {shape, pos: layered(nodes, ls, W, H) || relax(nodes, ls, W, H)};
    }
    const pos = n => layout.pos[n] || [0, 0];
    const picture = svg('svg', {class: 'topo', width: W, height: H, viewBox: `0 0 ${W} ${H}`});
    // Links between the same two nodes are drawn as curves apart from each
    // other (the middle one of an odd number straight).
    const pairs = new Map();
    for (const [name, l] of allLinks) {
      const key = [l.node1, l.node2].sort().join('\u0000');
      if (!pairs.has(key)) pairs.set(key, []);
      pairs.get(key).push(name);
    }
    const linkRows = [], linkLayer = svg('g'), labelLayer = svg('g');
    for (const [name, l] of allLinks) {
      const n1 = topo.nodes[l.node1] || {}, n2 = topo.nodes[l.node2] || {};
      const p1 = (n1.ports || {})[l.port1] || {}, p2 = (n2.ports || {})[l.port2] || {};
      const u = Math.max(util(metrics[n1.agent] || {}, p1.ifindex), util(metrics[n2.agent] || {}, p2.ifindex));
      linkRows.push({name, l, u});
      // the same pair in one direction for all its links, so offsets do not cancel
      const flip = l.node1 > l.node2;
      const [x1, y1] = pos(flip ? l.node2 : l.node1), [x2, y2] = pos(flip ? l.node1 : l.node2);
      const group = pairs.get([l.node1, l.node2].sort().join('\u0000')), j = group.indexOf(name);
      const off = (j - (group.length - 1) / 2) * 26, len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const nx = -(y2 - y1) / len, ny = (x2 - x1) / len, mx = (x1 + x2) / 2 + nx * off, my = (y1 + y2) / 2 + ny * off;
      // a quadratic curve through (mx, my): its control point is twice as far out
      const cx = 2 * mx - (x1 + x2) / 2, cy = 2 * my - (y1 + y2) / 2;
      const path = svg('path', {d: `M ${x1} ${y1} Q ${cx} ${cy} ${x2} ${y2}`, stroke: heat(u), 'data-link': name, class: name === selected ? 'selected' : null});
      path.append(svg('title', {}, `${name}: ${l.node1}:${l.port1} — ${l.node2}:${l.port2}, ${u.toFixed(1)}%`));
      path.addEventListener('click', () => { selected = name; });
      linkLayer.append(path);
      labelLayer.append(svg('text', {x: mx, y: my + 4, class: 'link-label', 'data-link-label': name}, u.toFixed(0) + '%'));
    }
    const nodeLayer = svg('g');
    for (const n of nodes) {
      const [x, y] = pos(n);
      // the label goes on the side away from the node's links
      let vx = 0, vy = 0;
      for (const [, l] of allLinks) {
        const o = l.node1 === n ? l.node2 : l.node2 === n ? l.node1 : null;
        if (o === null) continue;
        const [ox, oy] = pos(o), d = Math.hypot(ox - x, oy - y) || 1;
        vx += (ox - x) / d; vy += (oy - y) / d;
      }
      const v = Math.hypot(vx, vy);
      let lx = 0, ly = -1; // above, unless the links go up
      if (v > 0.3) { lx = -vx / v; ly = -vy / v; }
      const anchor = lx > 0.5 ? 'start' : lx < -0.5 ? 'end' : 'middle';
      nodeLayer.append(svg('circle', {cx: x, cy: y, r: 10, 'data-node': n}),
        // 22 px out: the text (about 16 px high, centred 5 px above its baseline) clears the circle (r 10)
        svg('text', {x: x + lx * 16, y: y + ly * 22 + 5, 'text-anchor': anchor, class: 'node-label', 'data-node-label': n}, n));
    }
    picture.append(linkLayer, labelLayer, nodeLayer);
    put(box, picture, el('div', {class: 'legend muted'}, ['idle', '< 20%', '20–50%', '50–80%', '≥ 80%'].map((s, i) =>
      el('span', {}, el('span', {class: 'swatch', style: 'background:' + heat([0, 1, 20, 50, 80][i])}), s))),
    el('h3', {}, 'Links'), table([{t: 'link', f: r => el('a', {href: 'javascript:void 0', onclick: () => { selected = r.name; }}, r.name)},
      {t: 'ends', f: r => `${r.l.node1}:${r.l.port1} — ${r.l.node2}:${r.l.port2}`}, {t: 'utilization', f: r => r.u.toFixed(1) + '%', num: true}],
    linkRows, {id: 'links'}));
    if (selected) {
      const flows = (await request(`/activeflows/ALL/${links.name}/json?maxFlows=1000`)).filter(f => f.key.startsWith(selected + ','));
      put(flowsBox, el('h3', {}, `Top flows on ${selected}`), table([{t: 'source', f: r => r.key.split(',')[1]},
        {t: 'destination', f: r => r.key.split(',')[2]}, {t: 'bits/s', f: r => si(r.value * 8), num: true}], flows.slice(0, 50), {id: 'link-flows-table'}));
    }
  });
  const cleanup = () => { links.stop(); defined = false; };
  window.addEventListener('pagehide', cleanup);
  return () => { gone = true; stop(); window.removeEventListener('pagehide', cleanup); cleanup(); };
};
