"""flowrt's Mininet helper: sFlow on every switch, and the topology, for flowrt.

Load it the way the sFlow-RT articles load theirs, with Mininet's --custom:

    sudo mn --custom /usr/local/share/flowrt/extras/sflow.py --topo tree,depth=2,fanout=2 ...
    sudo mn --custom flowrt/extras/sflow.py --switch ovs,datapath=user ...   # no OVS kernel module

Once Mininet has started its network (after its switches are up, before the
CLI), this file

  1. points the sFlow of every Open vSwitch bridge at flowrt: one sFlow row
     shared by all bridges, with the agent address the kernel would use to
     reach flowrt, 1-in-SAMPLING packet sampling, counters every POLLING s;
  2. PUTs the topology to flowrt's /topology/json: each switch with that
     agent address and its datapath id, each switch port with its ifIndex
     (what sFlow names the port by) and OpenFlow port number, and every
     switch-to-switch link. Scripts then find a flow's switch port
     (topologyInterfaceToPort gives dpid and ofport for a controller's rule),
     tell edge ports from inter-switch links, and draw the network.

The ifIndex and OpenFlow port of each port are what Open vSwitch itself
reports (its Interface table), so the topology names the data sources that
the sFlow it sends carries. All switches of one Mininet share one agent
address: sFlow keeps them apart by sub-agent, the topology by ifIndex (one
kernel, one ifIndex per interface).

Settings come from the environment (sudo env COLLECTOR=10.0.0.70 mn ...):
  COLLECTOR   flowrt's IP address or host name   (default 127.0.0.1)
  SFLOW_PORT  flowrt's sFlow UDP port            (6343)
  REST_PORT   flowrt's REST port                 (8008)
  SAMPLING    sample 1 in N packets              (10)
  POLLING     send counters every N seconds      (10)

Nothing here stops Mininet: when a step fails, it says what failed and what
to check, and the network runs on without it.
"""

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request

from mininet.log import error, info
from mininet.net import Mininet
from mininet.node import OVSSwitch


def _setting(name, default, most=None):
    """An environment setting; with most, a whole number from 1 to most."""
    value = os.environ.get(name, default)
    if most is not None and (not value.isdigit() or not 1 <= int(value) <= most):
        raise ValueError('%s=%r: want a whole number from 1 to %d' % (name, value, most))
    return value


def _agent(collector):
    """The device and source address the kernel uses to reach collector.

    The source address is given to Open vSwitch as the sFlow agent address,
    and the topology names it as each switch's agent: the two agree.
    """
    out = subprocess.run(['ip', '-o', 'route', 'get', collector],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError('ip route get %s: %s' % (collector, out.stderr.strip()))
    words = out.stdout.split()
    try:
        return words[words.index('dev') + 1], words[words.index('src') + 1]
    except (ValueError, IndexError):
        raise RuntimeError('ip route get %s gave no device and source address: %s'
                           % (collector, out.stdout.strip()))


def _vsctl(*args):
    out = subprocess.run(['ovs-vsctl', '--timeout=10'] + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError('ovs-vsctl %s: %s' % (' '.join(args), out.stderr.strip()))
    return out.stdout


def _interfaces():
    """Open vSwitch's Interface table: name -> (ofport, ifindex)."""
    table = json.loads(_vsctl('--format=json', '--columns=name,ofport,ifindex', 'list', 'Interface'))
    cols = table['headings']
    rows = {}
    for row in table['data']:
        r = dict(zip(cols, row))
        rows[r['name']] = (_int(r['ofport']), _int(r['ifindex']))
    return rows


def _int(v):
    """An integer column of ovs-vsctl's JSON; unset ones come as ["set", []]."""
    return v if isinstance(v, int) else 0


def _enable_sflow(switches, agent_ip, target, sampling, polling):
    args = ['--', '--id=@sflow', 'create', 'sflow', 'agent=%s' % agent_ip,
            'target="%s"' % target, 'header=128',
            'sampling=%s' % sampling, 'polling=%s' % polling]
    for s in switches:
        args += ['--', 'set', 'bridge', s.name, 'sflow=@sflow']
    _vsctl(*args)


def _topology(net, switches, agent_ip):
    """The topology document: the switches, their ports, the links between them."""
    ifaces = _interfaces()
    nodes = {}
    for s in switches:
        ports = {}
        for intf in s.intfList():
            if intf.name == 'lo' or intf.name not in ifaces:
                continue
            ofport, ifindex = ifaces[intf.name]
            if ofport < 1 or ifindex < 1:
                raise RuntimeError('Open vSwitch reports port %s of %s with ofport %d, ifindex %d: '
                                   'not attached yet?' % (intf.name, s.name, ofport, ifindex))
            ports[intf.name] = {'ifindex': str(ifindex), 'ofport': str(ofport)}
        nodes[s.name] = {'agent': agent_ip, 'dpid': s.dpid, 'ports': ports}
    links = {}
    for link in net.links:
        a, b = link.intf1, link.intf2
        if a.node.name in nodes and b.node.name in nodes:
            links['%s_%s' % (a.name, b.name)] = {'node1': a.node.name, 'port1': a.name,
                                                 'node2': b.node.name, 'port2': b.name}
    return {'nodes': nodes, 'links': links}


def _put(url, doc):
    req = urllib.request.Request(url, data=json.dumps(doc).encode(), method='PUT',
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError('PUT %s: %d %s' % (url, e.code, e.read().decode(errors='replace').strip()))
    except OSError as e:
        raise RuntimeError('PUT %s: %s (is flowrt running there?)' % (url, e))


def enable(net):
    """sFlow and topology for a started Mininet network."""
    try:
        collector = socket.gethostbyname(_setting('COLLECTOR', '127.0.0.1'))
        sflow_port = _setting('SFLOW_PORT', '6343', 65535)
        rest_port = _setting('REST_PORT', '8008', 65535)
        sampling = _setting('SAMPLING', '10', 2**32 - 1)
        polling = _setting('POLLING', '10', 2**31 - 1)
    except (ValueError, OSError) as e:
        error('*** flowrt sflow.py: %s; sFlow is not enabled\n' % e)
        return
    switches = [s for s in net.switches if isinstance(s, OVSSwitch)]
    others = [s.name for s in net.switches if not isinstance(s, OVSSwitch)]
    if others:
        error('*** flowrt sflow.py: %s are not Open vSwitch switches; no sFlow from them\n' % ' '.join(others))
    if not switches:
        return
    try:
        device, agent_ip = _agent(collector)
        target = '%s:%s' % (collector, sflow_port)
        info('*** Enabling sFlow: agent %s (%s), target %s, sampling %s, polling %ss\n'
             % (agent_ip, device, target, sampling, polling))
        _enable_sflow(switches, agent_ip, target, sampling, polling)
        info(' '.join(s.name for s in switches) + '\n')
    except RuntimeError as e:
        error('*** flowrt sflow.py: sFlow not enabled: %s\n' % e)
        return
    url = 'http://%s:%s/topology/json' % (collector, rest_port)
    try:
        topo = _topology(net, switches, agent_ip)
        _put(url, topo)
        info('*** Sent topology to %s: %d switches, %d links\n' % (url, len(topo['nodes']), len(topo['links'])))
    except RuntimeError as e:
        error('*** flowrt sflow.py: topology not sent: %s\n' % e)


# Mininet runs a --custom file before it builds the network; wrapping
# Mininet.start is how this file acts once the network is up. Loading the
# file twice wraps it once.
if not getattr(Mininet.start, 'flowrt_sflow', False):
    _start = Mininet.start

    def _start_then_enable(self):
        _start(self)
        enable(self)

    _start_then_enable.flowrt_sflow = True
    Mininet.start = _start_then_enable
