#!/usr/bin/env python3
# Prints time, source, destination and size of each sampled packet, reading
# one JSON datagram a line from standard input, as "sflowtool -j" writes them:
#
#   flowrt decode -j | ./sflow.py
#
# The sFlow to JSON article's scripts, ported to Python 3; flowrt decode -j
# writes the same lines as sflowtool -j, so the article's pipeline works with
# either on the left.

from sys import stdin
from json import loads

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
                        pktsize = element["sampledPacketSize"]
                        print("%s %s %s %s" % (localtime, src, dst, pktsize), flush=True)
                    except KeyError:
                        pass
