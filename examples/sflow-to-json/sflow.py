#!/usr/bin/env python3
# The first script of the "sFlow to JSON" article, ported to Python 3:
# run "sflowtool -j" and print time, source, destination and size of each
# sampled packet. flowrt stands in for sflowtool: put a "sflowtool" on PATH
# that runs "flowrt decode", or change the command below to
# ["flowrt", "decode", "-j"].

import subprocess
from json import loads

p = subprocess.Popen(
    ["sflowtool", "-j"],
    stdout=subprocess.PIPE,
    universal_newlines=True,
)
lines = iter(p.stdout.readline, '')
for line in lines:
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
                        print("%s %s %s %s" % (localtime, src, dst, pktsize))
                    except KeyError:
                        pass
