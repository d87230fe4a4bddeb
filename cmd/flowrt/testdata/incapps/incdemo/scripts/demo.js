// A test application written the way sFlow-RT's applications are (not a
// copy of any): a flow, a once-a-second trend of its top sources and their
// total kept in the script, served at trend/json?after=<ms>.
var flowName = 'incdemo_src';
setFlow(flowName, {keys:'ipsource', value:'frames', n:10, t:2});

var maxPoints = 120;
var times = [], top = [], total = [];
setIntervalHandler(function(now) {
  var entry = {}, sum = 0;
  (activeFlows('ALL', flowName, 5, 0, 'sum') || []).forEach(function(f) { entry[f.key] = f.value; sum += f.value; });
  times.push(now); top.push(entry); total.push(sum);
  if (times.length > maxPoints) { times.shift(); top.shift(); total.shift(); }
}, 1);

setHttpHandler(function(req) {
  if (req.path[0] !== 'trend') throw 'not_found';
  var after = req.query.after ? parseInt(req.query.after[0]) : 0;
  var res = {maxPoints: maxPoints, times: [], trends: {top: [], total: []}};
  for (var i = 0; i < times.length; i++) {
    if (times[i] <= after) continue;
    res.times.push(times[i]); res.trends.top.push(top[i]); res.trends.total.push(total[i]);
  }
  return {trend: res};
});
