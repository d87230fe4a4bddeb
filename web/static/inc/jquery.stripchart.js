/* flowrt: the stripchart widget, $.inmon.stripchart, that pages written for
 * sFlow-RT load from ../../../inc/jquery.stripchart.js. flowrt's own code
 * (Apache-2.0), written from how those pages call it:
 *
 *   var c = $('#trend').stripchart({clickable:true, stack:true, includeMillis:true});
 *   c.stripchart('draw', {times:[ms…], values:[[…], …], units:'Bits per Second',
 *     legend:{labels:['a', ['b','c'] …], headings:['Source','Destination'], links:['#',null]},
 *     colors:[…], stack:bool, selectedIdx:n, hrules:[{value:v, color:c, scale:bool}]});
 *   c.on('stripchartclick', function(e, pt) { pt.x is 0..1 across the time axis });
 *   c.stripchart('destroy');
 *   $.inmon.stripchart.prototype.options.colors    the palette
 *   $.inmon.stripchart.prototype.valueStr(v)       1.2K, 3.4M … as the axis labels
 *   c.stripchart('lastData')                       what was drawn last (for tests and tools)
 *
 * It needs a widget factory: jQuery UI's, or flowrt's jquery.widget.js.
 */
(function($) {
  'use strict';
  if (!$ || !$.widget) throw new Error('jquery.stripchart.js needs jQuery and a widget factory: load ../../../inc/jquery.widget.js (or jQuery UI) first');

  var SI = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  var SUB = [[1e-3, 'm'], [1e-6, '\u00b5'], [1e-9, 'n']];

  // short renders |v| with at most 3 significant digits.
  function short(v) {
    var a = Math.abs(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
    return v.toFixed(2).replace(/\.?0+$/, '');
  }

  // valueStr is called both as a method and bare from the prototype, so it
  // uses no `this`.
  function valueStr(v, includeMillis) {
    if (typeof v !== 'number' || !isFinite(v)) return String(v);
    if (v === 0) return '0';
    var a = Math.abs(v), i;
    for (i = 0; i < SI.length; i++) if (a >= SI[i][0]) return short(v / SI[i][0]) + SI[i][1];
    if (a < 1 && includeMillis) {
      for (i = 0; i < SUB.length; i++) if (a >= SUB[i][0]) return short(v / SUB[i][0]) + SUB[i][1];
    }
    return short(v);
  }

  // niceStep is a 1, 2 or 5 × 10^n step that cuts 0..max into about n parts.
  function niceStep(max, n) {
    var raw = max / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  function two(n) { return (n < 10 ? '0' : '') + n; }

  $.widget('inmon.stripchart', {
    options: {
      colors: ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00',
        '#b82e2e', '#316395', '#994499', '#22aa99', '#aaaa11', '#6633cc', '#e67300', '#8b0707'],
      backgroundColor: '#ffffff',
      gridColor: '#e4e4e4',
      textColor: '#333333',
      font: '11px sans-serif',
      clickable: false,
      stack: false,
      includeMillis: false,
      ymargin: 0.1
    },
    valueStr: valueStr,

    _create: function() {
      var el = this.element;
      this._height = el.height() || 150;
      this._styleHeight = el[0].style.height;
      el.addClass('stripchart').css('height', 'auto');
      this._canvas = $('<canvas class="stripchart-canvas"></canvas>').css({display: 'block', width: '100%', height: this._height + 'px'}).appendTo(el);
      this._legend = $('<div class="stripchart-legend"></div>').appendTo(el);
      var self = this;
      this._canvas.on('click.stripchart', function(e) {
        if (!self.options.clickable || !self._plot) return;
        var r = this.getBoundingClientRect(), p = self._plot;
        self._trigger('click', e, {x: (e.clientX - r.left - p.x) / p.w, y: 1 - (e.clientY - r.top - p.y) / p.h});
      });
      if (this.options.clickable) this._canvas.css('cursor', 'crosshair');
    },

    _destroy: function() {
      this._canvas.remove();
      this._legend.remove();
      this.element.removeClass('stripchart').css('height', this._styleHeight);
      this._data = null;
    },

    lastData: function() { return this._data ? $.extend(true, {}, this._data) : null; },

    draw: function(data) {
      if (!data || !data.times || !data.values) return;
      this._data = data;
      this._drawLegend(data);
      this._drawPlot(data);
    },

    _colors: function(data) { return data.colors || this.options.colors; },

    _drawLegend: function(data) {
      var legend = data.legend, colors = this._colors(data), lg = this._legend;
      lg.empty();
      if (!legend || !legend.labels || legend.labels.length === 0) return;
      var table = $('<table class="stripchart-legend-table"></table>');
      if (legend.headings && legend.headings.length) {
        var head = $('<tr><th></th></tr>');
        legend.headings.forEach(function(h) { head.append($('<th></th>').text(h)); });
        table.append($('<thead></thead>').append(head));
      }
      var body = $('<tbody></tbody>');
      legend.labels.forEach(function(label, i) {
        if (label === undefined || label === null) return;
        var row = $('<tr></tr>');
        var vals = data.values[i] || [], at = data.selectedIdx !== undefined ? data.selectedIdx : vals.length - 1;
        var last = vals.length ? vals[at] : undefined; // the swatch's tooltip: the value at the marked (or latest) time
        row.append($('<td class="stripchart-swatch"></td>').append(
          $('<div></div>').css({width: '12px', height: '12px', background: colors[i % colors.length]}).attr('title', last === undefined ? '' : valueStr(last))));
        (Array.isArray(label) ? label : [label]).forEach(function(part, j) {
          var td = $('<td></td>'), link = legend.links && legend.links[j];
          if (link) td.append($('<a></a>').attr('href', link).text(part));
          else td.text(part);
          row.append(td);
        });
        body.append(row);
      });
      lg.append(table.append(body));
    },

    _drawPlot: function(data) {
      var canvas = this._canvas[0], o = this.options;
      var cw = canvas.clientWidth, ch = this._height;
      if (!cw || !ch) return; // hidden: drawn when shown (pages redraw on tab change and resize)
      var dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(cw * dpr);
      canvas.height = Math.round(ch * dpr);
      var g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.fillStyle = o.backgroundColor;
      g.fillRect(0, 0, cw, ch);
      g.font = o.font;

      var times = data.times, n = times.length, series = data.values, stack = data.stack !== undefined ? data.stack : o.stack;
      var colors = this._colors(data), i, s;
      // The values drawn: cumulative sums when stacked.
      var drawn = [], ymax = 0;
      for (s = 0; s < series.length; s++) {
        var line = new Array(n);
        for (i = 0; i < n; i++) {
          var v = +series[s][i] || 0;
          line[i] = stack && s > 0 ? drawn[s - 1][i] + v : v;
          if (line[i] > ymax) ymax = line[i];
        }
        drawn.push(line);
      }
      (data.hrules || []).forEach(function(h) { if (h.scale && +h.value > ymax) ymax = +h.value; });
      if (ymax <= 0) ymax = 1;
      var step = niceStep(ymax * (1 + o.ymargin), 4), top = Math.ceil(ymax * (1 + o.ymargin) / step) * step;

      var widest = 20, yv;
      for (yv = 0; yv <= top + step / 2; yv += step) widest = Math.max(widest, g.measureText(valueStr(yv, o.includeMillis)).width);
      var left = 8 + widest, right = 8, ytop = 16, bottom = 18;
      var p = {x: left, y: ytop, w: Math.max(cw - left - right, 10), h: Math.max(ch - ytop - bottom, 10)};
      this._plot = p;
      var tmin = times[0], tmax = times[n - 1], tspan = tmax - tmin || 1;
      var X = function(t) { return p.x + p.w * (t - tmin) / tspan; };
      var Y = function(v) { return p.y + p.h * (1 - v / top); };

      // grid and value axis
      g.strokeStyle = o.gridColor; g.fillStyle = o.textColor; g.lineWidth = 1;
      g.textAlign = 'right'; g.textBaseline = 'middle';
      for (yv = 0; yv <= top + step / 2; yv += step) {
        var yy = Math.round(Y(yv)) + 0.5;
        g.beginPath(); g.moveTo(p.x, yy); g.lineTo(p.x + p.w, yy); g.stroke();
        g.fillText(valueStr(yv, o.includeMillis), p.x - 4, yy);
      }
      if (data.units) { g.textAlign = 'left'; g.textBaseline = 'top'; g.fillText(data.units, p.x, 2); }
      // time axis
      if (n > 1) {
        g.textAlign = 'center'; g.textBaseline = 'top';
        var ticks = Math.max(2, Math.floor(p.w / 90));
        for (i = 0; i <= ticks; i++) {
          var t = tmin + tspan * i / ticks, d = new Date(t);
          var label = two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
          g.fillText(label, Math.min(Math.max(X(t), p.x + 20), p.x + p.w - 20), p.y + p.h + 3);
        }
      }
      // series: filled bands when stacked, lines otherwise
      for (s = drawn.length - 1; s >= 0 && n > 0; s--) {
        var color = colors[s % colors.length];
        g.beginPath();
        g.moveTo(X(times[0]), Y(drawn[s][0]));
        for (i = 1; i < n; i++) g.lineTo(X(times[i]), Y(drawn[s][i]));
        if (stack) {
          for (i = n - 1; i >= 0; i--) g.lineTo(X(times[i]), Y(s > 0 ? drawn[s - 1][i] : 0));
          g.closePath();
          g.fillStyle = color; g.fill();
        } else {
          g.strokeStyle = color; g.lineWidth = 1.5; g.stroke();
        }
      }
      (data.hrules || []).forEach(function(h) {
        if (!(+h.value <= top)) return;
        g.strokeStyle = h.color || 'red'; g.lineWidth = 1; g.setLineDash([4, 3]);
        g.beginPath(); g.moveTo(p.x, Y(+h.value)); g.lineTo(p.x + p.w, Y(+h.value)); g.stroke();
        g.setLineDash([]);
      });
      if (data.selectedIdx !== undefined && data.selectedIdx >= 0 && data.selectedIdx < n - 1) {
        var xs = Math.round(X(times[data.selectedIdx])) + 0.5;
        g.strokeStyle = '#000'; g.lineWidth = 1;
        g.beginPath(); g.moveTo(xs, p.y); g.lineTo(xs, p.y + p.h); g.stroke();
      }
    }
  });
})(window.jQuery);
