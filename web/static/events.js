// Events: threshold events as they arrive, every one, newest first.
'use strict';

// mergeEvents adds what one /events/json poll returned (newest first,
// several at a time after a burst) to the list held, newest first, and
// returns the new cursor: the newest ID seen.
function mergeEvents(list, got, last) {
  const fresh = got.filter(e => e.eventID > last);
  list.unshift(...fresh.sort((a, b) => b.eventID - a.eventID));
  return fresh.length ? Math.max(last, fresh[0].eventID) : last;
}

views.events = (root) => {
  append(root, el('h2', {}, 'Events'));
  const box = el('div');
  append(root, box);
  const events = [], keep = 500;
  let last = -1;
  const ms = t => { const d = new Date(t); return clock(t) + '.' + String(d.getMilliseconds()).padStart(3, '0'); };
  return every(1000, async () => {
    // The first poll takes the newest kept; later ones everything after the
    // cursor, up to the number the page keeps, so a burst arrives whole.
    const got = await request(`/events/json?maxEvents=${keep}` + (last >= 0 ? '&eventID=' + last : ''));
    last = mergeEvents(events, got, last);
    events.splice(keep);
    put(box, events.length ? table([
      {t: '#', f: r => r.eventID, num: true}, {t: 'time', f: r => ms(r.timestamp)}, {t: 'threshold', f: r => r.thresholdID},
      {t: 'metric', f: r => r.metric}, {t: 'agent', f: r => r.agent}, {t: 'data source', f: r => r.dataSource},
      {t: 'flow', f: r => r.flowKey || ''}, {t: 'value', f: r => si(r.value), num: true}, {t: 'level', f: r => si(r.threshold), num: true},
    ], events, {id: 'events'}) : el('p', {class: 'muted', id: 'no-events'}, 'No events yet. Thresholds (PUT /threshold/{name}/json) raise them.'),
    events.length ? el('p', {class: 'muted', id: 'events-count'}, `${events.length} events` + (events.length === keep ? ` (the newest ${keep})` : '')) : null);
  });
};
