// The Loggly article's loggly.js: ICMP unreachable flows sent as JSON
// events to Loggly's HTTP/S event endpoint. Strings the article's text lost
// are restored: the endpoint (https://logs-01.loggly.com/inputs/, or the
// loggly.url property, so the script can be tried against any endpoint), the
// list of flow keys, the rest of the flow definition and the message fields.
var token = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
var url = (getSystemProperty('loggly.url') || 'https://logs-01.loggly.com/inputs/')+token+'/tag/http/';

var keys = [
  'icmpunreachablenet',
  'icmpunreachablehost',
  'icmpunreachableprotocol',
  'icmpunreachableport'
];

for (var i = 0; i < keys.length; i++) {
  var key = keys[i];
  setFlow(key, {
    keys:'macsource,ipsource,macdestination,ipdestination,' + key,
    value:'frames',
    log:true,
    flowStart:true
  });
}

setFlowHandler(function(rec) {
  var keys = rec.flowKeys.split(',');
  var msg = {
    type:rec.name,
    macsource:keys[0],
    ipsource:keys[1],
    macdestination:keys[2],
    ipdestination:keys[3],
    unreachable:keys[4]
  };

  try { http(url,'post','application/json',JSON.stringify(msg)); }
  catch(e) { logWarning(e); };
}, keys);
