// The one navigation bar of every flowrt page (the application, the API
// explorer, the server-rendered top-flows tables): a page includes this
// script first thing in its body, and the bar is put there.
'use strict';
(() => {
  const pages = [['status', 'Status'], ['flows', 'Flow Trend'], ['metrics', 'Metrics'], ['topology', 'Topology'],
    ['largeflows', 'Large Flows'], ['events', 'Events']];
  const a = (href, text, page) => {
    const e = document.createElement('a');
    e.href = href; e.textContent = text;
    if (page) e.dataset.page = page;
    return e;
  };
  const header = document.createElement('header'), nav = document.createElement('nav'), version = document.createElement('span');
  const brand = a('/#/status', 'flowrt');
  brand.className = 'brand';
  nav.append(...pages.map(([p, t]) => a('/#/' + p, t, p)), a('/api/', 'API', 'api'));
  version.id = 'version';
  header.append(brand, nav, version);
  document.body.prepend(header);
  // The active page: the application's from its #/route, the explorer's from its path.
  const mark = () => {
    let page = '';
    if (location.pathname === '/') page = (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'status';
    else if (location.pathname.startsWith('/api/')) page = 'api';
    if (page && !pages.some(([p]) => p === page) && page !== 'api') page = 'status';
    nav.querySelectorAll('a').forEach(e => e.classList.toggle('active', e.dataset.page === page));
  };
  mark();
  window.addEventListener('hashchange', mark);
  fetch('/version').then(r => r.ok ? r.text() : '').then(v => { version.textContent = v ? 'flowrt ' + v.trim() : ''; }).catch(() => {});
})();
