/* flowrt: the heatmap widget, $.inmon.heatmap, that pages written for
 * sFlow-RT load from ../../../inc/jquery.heatmap.js. flowrt's own code
 * (Apache-2.0), written from how those pages call it:
 *
 *   var w = $('#traffic').heatmap({radius: 4});     // options the app's script serves
 *   w.heatmap('draw', [{x: 0..1, y: 0..1, z: 0..1}, …]);
 *   w.heatmap('lastData')                           // what was drawn last
 *
 * Each point is a dot at (x, y) of a square (x: source, y: destination),
 * coloured from blue (z 0) to red (z 1).
 * It needs a widget factory: jQuery UI's, or flowrt's jquery.widget.js.
 */
(function($) {
  'use strict';
  if (!$ || !$.widget) throw new Error('jquery.heatmap.js needs jQuery and a widget factory: load ../../../inc/jquery.widget.js (or jQuery UI) first');

  function color(z) {
    z = Math.max(0, Math.min(1, +z || 0));
    return 'hsl(' + Math.round(240 * (1 - z)) + ',90%,50%)'; // 240 blue … 0 red
  }

  $.widget('inmon.heatmap', {
    options: {radius: 3, background: '#ffffff', axisColor: '#999999', font: '11px sans-serif',
      xLabel: 'Source', yLabel: 'Destination'},

    _create: function() {
      this.element.addClass('heatmap');
      this._canvas = $('<canvas class="heatmap-canvas"></canvas>').css({display: 'block', width: '100%'}).appendTo(this.element);
      this._data = [];
    },

    _destroy: function() { this._canvas.remove(); this.element.removeClass('heatmap'); },

    lastData: function() { return this._data.slice(); },

    draw: function(data) {
      this._data = Array.isArray(data) ? data : [];
      var canvas = this._canvas[0], o = this.options;
      var w = canvas.clientWidth;
      if (!w) return;
      var h = Math.min(w, Math.max(200, window.innerHeight - canvas.getBoundingClientRect().top - 20));
      var dpr = window.devicePixelRatio || 1;
      canvas.style.height = h + 'px';
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      var g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.fillStyle = o.background;
      g.fillRect(0, 0, w, h);
      var m = 20, pw = w - 2 * m, ph = h - 2 * m;
      g.strokeStyle = o.axisColor;
      g.strokeRect(m + 0.5, m + 0.5, pw, ph);
      g.fillStyle = o.axisColor;
      g.font = o.font;
      g.textAlign = 'center';
      g.fillText(o.xLabel, w / 2, h - 5);
      g.save(); g.translate(12, h / 2); g.rotate(-Math.PI / 2); g.fillText(o.yLabel, 0, 0); g.restore();
      var r = Math.max(1, +o.radius || 3);
      this._data.forEach(function(p) {
        g.fillStyle = color(p.z);
        g.beginPath();
        g.arc(m + pw * (+p.x || 0), m + ph * (1 - (+p.y || 0)), r, 0, 2 * Math.PI);
        g.fill();
      });
    }
  });
})(window.jQuery);
