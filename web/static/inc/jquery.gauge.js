/* flowrt: the gauge widget, $.inmon.gauge, that pages written for sFlow-RT
 * load from ../../../inc/jquery.gauge.js. flowrt's own code (Apache-2.0),
 * written from how those pages call it:
 *
 *   var g = $('#x').gauge({label:'Traffic', suffix:'bps', threshold:1, maxValue:100, logScale:true});
 *   g.gauge('update', {value:v, maxValue:m, threshold:t});   // returns the jQuery set
 *   g.gauge('value')                                          // the value shown (for tests and tools)
 *
 * A half-dial from minValue (0) to maxValue (the value itself when there is
 * none, so the dial reads full), the value as text under it, red from the
 * threshold on. logScale spaces the dial logarithmically (values ≥ 1).
 * It needs a widget factory: jQuery UI's, or flowrt's jquery.widget.js.
 */
(function($) {
  'use strict';
  if (!$ || !$.widget) throw new Error('jquery.gauge.js needs jQuery and a widget factory: load ../../../inc/jquery.widget.js (or jQuery UI) first');

  var NS = 'http://www.w3.org/2000/svg';
  var SI = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];

  function valueStr(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '\u2013';
    var a = Math.abs(v), d = v, s = '';
    for (var i = 0; i < SI.length; i++) if (a >= SI[i][0]) { d = v / SI[i][0]; s = SI[i][1]; break; }
    var ad = Math.abs(d);
    return (ad >= 100 || Number.isInteger(d) ? d.toFixed(0) : ad >= 10 ? d.toFixed(1) : d.toFixed(2).replace(/\.?0+$/, '')) + s;
  }

  function svg(name, attrs) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  // arc is the path of the dial from fraction 0 (left) to f (0..1).
  function arc(f) {
    var a = Math.PI * (1 - Math.max(0, Math.min(1, f))), r = 40;
    var x = 50 + r * Math.cos(a), y = 50 - r * Math.sin(a);
    return 'M 10 50 A 40 40 0 0 1 ' + x.toFixed(2) + ' ' + y.toFixed(2);
  }

  $.widget('inmon.gauge', {
    options: {label: '', suffix: '', minValue: 0, maxValue: undefined, threshold: undefined, logScale: false,
      color: '#28a745', warnColor: '#dc3545', trackColor: '#e9ecef'},

    _create: function() {
      var o = this.options, root = svg('svg', {viewBox: '0 0 100 64', 'class': 'gauge-dial', role: 'img'});
      root.appendChild(svg('path', {d: arc(1), fill: 'none', stroke: o.trackColor, 'stroke-width': 10}));
      this._bar = svg('path', {d: arc(0), fill: 'none', stroke: o.color, 'stroke-width': 10});
      root.appendChild(this._bar);
      this._text = svg('text', {x: 50, y: 48, 'text-anchor': 'middle', 'class': 'gauge-value'});
      this._text.textContent = '\u2013';
      root.appendChild(this._text);
      this.element.addClass('gauge').empty().append(root).append($('<div class="gauge-label"></div>').text(o.label));
      this._value = undefined;
    },

    _destroy: function() { this.element.removeClass('gauge warn').empty(); },

    value: function() { return this._value; },

    _fraction: function(v, max) {
      var min = +this.options.minValue || 0;
      if (!(max > min)) return v > min ? 1 : 0;
      if (this.options.logScale) {
        var lv = Math.log10(Math.max(v, 1)), lmax = Math.log10(Math.max(max, 1));
        return lmax > 0 ? lv / lmax : 0;
      }
      return (v - min) / (max - min);
    },

    update: function(u) {
      u = u || {};
      var o = this.options;
      if (u.maxValue !== undefined) o.maxValue = u.maxValue;
      if (u.threshold !== undefined) o.threshold = u.threshold;
      var v = +u.value;
      if (!isFinite(v)) v = 0;
      this._value = v;
      var max = o.maxValue !== undefined && o.maxValue !== null ? +o.maxValue : v;
      this._bar.setAttribute('d', arc(this._fraction(v, max)));
      var warn = o.threshold !== undefined && o.threshold !== null && v >= +o.threshold;
      this._bar.setAttribute('stroke', warn ? o.warnColor : o.color);
      this.element.toggleClass('warn', warn);
      this._text.textContent = valueStr(v) + (o.suffix || '');
    }
  });
})(window.jQuery);
