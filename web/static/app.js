// flowrt's web interface: routes #/<page>?<query> to the views the other
// scripts registered (status.js, flows.js …); each view polls its
// endpoints and stops, removing what it defined, when left.
'use strict';

let leave = null;
function route() {
  if (leave) leave();
  leave = null;
  showError('');
  const [name, query] = location.hash.replace(/^#\/?/, '').split('?');
  const view = views[name] ? name : 'status';
  put(main);
  leave = views[view](main, new URLSearchParams(query || ''));
}
window.addEventListener('hashchange', route);
route();
