package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// What start-up says about properties and options flowrt does not act on:
// each one once, so that a typo (-Dsflow.prot=6360) or an sFlow-RT setting
// with no flowrt equivalent is never silently without effect.

// sflowRTOnly are sFlow-RT properties flowrt has no use for, with why and
// what to use instead.
var sflowRTOnly = map[string]string{
	"workers.number":            "flowrt reads with -Dsflow.sockets goroutines (default one per CPU)",
	"workers.maxqueue":          "flowrt has no worker queue: each socket's goroutine applies what it reads",
	"http.html":                 "flowrt always serves its web pages",
	"http.rest":                 "flowrt always serves REST (-Dhttp.readonly=yes refuses changes)",
	"http.requestheadersize":    "Go's HTTP server sizes its own buffers",
	"http.responseheadersize":   "Go's HTTP server sizes its own buffers",
	"http.requestbuffersize":    "Go's HTTP server sizes its own buffers",
	"http.responsebuffersize":   "Go's HTTP server sizes its own buffers",
	"geo.country6":              "the .mmdb databases of -Dgeo.country and -Dgeo.asn cover IPv6",
	"geo.asn6":                  "the .mmdb databases of -Dgeo.country and -Dgeo.asn cover IPv6",
	"openflow.controller.start": "flowrt has no OpenFlow controller",
}

// jvmPrefixes are system properties that configure a JVM, not sFlow-RT.
var jvmPrefixes = []string{"java.", "javax.", "jdk.", "sun.", "com.sun.", "logback.", "log4j", "file.encoding", "user.timezone"}

// isJVMOption reports whether a command-line argument is a JVM option of
// sFlow-RT's start.sh (-Xmx2000m, -Xms…, -XX:…, -server).
func isJVMOption(a string) bool {
	return strings.HasPrefix(a, "-X") || a == "-server" || a == "-client" || strings.HasPrefix(a, "-ea") ||
		strings.HasPrefix(a, "-verbose:")
}

func isJVMProperty(name string) bool {
	return slices.ContainsFunc(jvmPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// logPropertyNotes logs one line for each property flowrt does not read
// and each JVM option it was given.
func logPropertyNotes(log *slog.Logger, p properties, jvm []string, rtmem string) {
	var jvmProps []string
	for _, kv := range p.unknown() {
		name, _, _ := strings.Cut(kv, "=")
		switch why, ok := sflowRTOnly[name]; {
		case ok:
			log.Warn("sFlow-RT property with no effect in flowrt", "property", kv, "why", why)
		case strings.HasPrefix(name, "snmp."):
			log.Warn("sFlow-RT property with no effect in flowrt", "property", kv, "why", "flowrt has no SNMP client")
		case strings.HasPrefix(name, "openflow."):
			log.Warn("sFlow-RT property with no effect in flowrt", "property", kv, "why", "flowrt has no OpenFlow controller")
		case isJVMProperty(name):
			jvmProps = append(jvmProps, "-D"+kv)
		default:
			near, d := nearestProperty(name)
			if d <= max(2, len(name)/5) {
				log.Warn(fmt.Sprintf("unknown property: did you mean %s? (flowrt does not read %s; scripts can, with getSystemProperty)", near, name),
					"property", kv, "nearest", near)
			} else {
				log.Warn("unknown property: flowrt does not read it; scripts can, with getSystemProperty", "property", kv, "nearest", near)
			}
		}
	}
	if opts := append(jvm, jvmProps...); len(opts) > 0 {
		log.Info("JVM options have no effect: flowrt has no JVM heap to size (its memory is bounded by flow.max, flows.max and events.max)",
			"options", strings.Join(opts, " "))
	}
	if rtmem != "" {
		log.Info("RTMEM has no effect: flowrt has no JVM heap to size", "RTMEM", rtmem)
	}
}

// nearestProperty returns the known property closest to name by edit
// distance, and the distance.
func nearestProperty(name string) (string, int) {
	best, bestD := "", -1
	for _, k := range knownProperties {
		if d := editDistance(name, k.name); bestD < 0 || d < bestD {
			best, bestD = k.name, d
		}
	}
	return best, bestD
}

// editDistance is the Levenshtein distance between a and b (bytes: the
// names are ASCII).
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
