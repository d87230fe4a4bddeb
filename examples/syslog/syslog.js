// The "Exporting events using syslog" article's syslog.js (November 2013).
// Lines the article's text lost are restored as the article describes them:
// the rest of the flow definition (frames, logged at flow start) and the
// handler's syslog() call. The SIEM server's address was lost too: it is
// 127.0.0.1 here.
var server = '127.0.0.1';
var port = 514;
var facility = 16; // local0
var severity = 5;  // notice

var flowkeys = ['ipsource','ipdestination','icmpunreachableport'];

setFlow('uport', {
  keys: flowkeys,
  value:'frames',
  log:true,
  flowStart:true
});

setFlowHandler(function(rec) {
  var keys = rec.flowKeys.split(',');
  var msg = {};
  for(var i = 0; i < flowkeys.length; i++) msg[flowkeys[i]] = keys[i];

  syslog(server,port,facility,severity,msg);
},['uport']);
