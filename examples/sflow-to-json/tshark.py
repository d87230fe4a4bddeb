#!/usr/bin/env python3
# The tshark.py script of the sflow/tshark article, ported to Python 3:
# downloads the Emerging Threats compromised address list, then reads
# tshark's "-T ek" output (one JSON object a line) from standard input and
# prints time, source and destination of sampled packets to or from a listed
# address:
#
#   flowrt decode -t | tshark -r - -T ek | ./tshark.py
#
# tshark -T ek also writes an index line before each packet; it has no
# "layers" and is passed over like any packet without an IP layer. Newer
# tshark releases name the fields ip_src and ip_dst, older ones ip_ip_src and
# ip_ip_dst: both are read. BLACKLIST_URL overrides the list's address.

import os
from sys import stdin
from json import loads
from requests import get

blacklist = set()
r = get(os.environ.get('BLACKLIST_URL', 'https://rules.emergingthreats.net/blockrules/compromised-ips.txt'))
for line in r.iter_lines(decode_unicode=True):
    blacklist.add(line)


def field(layer, name):
    value = layer.get("ip_ip_" + name, layer.get("ip_" + name))
    if value is None:
        raise KeyError(name)
    return value[0] if isinstance(value, list) else value


for line in stdin:
    msg = loads(line)
    try:
        time = msg['timestamp']
        layers = msg['layers']
        ip = layers["ip"]
        src = field(ip, "src")
        dst = field(ip, "dst")
        if src in blacklist or dst in blacklist:
            print("%s %s %s" % (time, src, dst), flush=True)
    except KeyError:
        pass
