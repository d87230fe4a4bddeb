// The "ICMP unreachable" article's script: flows for each kind of ICMP
// unreachable message, logged when they start, sent to a SIEM over syslog.
// The article's text lost the expression that names the event type (the
// flow name without its leading 'u': nets, hosts, protos, ports) and the
// syslog() call with the SIEM's address: they are restored here, with the
// SIEM on 127.0.0.1.
setFlowHandler(function(rec) {
  var name = rec.name.slice(1);
  var keys = rec.flowKeys.split(',');
  var msg = {type:name,host:keys[0],target:keys[1]};
  syslog('127.0.0.1',514,16,5,msg);
},['unets','uhosts','uprotos','uports']);

setFlow('unets',{keys:'ipdestination,icmpunreachablenet', value:'frames', t:20, log:true, flowStart:true});
setFlow('uhosts',{keys:'ipdestination,icmpunreachablehost', value:'frames', t:20, log:true, flowStart:true});
setFlow('uprotos',{keys:'ipdestination,icmpunreachableprotocol', value:'frames', t:20, log:true, flowStart:true});
setFlow('uports',{keys:'ipdestination,icmpunreachableport', value:'frames', t:20, log:true, flowStart:true});
