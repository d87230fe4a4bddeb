// Trend keeps a time window of values per series and draws them, stacked
// or not, with uPlot; the set of series may change from one point to the
// next. Values are kept as shown (the engine's number × the unit's
// factor), so a change of unit rescales the window once rather than every
// point on every draw. Without uPlot it draws nothing and says so.
'use strict';

// Time ticks: whole seconds and minutes, written hh:mm:ss.
const tickSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

class Trend {
  constructor(parent, {stacked = false, windowMs = 300000, height = 420, unit = '', factor = 1, max = 1000, minSpanS = 60} = {}) {
    Object.assign(this, {stacked, windowMs, height, unit, factor, max, minSpanS});
    this.times = []; this.series = new Map(); // key → values aligned with times
    this.paused = false; this.plot = null; this.keys = [];
    this.box = el('div', {class: 'chart', 'data-series': 0, 'data-points': 0});
    this.box.trend = this; // for the browser tests: the chart's ticks and legend
    parent.append(this.box);
    if (!charts) this.box.append(el('div', {class: 'note', text: 'Charts are not in this build (bash scripts/assets); the table shows the values.'}));
    // The chart follows its column's width: drawn at the width it had when
    // the first point came, it would overlap what is beside it.
    this.resize = new ResizeObserver(() => {
      const w = this.width();
      if (this.plot && w !== this.plot.width) this.plot.setSize({width: w, height: this.height});
    });
    this.resize.observe(this.box);
  }

  width() { return Math.max(300, this.box.clientWidth - 12); }

  // push adds a point: values maps series keys to the engine's numbers.
  push(t, values) {
    this.times.push(t / 1000);
    for (const arr of this.series.values()) arr.push(null);
    const n = this.times.length;
    for (const [k, v] of Object.entries(values)) {
      let arr = this.series.get(k);
      if (!arr) { arr = new Array(n).fill(null); this.series.set(k, arr); }
      arr[n - 1] = v * this.factor;
    }
    const cut = this.times.findIndex(x => x * 1000 >= t - this.windowMs);
    if (cut > 0) {
      this.times.splice(0, cut);
      for (const [k, arr] of this.series) { arr.splice(0, cut); if (arr.every(v => v === null)) this.series.delete(k); }
    }
    if (!this.paused) this.draw();
  }

  // setUnit changes the unit the window is shown in.
  setUnit(unit, factor) {
    const r = factor / this.factor;
    if (r !== 1) for (const arr of this.series.values()) for (let i = 0; i < arr.length; i++) if (arr[i] !== null) arr[i] *= r;
    this.unit = unit; this.factor = factor;
    if (this.plot) { this.plot.destroy(); this.plot = null; }
    this.draw();
  }

  // latest is a series' newest value (as shown), or null.
  latest(k) { const arr = this.series.get(k); return arr ? arr[arr.length - 1] : null; }

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
    this.box.dataset.unit = this.unit;
    this.raw = raw; this.rank = keys;
    if (!charts) return;
    // Stacked: cumulative from the largest up. With the legend shown (a
    // few series) the series go largest first, each band filled down to
    // the one below it, so the legend reads as the table does; with many,
    // they are drawn from the top down, each fill to zero covering the
    // bands below it but its own, which costs no band clipping.
    let data = raw;
    const banded = this.stacked && keys.length <= 12;
    if (this.stacked) {
      const cum = []; let acc = new Array(this.times.length).fill(0);
      for (const arr of raw) { acc = acc.map((a, i) => a + (arr[i] || 0)); cum.push(acc); }
      data = banded ? cum : cum.reverse();
    }
    const order = this.stacked && !banded ? keys.slice().reverse() : keys;
    const same = order.length === this.keys.length && order.every((k, i) => k === this.keys[i]);
    if (!this.plot || !same) this.build(order, keys, banded);
    const t1 = performance.now();
    this.plot.setData([this.times, ...data]);
    this.box.dataset.prepMs = (t1 - t0).toFixed(1);
    this.box.dataset.setMs = (performance.now() - t1).toFixed(1);
    // what one update costs, drawing included (uPlot paints before the next frame), for the tests' record
    requestAnimationFrame(() => { this.box.dataset.drawMs = (performance.now() - t0).toFixed(1); });
  }

  build(order, keys, banded) {
    if (this.plot) this.plot.destroy();
    this.keys = order;
    const self = this;
    // Away from the chart the legend shows the newest point.
    const at = idx => idx === null || idx === undefined ? self.times.length - 1 : idx;
    const series = [{value: (u, v, sidx, idx) => self.times.length ? clock(self.times[at(idx)] * 1000) : ''}].concat(order.map(k => {
      const c = color(keys.indexOf(k));
      return {
        // many stacked bands: fills alone (strokes would double the drawing)
        label: k, stroke: c, width: this.stacked && order.length > 50 ? 0 : 1, fill: this.stacked ? c + 'cc' : undefined, points: {show: false},
        // the legend shows the series' own value, not the stacked sum
        value: (u, v, sidx, idx) => {
          const arr = self.raw && self.raw[self.rank.indexOf(k)], i = at(idx);
          return arr && arr[i] !== null && arr[i] !== undefined ? si(arr[i]) + ' ' + self.unit : '';
        },
      };
    }));
    const minSpan = this.minSpanS;
    this.plot = new uPlot({
      width: this.width(), height: this.height, series,
      scales: {
        // live: at least minSpan seconds wide, ending at the newest point
        x: {time: true, range: (u, min, max) => [Math.min(min, max - minSpan), max]},
        y: {range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1]},
      },
      axes: [
        {incrs: tickSteps, space: 80, values: (u, ticks) => ticks.map(t => clock(t * 1000))},
        {values: (u, vals) => vals.map(v => si(v)), size: 64, label: this.unit, labelSize: 18},
      ],
      legend: {show: order.length <= 12}, // beyond that the table beside the chart is the legend
      bands: banded ? order.slice(1).map((k, i) => ({series: [i + 2, i + 1]})) : [],
      cursor: {drag: {x: true, y: false}},
      hooks: {setSelect: [u => { if (u.select.width > 0) self.setPaused(true); }]},
    }, [this.times, ...order.map(() => [])], this.box);
  }

  setPaused(p) {
    this.paused = p;
    if (this.onpause) this.onpause(p);
    if (!p && this.plot) { this.plot.setScale('x', {min: this.times[0], max: this.times[this.times.length - 1]}); this.draw(); }
  }

  destroy() { this.resize.disconnect(); if (this.plot) this.plot.destroy(); this.plot = null; }
}
