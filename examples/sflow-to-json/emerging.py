#!/usr/bin/env python3
# The emerging.py script of the sflowtool article, ported to Python 3:
# downloads the Emerging Threats compromised address list, then reads one
# JSON datagram a line from standard input and prints the sampled flows to or
# from a listed address:
#
#   flowrt decode -j | ./emerging.py
#
# BLACKLIST_URL overrides the list's address (the tests serve a list from
# 127.0.0.1).

import os
from sys import stdin
from json import loads
from requests import get

blacklist = set()
r = get(os.environ.get('BLACKLIST_URL', 'https://rules.emergingthreats.net/blockrules/compromised-ips.txt'))
for line in r.iter_lines(decode_unicode=True):
    blacklist.add(line)

for line in stdin:
    datagram = loads(line)
    localtime = datagram["localtime"]
    samples = datagram["samples"]
    for sample in samples:
        sampleType = sample["sampleType"]
        elements = sample["elements"]
        if sampleType == "FLOWSAMPLE":
            for element in elements:
                tag = element["flowBlock_tag"]
                if tag == "0:1":
                    try:
                        src = element["srcIP"]
                        dst = element["dstIP"]
                        if src in blacklist or dst in blacklist:
                            print("%s %s %s" % (localtime, src, dst), flush=True)
                    except KeyError:
                        pass
