// The data shapes of the heatmap, sunburst and particle pages, from one
// flow of source,destination pairs: heat/json a point per pair (x, y: the
// last octets of the addresses / 255), tree/json the sources as a sunburst
// tree, particles/json a particle flow per pair.
var pairs = 'incdemo_pairs';
setFlow(pairs, {keys:'ipsource,ipdestination', value:'frames', n:20, t:2});

function top() { return activeFlows('ALL', pairs, 20, 0, 'sum') || []; }
function octet(a) { return parseInt(a.split('.')[3]) / 255; }

setHttpHandler(function(req) {
  var flows = top();
  switch (req.path[0]) {
  case 'heat':
    var max = flows.length ? Math.log10(flows[0].value + 1) : 1;
    return flows.map(function(f) { var k = f.key.split(','); return {x: octet(k[0]), y: octet(k[1]), z: Math.log10(f.value + 1) / max}; });
  case 'tree':
    var tree = {label: 'Sources', value: 0, depth: 2, children: {}};
    flows.forEach(function(f) {
      var k = f.key.split(','), src = tree.children[k[0]];
      if (!src) src = tree.children[k[0]] = {value: 0, id: k[0], filter: 'ipsource=' + k[0], children: {}};
      src.value += f.value;
      src.children[k[1]] = {value: f.value, id: f.key, filter: 'ipsource=' + k[0] + '&ipdestination=' + k[1]};
      tree.value += f.value;
    });
    return tree;
  case 'particles':
    return flows.map(function(f) {
      var k = f.key.split(',');
      return {startSide: 'W', startVal: octet(k[0]), endSide: 'E', endVal: octet(k[1]), type: '6', frequency: Math.log10(f.value + 1),
        info: [{name: 'Source Address', value: k[0]}, {name: 'Destination Address', value: k[1]}]};
    });
  }
  throw 'not_found';
});
