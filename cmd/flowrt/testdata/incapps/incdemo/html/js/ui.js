// The page uses jQuery UI (tabs, button), DataTables over /activeflows and
// a topn chart on jQuery UI's own widget factory, as the older sFlow-RT
// application pages do.
$(function() {
  $('#tabs').tabs();
  var table = $('#flowtable').DataTable({
    ajax: {url: '../../../activeflows/ALL/incdemo_src/json?maxFlows=5&aggMode=sum', dataSrc: ''},
    columns: [{data: null, className: 'details', orderable: false, defaultContent: ''}, {data: 'key'}, {data: 'value', render: function(v) { return v.toFixed(3); }}],
    order: [[2, 'desc']], paging: false, searching: false, info: false
  });
  $('#refresh').button({icons: {primary: 'ui-icon-arrowrefresh-1-e'}, text: false}).click(function() { table.ajax.reload(); });
  setInterval(function() { table.ajax.reload(); }, 2000);

  var db = {};
  $('#topn').chart({type: 'topn', metric: 'top', legendHeadings: ['Source'], stack: true, sep: ',', units: 'Frames per Second'}, db);
  (function poll() {
    $.getJSON('../scripts/demo.js/trend/json', function(data) {
      db.trend = data.trend;
      $.event.trigger({type: 'updateChart'});
    }).always(function() { setTimeout(poll, 1000); });
  })();
});
