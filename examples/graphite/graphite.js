// author: Peter
// version: 1.0
// date: 11/23/2013
// description: Log metrics to Graphite

// The "Metric export to Graphite" article's graphite.js. The Graphite
// server's address, lost from the article's text, is 127.0.0.1; the lines
// that send the metrics and count successes and errors are restored.

var graphiteServer = "127.0.0.1";
var graphitePort = null;

var errors = 0;
var sent = 0;
var lastError;

setIntervalHandler(function() {
  var names = ['sum:load_one'];
  var prefix = 'linux.';
  var vals = metric('ALL',names,{os_name:['linux']});
  var metrics = {};
  for(var i = 0; i < names.length; i++) {
    metrics[prefix + names[i]] = vals[i].metricValue;
  }
  try { 
    graphite(graphiteServer,graphitePort,metrics);
    sent++;
  } catch(e) {
    errors++;
    lastError = e.message;
  }
} , 15);

setHttpHandler(function() {
  var message = { 'errors':errors,'sent':sent };
  if(lastError) message.lastError = lastError;
  return JSON.stringify(message);
});
