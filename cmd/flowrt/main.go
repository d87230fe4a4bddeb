// Command flowrt is a real-time sFlow analytics engine and its tools.
//
//	flowrt decode   decode sFlow like sflowtool (text, -g, -j, -J, -l, -L, -t)
//
// Run "flowrt help" for the list of commands.
package main

import (
	"fmt"
	"os"
)

const version = "0.1.0"

type command struct {
	name, summary string
	run           func(args []string) int
}

var commands = []command{
	{"decode", "decode sFlow from a UDP port or a capture file, sflowtool-style", runDecode},
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
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
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
