"""An os-ken application: an OpenFlow 1.3 learning switch plus the two
ofctl_rest calls ryu.js makes. flowrt's own, written for Debian.

The Ryu article starts `ryu-manager simple_switch_13.py ofctl_rest.py`.
Debian packages os-ken (python3-os-ken, the maintained fork of Ryu) without
either application, so this file stands in for both, as much as ryu.js
needs:

  * a MAC learning switch: the table-miss rule sends packets here; each
    source MAC is learned on its port; a packet to a known MAC gets a
    priority-1 rule (in_port, eth_dst -> that port), the rest are flooded;
  * POST /stats/flowentry/add and POST /stats/flowentry/delete on
    127.0.0.1:8080, with ofctl_rest's JSON body ({"dpid":2, "priority":40000,
    "match":{"in_port":1, "dl_type":2048, "nw_dst":"10.0.0.3/32",
    "nw_proto":17, "tp_src":53}, "actions":[...]}), turned into an
    OFPFC_ADD / OFPFC_DELETE flow mod by os-ken's own converter
    (os_ken.lib.ofctl_v1_3, the one ofctl_rest uses). No actions: drop.

A body that is not JSON, a switch that is not connected, or a field the
converter does not know is refused with 400 and a one-line reason (the
converter itself would only log and drop the field); other paths are 404.
The switch's answer to a flow mod is asynchronous: an OpenFlow error it
sends back is logged.

Run it (os-ken imports under Debian's /usr/bin/python3):

    /usr/bin/osken-manager examples/ryu/switch_rest.py
    OSKEN_REST=127.0.0.1:8081 /usr/bin/osken-manager --ofp-tcp-listen-port 6653 examples/ryu/switch_rest.py
"""

import json
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub, ofctl_v1_3
from os_ken.lib.packet import ethernet, ether_types, packet
from os_ken.ofproto import ofproto_v1_3

# The fields of ofctl_rest's body and of its match that this file passes on.
BODY_FIELDS = {'dpid', 'priority', 'match', 'actions', 'cookie', 'cookie_mask', 'table_id',
               'idle_timeout', 'hard_timeout', 'flags'}
MATCH_FIELDS = {'in_port', 'dl_type', 'eth_type', 'dl_src', 'dl_dst', 'eth_src', 'eth_dst',
                'dl_vlan', 'vlan_vid', 'nw_proto', 'ip_proto', 'nw_src', 'nw_dst', 'ipv4_src',
                'ipv4_dst', 'tp_src', 'tp_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst'}


class BadRequest(Exception):
    pass


class SwitchRest(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.datapaths = {}  # dpid -> datapath
        self.macs = {}       # dpid -> {mac: port}
        host, _, port = os.environ.get('OSKEN_REST', '127.0.0.1:8080').rpartition(':')
        server = hub.WSGIServer((host, int(port)), self.wsgi)
        hub.spawn(server.serve_forever)
        self.logger.info('REST (flowentry/add, flowentry/delete) on %s:%s', host, port)

    # --- the learning switch ---

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.datapaths[dp.id] = dp
        self.macs.setdefault(dp.id, {})
        self.add(dp, 0, parser.OFPMatch(), [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])
        self.logger.info('switch %016x connected', dp.id)

    @set_ev_cls(ofp_event.EventOFPStateChange, DEAD_DISPATCHER)
    def gone(self, ev):
        dp = ev.datapath
        if dp.id is not None and self.datapaths.get(dp.id) is dp:
            del self.datapaths[dp.id]
            self.macs.pop(dp.id, None)

    def add(self, dp, priority, match, actions):
        parser = dp.ofproto_parser
        inst = [parser.OFPInstructionActions(dp.ofproto.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None or eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        macs = self.macs.setdefault(dp.id, {})
        macs[eth.src] = in_port
        out = macs.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out)]
        if out != ofp.OFPP_FLOOD:
            self.add(dp, 1, parser.OFPMatch(in_port=in_port, eth_dst=eth.dst), actions)
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port,
                                        actions=actions, data=data))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def switch_error(self, ev):
        m = ev.msg
        self.logger.error('switch %016x refused a message: type %d code %d', m.datapath.id, m.type, m.code)

    # --- ofctl_rest's flowentry/add and flowentry/delete ---

    def wsgi(self, environ, start_response):
        method, path = environ['REQUEST_METHOD'], environ.get('PATH_INFO', '')
        commands = {'/stats/flowentry/add': 'OFPFC_ADD', '/stats/flowentry/delete': 'OFPFC_DELETE'}

        def answer(status, text):
            start_response(status, [('Content-Type', 'text/plain')])
            return [text.encode()]

        if path not in commands:
            return answer('404 Not Found', 'no %s here: only POST /stats/flowentry/add and /stats/flowentry/delete\n' % path)
        if method != 'POST':
            return answer('405 Method Not Allowed', '%s %s: use POST\n' % (method, path))
        try:
            size = int(environ.get('CONTENT_LENGTH') or 0)
            flow = self.check(environ['wsgi.input'].read(size))
            dp = self.datapaths.get(int(flow['dpid']))
            if dp is None:
                raise BadRequest('dpid %s is not connected (connected: %s)'
                                 % (flow['dpid'], ', '.join(str(d) for d in sorted(self.datapaths)) or 'none'))
            try:
                ofctl_v1_3.mod_flow_entry(dp, flow, getattr(dp.ofproto, commands[path]))
            except (ValueError, KeyError, TypeError) as e:
                raise BadRequest('%s: %s' % (path, e))
        except BadRequest as e:
            return answer('400 Bad Request', '%s\n' % e)
        self.logger.info('%s %s', path, json.dumps(flow, sort_keys=True))
        return answer('200 OK', '')

    @staticmethod
    def check(body):
        try:
            flow = json.loads(body)
        except ValueError as e:
            raise BadRequest('body is not JSON: %s' % e)
        if not isinstance(flow, dict) or 'dpid' not in flow:
            raise BadRequest('want a JSON object with dpid')
        extra = set(flow) - BODY_FIELDS
        match = flow.get('match', {})
        if not isinstance(match, dict):
            raise BadRequest('match must be an object')
        extra |= set(match) - MATCH_FIELDS
        if extra:
            raise BadRequest('fields not handled here: %s' % ', '.join(sorted(extra)))
        proto = match.get('nw_proto', match.get('ip_proto'))
        if ('tp_src' in match or 'tp_dst' in match) and proto not in (6, 17):
            raise BadRequest('tp_src/tp_dst need nw_proto 6 (TCP) or 17 (UDP), not %r' % proto)
        try:
            int(flow['dpid'])
        except (TypeError, ValueError):
            raise BadRequest('dpid %r is not a number' % flow['dpid'])
        return flow
