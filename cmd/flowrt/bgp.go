package main

import (
	"log/slog"
	"strings"

	"github.com/flowrt/flowrt/bgp"
	"github.com/flowrt/flowrt/flow"
)

// startBGP makes the embedded BGP speaker when bgp.start=yes (nil
// otherwise) and lets the bgp flow keys read its RIBs. It listens once a
// script adds the first neighbor (docs/bgp.md).
func startBGP(p properties, log *slog.Logger) (*bgp.Speaker, error) {
	on, err := p.bool("bgp.start")
	if err != nil || !on {
		return nil, err
	}
	port, err := p.int("bgp.port")
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, a := range strings.Split(p.str("bgp.hostname"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	sp := bgp.New(bgp.Config{Port: port, Addresses: addrs, Logger: log})
	flow.SetBGPRoutes(sp)
	log.Info("BGP speaker on: it listens when a script adds a neighbor", "port", port)
	return sp, nil
}
