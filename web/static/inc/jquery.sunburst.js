/* flowrt: the sunburst widget, $.inmon.sunburst, that pages written for
 * sFlow-RT load from ../../../inc/jquery.sunburst.js. flowrt's own code
 * (Apache-2.0), written from how those pages call it:
 *
 *   var w = $('#sunburst').sunburst({clickable: true});
 *   w.sunburst('draw', {label:'Protocols', value: v, depth: n,
 *                       children: {eth: {value, id, filter, children: {…}}, …}});
 *   w.on('sunburstclick', function(e, node) { node.id, node.filter, node.value });
 *   w.sunburst('value')    // the root's value; w.sunburst('lastData'): the tree drawn
 *
 * Rings from the centre out, one per level, each child an arc as wide as
 * its share of the root's value; the name and value show on hover.
 * It needs a widget factory: jQuery UI's, or flowrt's jquery.widget.js.
 */
(function($) {
  'use strict';
  if (!$ || !$.widget) throw new Error('jquery.sunburst.js needs jQuery and a widget factory: load ../../../inc/jquery.widget.js (or jQuery UI) first');

  var NS = 'http://www.w3.org/2000/svg';
  var SI = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  function valueStr(v) {
    if (typeof v !== 'number' || !isFinite(v)) return String(v);
    for (var i = 0; i < SI.length; i++) if (Math.abs(v) >= SI[i][0]) return (v / SI[i][0]).toPrecision(3).replace(/\.?0+$/, '') + SI[i][1];
    return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3).replace(/\.?0+$/, '');
  }
  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function arc(r0, r1, a0, a1) {
    if (a1 - a0 >= 2 * Math.PI - 1e-9) a1 = a0 + 2 * Math.PI - 1e-4; // a full ring as an almost-full arc
    var large = a1 - a0 > Math.PI ? 1 : 0;
    function pt(r, a) { return (r * Math.sin(a)).toFixed(2) + ' ' + (-r * Math.cos(a)).toFixed(2); }
    return 'M ' + pt(r1, a0) + ' A ' + r1 + ' ' + r1 + ' 0 ' + large + ' 1 ' + pt(r1, a1) +
      ' L ' + pt(r0, a1) + ' A ' + r0 + ' ' + r0 + ' 0 ' + large + ' 0 ' + pt(r0, a0) + ' Z';
  }

  $.widget('inmon.sunburst', {
    options: {clickable: false, colors: ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6',
      '#dd4477', '#66aa00', '#b82e2e', '#316395', '#994499', '#22aa99']},

    _create: function() {
      this.element.addClass('sunburst');
      this._svg = $(el('svg', {'class': 'sunburst-chart', viewBox: '-110 -110 220 220'})).appendTo(this.element);
      this._caption = $('<div class="sunburst-caption"></div>').appendTo(this.element);
      this._tree = null;
    },

    _destroy: function() { this._svg.remove(); this._caption.remove(); this.element.removeClass('sunburst'); },

    value: function() { return this._tree && typeof this._tree.value === 'number' ? this._tree.value : 0; },
    lastData: function() { return this._tree ? $.extend(true, {}, this._tree) : null; },

    draw: function(tree) {
      this._tree = tree || {};
      var self = this, svg = this._svg[0], o = this.options;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      var total = +this._tree.value || 0, depth = Math.max(1, +this._tree.depth || 1);
      var inner = 25, ring = (100 - inner) / depth;
      var label = el('text', {x: 0, y: -2, 'text-anchor': 'middle', 'class': 'sunburst-label'});
      label.textContent = this._tree.label || '';
      var value = el('text', {x: 0, y: 10, 'text-anchor': 'middle', 'class': 'sunburst-value'});
      value.textContent = valueStr(total);
      svg.appendChild(label); svg.appendChild(value);
      if (!(total > 0)) return;
      var n = 0;
      function layer(node, level, a0, a1, colorIdx) {
        var kids = node.children || {}, names = Object.keys(kids).sort(function(a, b) { return (kids[b].value || 0) - (kids[a].value || 0); });
        var a = a0;
        names.forEach(function(name, i) {
          var child = kids[name], span = (a1 - a0) * (+child.value || 0) / (+node.value || 1);
          if (!(span > 0)) return;
          var ci = level === 0 ? i : colorIdx;
          var path = el('path', {d: arc(inner + level * ring, inner + (level + 1) * ring - 0.5, a, a + span),
            fill: o.colors[ci % o.colors.length], 'fill-opacity': Math.max(0.35, 1 - level * 0.18), stroke: '#fff', 'stroke-width': 0.5, 'class': 'sunburst-arc'});
          var title = el('title', {});
          title.textContent = (child.id || name) + ': ' + valueStr(+child.value || 0);
          path.appendChild(title);
          if (o.clickable) {
            path.style.cursor = 'pointer';
            path.addEventListener('click', function(e) { self._trigger('click', e, {name: name, id: child.id, filter: child.filter, value: child.value}); });
          }
          svg.appendChild(path);
          n++;
          layer(child, level + 1, a, a + span, ci);
          a += span;
        });
      }
      layer(this._tree, 0, 0, 2 * Math.PI, 0);
      this._caption.text(n + ' segments');
    }
  });
})(window.jQuery);
