// The page calls the shared widgets as sFlow-RT's application pages do:
// chart() over a trend its script serves, a stripchart drawn directly from
// /metric, and a gauge over /agents/json.
$(function() {
  var db = {};
  $('#total').chart({type: 'trend', metrics: ['total'], legend: ['Total'], stack: true, units: 'Frames per Second'}, db);
  $('#top').chart({type: 'topn', metric: 'top', legendHeadings: ['Source'], stack: true, includeOther: false, units: 'Frames per Second'}, db);

  function updateData(data) {
    if (!data || !data.trend || !data.trend.times || data.trend.times.length === 0) return;
    if (db.trend) {
      var maxPoints = db.trend.maxPoints;
      db.trend.times = db.trend.times.concat(data.trend.times);
      var remove = db.trend.times.length > maxPoints ? db.trend.times.length - maxPoints : 0;
      if (remove) db.trend.times = db.trend.times.slice(remove);
      for (var name in db.trend.trends) {
        db.trend.trends[name] = db.trend.trends[name].concat(data.trend.trends[name]);
        if (remove) db.trend.trends[name] = db.trend.trends[name].slice(remove);
      }
    } else db.trend = data.trend;
    db.trend.end = new Date(db.trend.times[db.trend.times.length - 1]);
    $.event.trigger({type: 'updateChart'});
  }
  (function pollTrend() {
    $.ajax({
      url: '../scripts/demo.js/trend/json',
      dataType: 'json',
      data: db.trend && db.trend.end ? {after: db.trend.end.getTime()} : null,
      success: updateData,
      complete: function() { setTimeout(pollTrend, 1000); }
    });
  })();

  var load = $('#load').stripchart({includeMillis: true});
  var loadData = {times: [], values: [[]], units: 'Load'};
  (function pollLoad() {
    $.get('../../../metric/ALL/max:load_one/json', function(data) {
      if (data && data.length && $.isNumeric(data[0].metricValue)) {
        loadData.times.push(Date.now());
        loadData.values[0].push(data[0].metricValue);
        load.stripchart('draw', loadData);
        $('#load-value').text($.inmon.stripchart.prototype.valueStr(data[0].metricValue));
      }
    }).always(function() { setTimeout(pollLoad, 1000); });
  })();

  var agents = $('#agents').gauge({label: 'Agents', suffix: '', threshold: 100});
  (function pollAgents() {
    $.get('../../../agents/json', function(data) {
      agents.gauge('update', {value: Object.keys(data).length, maxValue: 10});
    }).always(function() { setTimeout(pollAgents, 1000); });
  })();

  $(window).resize(function() { $.event.trigger({type: 'updateChart'}); });
});
