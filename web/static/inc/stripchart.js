/* flowrt: $.fn.chart, the trend charts of pages written for sFlow-RT
 * (../../../inc/stripchart.js). flowrt's own code (Apache-2.0), written from
 * how those pages call it. A page keeps the trend its script serves in db:
 *
 *   db.trend = {times:[ms…], trends:{name:[value…] or [{key:value}…]}, values:{name:v}}
 *   $('#x').chart({type:'trend', metrics:['a','b'], legend:['A','B'], stack:true,
 *                  units:'Bits per Second', colors:[…]}, db);
 *   $('#y').chart({type:'topn', metric:'top-5-x', legendHeadings:['Source','Port'],
 *                  sep:',', includeOther:true, keyName:function(part, idx){…},
 *                  legendLinks:['#', null], hrule:[{name:'threshold', color:'red', scale:true}],
 *                  stack:false, units:'Packets per Second'}, db);
 *   $.event.trigger({type:'updateChart'});   // every chart redraws from db
 *
 * 'trend' draws one series per metric; 'topn' draws one series per flow key
 * seen in the window (largest first, at most maxLines, the rest summed as
 * "Other" when includeOther), splitting keys on sep for the legend columns.
 * hrule draws db.trend.values[name] as a dashed line. The charts are
 * $.inmon.stripchart widgets (jquery.stripchart.js), clickable: a click
 * marks the time and the legend's swatches show the values there.
 */
(function($) {
  'use strict';
  if (!$ || !$.fn.stripchart) throw new Error('stripchart.js needs jquery.stripchart.js: load it first');

  function zeros(n) { var a = new Array(n); for (var i = 0; i < n; i++) a[i] = 0; return a; }

  function trendData(opts, trend) {
    var n = trend.times.length;
    var values = opts.metrics.map(function(m) {
      var t = trend.trends[m];
      return t ? t.map(function(v) { return +v || 0; }) : zeros(n);
    });
    var data = {times: trend.times, values: values, units: opts.units};
    if (opts.legend) data.legend = {labels: opts.legend.slice(), headings: opts.legendHeadings, links: opts.legendLinks};
    return data;
  }

  function topnData(opts, trend) {
    var n = trend.times.length, entries = trend.trends[opts.metric] || [], sep = opts.sep || ',';
    var max = {}, k, i;
    for (i = 0; i < entries.length; i++) {
      for (k in entries[i] || {}) max[k] = Math.max(max[k] || 0, +entries[i][k] || 0);
    }
    var keys = Object.keys(max).sort(function(a, b) { return max[b] - max[a]; });
    var lines = opts.maxLines || 10, other = opts.includeOther !== false && keys.length > lines;
    var shown = keys.slice(0, lines), index = {};
    shown.forEach(function(key, j) { index[key] = j; });
    var values = shown.map(function() { return zeros(n); });
    if (other) values.push(zeros(n));
    for (i = 0; i < n; i++) {
      var e = entries[i] || {};
      for (k in e) {
        var v = +e[k] || 0;
        if (k in index) values[index[k]][i] = v;
        else if (other) values[values.length - 1][i] += v;
      }
    }
    var labels = shown.map(function(key) {
      var parts = key.split(sep);
      return opts.keyName ? parts.map(function(p, j) { return opts.keyName(p, j); }) : parts;
    });
    if (other) labels.push(['Other']);
    var data = {times: trend.times, values: values, units: opts.units,
      legend: {labels: labels, headings: opts.legendHeadings, links: opts.legendLinks}};
    if (opts.hrule) {
      data.hrules = opts.hrule.map(function(h) {
        return {value: trend.values ? trend.values[h.name] : undefined, color: h.color, scale: h.scale};
      }).filter(function(h) { return typeof h.value === 'number' || (typeof h.value === 'string' && h.value !== ''); });
    }
    return data;
  }

  $.fn.chart = function(opts, db) {
    if (!opts || (opts.type !== 'trend' && opts.type !== 'topn')) throw new Error('chart: type must be trend or topn, not ' + (opts && opts.type));
    if (opts.type === 'trend' && !Array.isArray(opts.metrics)) throw new Error('chart: a trend chart needs metrics:[names]');
    if (opts.type === 'topn' && !opts.metric) throw new Error('chart: a topn chart needs metric:name');
    return this.each(function() {
      var el = $(this), selected;
      var widgetOpts = {clickable: true, stack: !!opts.stack};
      if (opts.colors) widgetOpts.colors = opts.colors;
      if (opts.ymargin !== undefined) widgetOpts.ymargin = opts.ymargin;
      if (opts.includeMillis) widgetOpts.includeMillis = true;
      el.stripchart(widgetOpts);
      el.on('stripchartclick', function(e, pt) {
        var times = db.trend && db.trend.times;
        if (!times || times.length < 2) return;
        var t = times[0] + (times[times.length - 1] - times[0]) * pt.x;
        selected = pt.x < 0 || pt.x > 1 ? undefined : t;
        draw();
      });
      function draw() {
        if (!db || !db.trend || !db.trend.times || db.trend.times.length === 0) return;
        if (!el.data('inmon-stripchart') && !el.hasClass('stripchart')) return; // destroyed
        var data = opts.type === 'trend' ? trendData(opts, db.trend) : topnData(opts, db.trend);
        if (selected !== undefined) {
          var times = data.times, best = 0;
          for (var i = 0; i < times.length; i++) if (Math.abs(times[i] - selected) < Math.abs(times[best] - selected)) best = i;
          data.selectedIdx = best;
        }
        el.stripchart('draw', data);
      }
      $(document).on('updateChart', draw);
      draw();
    });
  };
})(window.jQuery);
