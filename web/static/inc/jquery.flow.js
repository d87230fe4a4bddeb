/* flowrt: the particle widget, $.inmon.flow, that pages written for
 * sFlow-RT load from ../../../inc/jquery.flow.js. flowrt's own code
 * (Apache-2.0), written from how those pages call it:
 *
 *   var w = $('#traffic').flow({velocity, radius, maxProbability, height, seed,
 *                               axisN:'Internet', axisS, axisE, axisW});
 *   w.flow('data', [{startSide:'N'|'S'|'E'|'W', startVal:0..1, endSide, endVal,
 *                    type:'6', frequency:log10(rate), info:[{name, value}, …]}, …]);
 *   w.on('flowclick', function(e, flow) { … });
 *   w.flow('lastData'), w.flow('particles')    // the flows given, particles moving now
 *
 * A square with one labelled side per compass point; each flow sends
 * particles from its place on one side to its place on another, more often
 * the larger its frequency, coloured by type. Clicking near a particle
 * gives its flow.
 * It needs a widget factory: jQuery UI's, or flowrt's jquery.widget.js.
 */
(function($) {
  'use strict';
  if (!$ || !$.widget) throw new Error('jquery.flow.js needs jQuery and a widget factory: load ../../../inc/jquery.widget.js (or jQuery UI) first');

  var typeColors = {'1': '#ff9900', '6': '#3366cc', '17': '#109618', '47': '#990099', '50': '#dc3912'};

  $.widget('inmon.flow', {
    options: {velocity: 0.25, radius: 2, maxProbability: 0.2, height: '600px', seed: 1234,
      axisN: 'N', axisS: 'S', axisE: 'E', axisW: 'W', background: '#ffffff', font: '13px sans-serif'},

    _create: function() {
      var self = this, o = this.options;
      this.element.addClass('flow');
      this._canvas = $('<canvas class="flow-canvas"></canvas>').css({display: 'block', width: '100%', height: o.height}).appendTo(this.element);
      this._flows = [];
      this._particles = [];
      this._seed = (+o.seed || 1) >>> 0;
      this._last = 0;
      this._canvas.on('click.flow', function(e) {
        var r = this.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top, best = null, bd = 64;
        self._particles.forEach(function(p) {
          var d = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y);
          if (d < bd) { bd = d; best = p.flow; }
        });
        if (best) self._trigger('click', e, best);
      });
      var tick = function(t) {
        if (!self._canvas) return;
        self._step(t);
        self._frame = window.requestAnimationFrame(tick);
      };
      this._frame = window.requestAnimationFrame(tick);
    },

    _destroy: function() {
      window.cancelAnimationFrame(this._frame);
      this._canvas.remove();
      this._canvas = null;
      this.element.removeClass('flow');
    },

    // _random is a small seeded generator, so a seed gives the same picture.
    _random: function() {
      this._seed = (this._seed * 1664525 + 1013904223) >>> 0;
      return this._seed / 4294967296;
    },

    data: function(flows) { this._flows = Array.isArray(flows) ? flows : []; },
    lastData: function() { return this._flows.slice(); },
    particles: function() { return this._particles.length; },

    _point: function(side, v, w, h, m) {
      v = Math.max(0, Math.min(1, +v || 0));
      switch (side) {
      case 'N': return {x: m + v * (w - 2 * m), y: m};
      case 'S': return {x: m + v * (w - 2 * m), y: h - m};
      case 'E': return {x: w - m, y: m + v * (h - 2 * m)};
      default: return {x: m, y: m + v * (h - 2 * m)};
      }
    },

    _step: function(t) {
      var canvas = this._canvas[0], o = this.options, self = this;
      var w = canvas.clientWidth, h = canvas.clientHeight;
      var dt = this._last ? Math.min(0.1, (t - this._last) / 1000) : 0;
      this._last = t;
      if (!w || !h) return;
      var dpr = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
      var g = canvas.getContext('2d'), m = 24;
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.fillStyle = o.background;
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#555'; g.font = o.font; g.textAlign = 'center'; g.textBaseline = 'middle';
      g.fillText(o.axisN, w / 2, 10); g.fillText(o.axisS, w / 2, h - 10);
      g.save(); g.translate(w - 10, h / 2); g.rotate(Math.PI / 2); g.fillText(o.axisE, 0, 0); g.restore();
      g.save(); g.translate(10, h / 2); g.rotate(-Math.PI / 2); g.fillText(o.axisW, 0, 0); g.restore();
      g.strokeStyle = '#ddd'; g.strokeRect(m, m, w - 2 * m, h - 2 * m);

      var maxF = 0;
      this._flows.forEach(function(f) { maxF = Math.max(maxF, +f.frequency || 0); });
      this._flows.forEach(function(f) {
        var p = maxF > 0 ? o.maxProbability * Math.max(0, +f.frequency || 0) / maxF : 0;
        if (self._particles.length < 5000 && self._random() < p) {
          var a = self._point(f.startSide, f.startVal, w, h, m), b = self._point(f.endSide, f.endVal, w, h, m);
          self._particles.push({ax: a.x, ay: a.y, bx: b.x, by: b.y, s: 0, x: a.x, y: a.y, flow: f});
        }
      });
      var speed = o.velocity * dt; // fraction of the path per second
      this._particles = this._particles.filter(function(p) {
        p.s += speed;
        p.x = p.ax + (p.bx - p.ax) * p.s;
        p.y = p.ay + (p.by - p.ay) * p.s;
        if (p.s >= 1) return false;
        g.fillStyle = typeColors[p.flow.type] || '#666';
        g.beginPath(); g.arc(p.x, p.y, +o.radius || 2, 0, 2 * Math.PI); g.fill();
        return true;
      });
    }
  });
})(window.jQuery);
