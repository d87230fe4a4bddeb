// Command flowrt is a real-time sFlow analytics engine and its tools.
//
//	flowrt [serve]  the analytics engine: sFlow on UDP 6343, REST on TCP 8008
//	flowrt send     send sFlow: a capture replayed or a synthetic mix, at a rate
//	flowrt decode   decode sFlow like sflowtool (text, -g, -j, -J, -l, -L, -t)
//	flowrt agent    a Host sFlow agent: host counters and sampled packets
//	flowrt app      install, list and remove sFlow-RT applications
//	flowrt passwd   a line for http.auth.file: a password hash or a token
//
// Run "flowrt help" for the list of commands.
package main

import (
	"fmt"
	"os"
	"strings"
)

// version is a variable so that scripts/release can stamp the tag's
// version into the binary: go build -ldflags "-X main.version=1.2.3".
var version = "0.1.0"

type command struct {
	name, summary string
	run           func(args []string) int
}

var commands = []command{
	{"serve", "run the analytics engine: sFlow on UDP 6343, REST and web on TCP 8008 (the default)", runServe},
	{"send", "send sFlow to a collector: a capture's datagrams or a synthetic mix, at a chosen rate", runSend},
	{"decode", "decode sFlow from a UDP port or a capture file, sflowtool-style", runDecode},
	{"agent", "a Host sFlow agent: this host's counters and sampled packets (hsflowd.conf)", runAgent},
	{"app", "install, list or remove sFlow-RT applications in app.dir (a directory, .tar.gz or .zip)", runApp},
	{"passwd", "print an http.auth.file line: a user's bcrypt password hash, or a new bearer token", runPasswd},
	{"version", "print the version", func([]string) int { fmt.Println("flowrt", version); return 0 }},
}

func usage() {
	fmt.Fprintf(os.Stderr, "flowrt %s: real-time sFlow analytics\n\nUsage: flowrt <command> [flags]\n\nCommands:\n", version)
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun \"flowrt <command> -h\" for a command's flags.\n")
}

func main() {
	// No command, or only properties and flags: run the engine, as
	// sFlow-RT's start.sh does.
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") && os.Args[1] != "-h" && os.Args[1] != "--help" {
		os.Exit(runServe(os.Args[1:]))
	}
	name := os.Args[1]
	for _, c := range commands {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	if name == "help" || name == "-h" || name == "--help" {
		usage()
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "flowrt: unknown command %q\n", name)
	usage()
	os.Exit(2)
}
