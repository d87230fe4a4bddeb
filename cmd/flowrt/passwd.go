package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

const passwdUsage = `Usage: flowrt passwd [-cost N] USER [read-only|read-write]
       flowrt passwd -token [read-only|read-write]

Prints a line for http.auth.file (docs/security.md): USER's password,
read from the terminal without echo or as one line of standard input,
as a bcrypt hash; or, with -token, a new random bearer token. The role
is read-only (GET and HEAD) unless read-write is given.

  flowrt passwd alice read-write >> /etc/flowrt/auth
  echo "$PASSWORD" | flowrt passwd bob >> /etc/flowrt/auth
  flowrt passwd -token read-write >> /etc/flowrt/auth
`

func runPasswd(args []string) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, passwdUsage) }
	cost := fs.Int("cost", bcrypt.DefaultCost, "bcrypt cost: each step doubles the work of checking a password")
	token := fs.Bool("token", false, "print a new random bearer token instead")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	role := "read-only"
	want := 1
	if *token {
		want = 0
	}
	if len(rest) == want+1 {
		role = rest[want]
	}
	if len(rest) < want || len(rest) > want+1 || role != "read-only" && role != "read-write" {
		fs.Usage()
		return 2
	}
	if *token {
		b := make([]byte, 32)
		rand.Read(b)
		fmt.Printf("%s:%s\n", hex.EncodeToString(b), role)
		return 0
	}
	user := rest[0]
	if user == "" || strings.ContainsAny(user, ":\n") {
		fmt.Fprintf(os.Stderr, "flowrt passwd: user %q: a name may not be empty nor hold ':'\n", user)
		return 2
	}
	if *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost {
		fmt.Fprintf(os.Stderr, "flowrt passwd: -cost %d is out of range: %d to %d\n", *cost, bcrypt.MinCost, bcrypt.MaxCost)
		return 2
	}
	password, err := readPassword(user)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt passwd: %v\n", err)
		return 1
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), *cost)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowrt passwd: %v\n", err)
		return 1
	}
	fmt.Printf("%s:%s:%s\n", user, hash, role)
	return 0
}

// readPassword asks twice on a terminal (echo off); otherwise it reads
// one line of standard input.
func readPassword(user string) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", fmt.Errorf("no password on standard input (%v)", err)
		}
		return line, nil
	}
	fmt.Fprintf(os.Stderr, "password for %s: ", user)
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) || len(a) == 0 {
		return "", fmt.Errorf("the two passwords differ or are empty: nothing printed")
	}
	return string(a), nil
}
