package main

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// census counts what an input held besides sFlow, so that a capture or a
// port with no sFlow in it is explained on stderr instead of printing
// nothing: a capture of the wrong interface, NetFlow sent to the sFlow
// port, sFlow on a port that was not captured.
type census struct {
	sflow    int            // datagrams that are sFlow version 5
	notSFlow int            // UDP datagrams that are not
	ports    map[uint16]int // those, by destination port
	senders  map[netip.Addr]int
	looks    map[string]int // those, by what they look like (NetFlow v9…)
	nonUDP   map[string]int // capture frames that hold no UDP datagram, by protocol
	frames   int            // capture frames read
}

// maxNamed is how many distinct ports and senders a census names.
const maxNamed = 64

func newCensus() *census {
	return &census{ports: map[uint16]int{}, senders: map[netip.Addr]int{}, looks: map[string]int{}, nonUDP: map[string]int{}}
}

// frame counts a capture frame that holds no UDP datagram: proto is its IP
// protocol, ok false when it is not IP at all.
func (c *census) frame(proto uint8, ok bool) {
	name := "non-IP frame"
	switch {
	case !ok:
	case proto == 6:
		name = "TCP packet"
	case proto == 17:
		name = "UDP fragment" // not the first: no UDP header to read
	case proto == 1 || proto == 58:
		name = "ICMP packet"
	default:
		name = fmt.Sprintf("IP protocol %d packet", proto)
	}
	c.nonUDP[name]++
}

// datagram counts a UDP datagram that is not sFlow version 5, sent from src
// to port dst (0 when unknown).
func (c *census) datagram(payload []byte, src netip.Addr, dst uint16) {
	c.notSFlow++
	// A port flooded from spoofed addresses must not grow these without
	// bound: past maxNamed distinct ports or senders, only the total grows.
	if _, ok := c.ports[dst]; ok || len(c.ports) < maxNamed {
		c.ports[dst]++
	}
	if _, ok := c.senders[src]; src.IsValid() && (ok || len(c.senders) < maxNamed) {
		c.senders[src]++
	}
	c.looks[looksLike(payload)]++
}

const (
	notFlow  = "not a flow protocol flowrt knows"
	tooShort = "shorter than an sFlow header"
)

// looksLike names the flow protocol a datagram that is not sFlow v5 seems
// to be, from its version field.
func looksLike(p []byte) string {
	if len(p) < 4 {
		return tooShort
	}
	switch v := binary.BigEndian.Uint32(p); v {
	case 2, 4:
		return fmt.Sprintf("sFlow version %d, which flowrt does not decode", v)
	}
	switch binary.BigEndian.Uint16(p) {
	case 1, 5, 7:
		return fmt.Sprintf("NetFlow v%d", binary.BigEndian.Uint16(p))
	case 9:
		return "NetFlow v9"
	case 10:
		return "IPFIX"
	}
	return notFlow
}

// empty reports what was found when there was no sFlow at all: where is
// "in FILE" or "on UDP ADDR". It returns "" when there was sFlow.
func (c *census) empty(where string, live bool) string {
	switch {
	case c.sflow > 0:
		return ""
	case live && c.notSFlow == 0:
		return fmt.Sprintf("no datagrams received %s: check that the agents send sFlow to this host and port "+
			"(agents send to UDP 6343 unless configured otherwise; choose the port with -p)", where)
	case !live && c.frames == 0:
		return fmt.Sprintf("no packets %s: the capture is empty", where)
	}
	var parts []string
	for _, k := range sortedKeys(c.nonUDP) {
		parts = append(parts, fmt.Sprintf("%d %s", c.nonUDP[k], plural(k, c.nonUDP[k])))
	}
	if c.notSFlow > 0 {
		s := fmt.Sprintf("%d UDP %s", c.notSFlow, plural("datagram", c.notSFlow))
		if !live { // live, the port is the one listened on
			var ports []string
			for _, p := range slices.Sorted(maps.Keys(c.ports)) {
				ports = append(ports, fmt.Sprintf("%d (%d)", p, c.ports[p]))
			}
			if len(ports) == 1 {
				s += fmt.Sprintf(" to port %d", slices.Collect(maps.Keys(c.ports))[0])
			} else {
				s += " to ports " + strings.Join(ports, ", ")
			}
		}
		var from []string
		for _, a := range slices.SortedFunc(maps.Keys(c.senders), netip.Addr.Compare) {
			from = append(from, a.String())
		}
		if len(from) > 5 {
			from = append(from[:5], "…")
		}
		if len(from) > 0 {
			s += " from " + strings.Join(from, ", ")
		}
		var looks []string
		for _, k := range sortedKeys(c.looks) {
			looks = append(looks, fmt.Sprintf("%d %s", c.looks[k], k))
		}
		parts = append(parts, s+" that "+isAre(c.notSFlow)+" not sFlow version 5 ("+strings.Join(looks, ", ")+")")
	}
	msg := fmt.Sprintf("no sFlow datagrams %s: %s. ", where, strings.Join(parts, "; "))
	if live {
		return msg + "flowrt decode reads sFlow version 5: point the agents' sFlow (not NetFlow or IPFIX) at this port, " +
			"or listen on the port they send to with -p"
	}
	return msg + "sFlow is UDP, normally to port 6343: capture it where the agents send it, " +
		"e.g. tcpdump -i any -w FILE udp port 6343"
}

func plural(s string, n int) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
