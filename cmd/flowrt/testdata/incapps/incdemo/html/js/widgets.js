// Polls the script's shapes once a second into the three widgets, as the
// heatmap, sunburst and particle pages do.
$(function() {
  var heat = $('#heat').heatmap({radius: 4});
  var sun = $('#sunburst').sunburst({clickable: true});
  sun.on('sunburstclick', function(e, node) { window.clicked = node; });
  var particles = $('#particles').flow({height: '300px', axisW: 'Sources', axisE: 'Destinations'});
  function poll(path, apply) {
    (function again() {
      $.getJSON('../scripts/shapes.js/' + path + '/json', apply).always(function() { setTimeout(again, 1000); });
    })();
  }
  poll('heat', function(d) { heat.heatmap('draw', d); });
  poll('tree', function(d) { sun.sunburst('draw', d); });
  poll('particles', function(d) { particles.flow('data', d); });
});
