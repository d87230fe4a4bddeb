package flow

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/flowrt/flowrt/internal/jsobj"
	"github.com/flowrt/flowrt/packet"
)

// Expr is a compiled key expression: a key (ipsource, agent, tcpflags.1) or
// a key function (suffix:dnsqname:.:2, or:ipsource:ip6source). AppendValue
// appends the value for a sample to dst; ok is false when the sample has no
// such value, and then the sample does not match the definition (unless
// the expression says what to use instead, as null: does).
//
// Expressions append in place and never allocate: a function appends its
// argument's value to dst and rewrites the tail.
type Expr interface {
	AppendValue(s *Sample, dst []byte) ([]byte, bool)
}

// Func builds a key function from its arguments (the text between ':'
// separators, with [...] nesting removed). Arguments that are keys are
// compiled with Compiler.Key.
type Func func(c *Compiler, args []string) (Expr, error)

// Compiler compiles key expressions and filters. Functions and keys that
// need data from outside the sample (group:, map:, country:, sourcegroup …)
// are registered on it by the packages that own that data.
type Compiler struct {
	funcs   map[string]Func
	named   map[string]Expr
	missing map[string]error // keys that need data nobody configured
	depth   int              // how deep in an expression this compiler compiles (see nested)
}

// MaxDepth bounds nesting where flowrt parses recursively: [...] and key
// functions within key functions, a filter's parentheses — the limit the
// JSON reader (jsobj) has. Deeper input is refused with an error naming
// the limit, so a hostile definition costs neither stack nor more than
// MaxDepth passes over its text (see Compiler.Key).
const MaxDepth = jsobj.MaxDepth

// ErrTooDeep is in the chain of errors for input nested beyond MaxDepth.
var ErrTooDeep = fmt.Errorf("nested more than %d deep", MaxDepth)

// NewCompiler returns a compiler that knows the keys and the key functions
// that need no outside data.
func NewCompiler() *Compiler {
	c := &Compiler{funcs: map[string]Func{}, named: map[string]Expr{}, missing: map[string]error{}}
	for name, f := range builtins {
		c.funcs[name] = f
	}
	return c
}

// Register adds (or replaces) a key function.
func (c *Compiler) Register(name string, f Func) { c.funcs[name] = f }

// RegisterKey adds (or replaces) a plain key computed by e.
func (c *Compiler) RegisterKey(name string, e Expr) { c.named[name] = e }

// RegisterUnavailableKey makes a key known but refused, with the reason
// (e.g. sourcecountry when no GeoIP database is configured).
func (c *Compiler) RegisterUnavailableKey(name string, why error) { c.missing[name] = why }

// Keys lists the plain keys registered with RegisterKey.
func (c *Compiler) Keys() []string {
	out := make([]string, 0, len(c.named))
	for k := range c.named {
		out = append(out, k)
	}
	return out
}

// KeyError names the token of a definition that is not understood.
type KeyError struct {
	Token string
	Msg   string
	Err   error // the cause, when it is one errors.Is knows (ErrTooDeep)
}

func (e *KeyError) Error() string { return fmt.Sprintf("%s: %s", quote(e.Token), e.Msg) }

func (e *KeyError) Unwrap() error { return e.Err }

// quoteMax is how much of an expression an error quotes: a 4 MB filter
// is refused in one line, not echoed.
const quoteMax = 80

// quote quotes s for an error message, cut to its first quoteMax bytes
// (on a character boundary) with its length when it is longer.
func quote(s string) string {
	if len(s) <= quoteMax {
		return strconv.Quote(s)
	}
	cut := quoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// Key compiles one key expression.
//
// Work is linear in the expression's length: the nesting is measured in
// one pass before anything recurses (deeper than MaxDepth is refused
// there), and each level then splits its own text once, without copying
// it, so no expression costs more than MaxDepth passes over its text.
func (c *Compiler) Key(src string) (Expr, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, &KeyError{Token: src, Msg: "empty key"}
	}
	if c.depth == 0 {
		if err := checkNesting(src); err != nil {
			return nil, err
		}
	}
	parts, err := splitArgs(src)
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 {
		p := parts[0]
		if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
			in, err := c.nested(src)
			if err != nil {
				return nil, err
			}
			return in.Key(p[1 : len(p)-1])
		}
		return c.plainKey(p)
	}
	f, ok := c.funcs[parts[0]]
	if !ok {
		return nil, &KeyError{Token: src, Msg: fmt.Sprintf("unknown key function %s", quote(parts[0]))}
	}
	args := make([]string, len(parts)-1)
	for i, a := range parts[1:] {
		if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			a = a[1 : len(a)-1]
		}
		args[i] = a
	}
	in, err := c.nested(src)
	if err != nil {
		return nil, err
	}
	e, err := f(in, args)
	if err != nil {
		if _, isKeyErr := err.(*KeyError); isKeyErr {
			return nil, err
		}
		return nil, &KeyError{Token: src, Msg: err.Error()}
	}
	return e, nil
}

// nested returns the compiler for the arguments of an expression at c's
// depth: functions compile their key arguments with it, so the depth
// travels with the recursion whichever function recurses.
func (c *Compiler) nested(src string) (*Compiler, error) {
	if c.depth >= MaxDepth {
		return nil, &KeyError{Token: src, Msg: ErrTooDeep.Error() + " (brackets [ ] and key functions within key functions)", Err: ErrTooDeep}
	}
	in := *c
	in.depth++
	return &in, nil
}

// checkNesting refuses, in one pass, an expression whose brackets nest
// deeper than MaxDepth, before any recursion starts.
func checkNesting(s string) error {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if depth == 0 {
				i++ // an escaped character, as splitArgs reads it
			}
		case '[':
			if depth++; depth > MaxDepth {
				return &KeyError{Token: s, Msg: fmt.Sprintf("brackets [ ] %v", ErrTooDeep), Err: ErrTooDeep}
			}
		case ']':
			depth--
		}
	}
	return nil
}

// IsKey reports whether name is a flow key flowrt knows.
func IsKey(name string) bool {
	_, err := NewCompiler().plainKey(name)
	return err == nil
}

// KeyNames lists the plain keys.
func KeyNames() []string {
	out := packet.Keys()
	for k := range sampleKeys {
		out = append(out, k)
	}
	return out
}

func (c *Compiler) plainKey(name string) (Expr, error) {
	if e, ok := c.named[name]; ok {
		return e, nil
	}
	if err, ok := c.missing[name]; ok {
		return nil, &KeyError{Token: name, Msg: err.Error()}
	}
	if f, ok := sampleKeys[name]; ok {
		return sampleKey(f), nil
	}
	if k, ok := packet.Lookup(name); ok {
		pk := packetKey{k: k}
		if f, ok := sampledIPKeys[name]; ok {
			pk.fallback = f
		}
		if k.IsAddr() {
			return addrKey{packetKey: pk, fallback: sampledIPAddrs[name]}, nil
		}
		return pk, nil
	}
	return nil, &KeyError{Token: name, Msg: "unknown flow key"}
}

// splitArgs splits a key expression on ':' outside brackets; "\:" is a
// literal colon. Parts are slices of s, copied only when they have an
// escape to remove.
func splitArgs(s string) ([]string, error) {
	var out []string
	start, depth, escaped := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if depth == 0 && i+1 < len(s) {
				i++
				escaped = true
			}
		case '[':
			depth++
		case ']':
			if depth--; depth < 0 {
				return nil, &KeyError{Token: s, Msg: "']' without '['"}
			}
		case ':':
			if depth == 0 {
				out = append(out, unescape(s[start:i], escaped))
				start, escaped = i+1, false
			}
		}
	}
	if depth != 0 {
		return nil, &KeyError{Token: s, Msg: "'[' without ']'"}
	}
	return append(out, unescape(s[start:], escaped)), nil
}

// unescape removes the backslashes outside brackets from a part that has
// some.
func unescape(p string, escaped bool) string {
	if !escaped {
		return p
	}
	b := make([]byte, 0, len(p))
	depth := 0
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\' && depth == 0 && i+1 < len(p):
			i++
			b = append(b, p[i])
			continue
		case ch == '[':
			depth++
		case ch == ']':
			depth--
		}
		b = append(b, ch)
	}
	return string(b)
}

type sampleKey sampleKeyFunc

func (k sampleKey) AppendValue(s *Sample, dst []byte) ([]byte, bool) { return k(s, dst) }

type packetKey struct {
	k        packet.Key
	fallback sampleKeyFunc
}

func (k packetKey) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	if s.HasHeader {
		return k.k.Append(&s.Packet, dst)
	}
	if k.fallback != nil {
		return k.fallback(s, dst)
	}
	return dst, false
}

// addrKey is a packet key whose values are addresses (ipsource,
// ip6destination.1 …): mask: takes them as addresses rather than
// formatting and parsing text (a tenth of a mask: definition's cost).
type addrKey struct {
	packetKey
	fallback func(*Sample) (netip.Addr, bool) // from sampled_ipv4/ipv6 records, without a header
}

// addrValued is an expression that can give its value as an address.
type addrValued interface {
	Addr(s *Sample) (netip.Addr, bool)
}

// Addr gives the address AppendValue formats, where it has one.
func (k addrKey) Addr(s *Sample) (netip.Addr, bool) {
	if s.HasHeader {
		return k.k.Addr(&s.Packet)
	}
	if k.fallback != nil {
		return k.fallback(s)
	}
	return netip.Addr{}, false
}

type literal string

func (l literal) AppendValue(_ *Sample, dst []byte) ([]byte, bool) { return append(dst, l...), true }

// str views b as a string without copying; the string must not outlive b's
// next change.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func need(args []string, lo, hi int, usage string) error {
	if len(args) < lo || (hi >= 0 && len(args) > hi) {
		return fmt.Errorf("usage %s", usage)
	}
	return nil
}

func (c *Compiler) keys(args []string) ([]Expr, error) {
	out := make([]Expr, len(args))
	for i, a := range args {
		e, err := c.Key(a)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

var builtins = map[string]Func{
	// dns: reverse DNS through the system's resolver (dns.go); an engine
	// may register its own DNSFunc instead.
	"dns": func(c *Compiler, args []string) (Expr, error) { return DNSFunc(defaultDNS())(c, args) },
	"or": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 1, -1, "or:<key>:<key>…"); err != nil {
			return nil, err
		}
		ks, err := c.keys(args)
		return orExpr(ks), err
	},
	"null": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 1, 2, "null:<key>[:<default>]"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		def := "null"
		if len(args) == 2 {
			def = args[1]
		}
		return orExpr{k, literal(def)}, err
	},
	"prefix": func(c *Compiler, args []string) (Expr, error) { return tokens(c, args, "prefix", false) },
	"suffix": func(c *Compiler, args []string) (Expr, error) { return tokens(c, args, "suffix", true) },
	"mask": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, 3, "mask:<address key>:<bits>[:<ipv6 bits>]"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		m := maskExpr{k: k}
		if m.bits4, err = strconv.Atoi(args[1]); err != nil || m.bits4 < 0 || m.bits4 > 128 {
			return nil, fmt.Errorf("mask bits %q is not a prefix length", args[1])
		}
		m.bits6 = m.bits4
		if len(args) == 3 {
			if m.bits6, err = strconv.Atoi(args[2]); err != nil || m.bits6 < 0 || m.bits6 > 128 {
				return nil, fmt.Errorf("mask bits %q is not a prefix length", args[2])
			}
		}
		return m, nil
	},
	"range": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, 3, "range:<key>:<low>[:<high>]"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		r := rangeExpr{k: k, hi: 1e308}
		if r.lo, err = strconv.ParseFloat(args[1], 64); err != nil {
			return nil, fmt.Errorf("range low %q is not a number", args[1])
		}
		if len(args) == 3 {
			if r.hi, err = strconv.ParseFloat(args[2], 64); err != nil {
				return nil, fmt.Errorf("range high %q is not a number", args[2])
			}
		}
		return r, nil
	},
	"eq": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, 2, "eq:<key>:<key>"); err != nil {
			return nil, err
		}
		ks, err := c.keys(args)
		if err != nil {
			return nil, err
		}
		return eqExpr{ks[0], ks[1]}, nil
	},
	"concat": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, -1, "concat:<separator>:<key>:<key>…"); err != nil {
			return nil, err
		}
		ks, err := c.keys(args[1:])
		return concatExpr{sep: args[0], ks: ks}, err
	},
	"first": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 3, -1, "first:<key>:<delimiter>:<option>…"); err != nil {
			return nil, err
		}
		if args[1] == "" {
			return nil, fmt.Errorf("first needs a delimiter")
		}
		k, err := c.Key(args[0])
		return firstExpr{k: k, delim: args[1], opts: args[2:]}, err
	},
	"if": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 4, 4, "if:<key>:<value>:<then key>:<else key>"); err != nil {
			return nil, err
		}
		cond, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		// A bare word that names no key is a constant (if:ipprotocol:6:tcp:other).
		// A key that exists but cannot be computed here, or any bracketed
		// expression ([country:ipsource] without a GeoIP database, as
		// world-map writes it), is an error at definition: turned into its
		// own text it would key every flow by the same string, silently.
		// sFlow-RT ships its GeoIP databases, so there it always resolves;
		// flowrt says what to configure instead.
		branch := func(a string) (Expr, error) {
			e, err := c.Key(a)
			if err == nil {
				return e, nil
			}
			var ke *KeyError
			if !strings.HasPrefix(strings.TrimSpace(a), "[") && errors.As(err, &ke) && ke.Msg == "unknown flow key" {
				return literal(a), nil
			}
			return nil, fmt.Errorf("if: %w", err)
		}
		then, err := branch(args[2])
		if err != nil {
			return nil, err
		}
		els, err := branch(args[3])
		if err != nil {
			return nil, err
		}
		return ifExpr{cond: cond, value: args[1], then: then, els: els}, nil
	},
	"uri": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, 2, "uri:<url key>:<part>"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		part := slicesIndex(uriParts, args[1])
		if part < 0 {
			return nil, fmt.Errorf("uri part %q is not one of %s", args[1], strings.Join(uriParts, ", "))
		}
		return uriExpr{k: k, part: uriParts[part]}, nil
	},
	"bits": func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 2, 2, "bits:<key>:<mask>"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		m, err := strconv.ParseUint(args[1], 0, 64)
		if err != nil {
			return nil, fmt.Errorf("bits mask %q is not a number", args[1])
		}
		return bitsExpr{k: k, mask: m}, nil
	},
}

type orExpr []Expr

func (o orExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	for _, e := range o {
		if out, ok := e.AppendValue(s, dst); ok {
			return out, true
		}
	}
	return dst, false
}

type tokenExpr struct {
	k      Expr
	delim  string
	n      int
	suffix bool
}

func tokens(c *Compiler, args []string, name string, suffix bool) (Expr, error) {
	if err := need(args, 3, 3, name+":<key>:<delimiter>:<count>"); err != nil {
		return nil, err
	}
	k, err := c.Key(args[0])
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 1 || args[1] == "" {
		return nil, fmt.Errorf("%s needs a delimiter and a count of at least 1", name)
	}
	return tokenExpr{k: k, delim: args[1], n: n, suffix: suffix}, nil
}

func (t tokenExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := t.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	v := out[start:]
	d := []byte(t.delim)
	if t.suffix {
		// Skip one trailing delimiter, as DNS names end in '.'.
		end := len(v)
		if bytes.HasSuffix(v[:end], d) {
			end -= len(d)
		}
		i, seen := end, 0
		for i > 0 {
			j := bytes.LastIndex(v[:i], d)
			if j < 0 {
				i = 0
				break
			}
			seen++
			if seen == t.n {
				i = j + len(d)
				break
			}
			i = j
		}
		n := copy(out[start:], v[i:])
		return out[:start+n], true
	}
	i, seen := 0, 0
	for {
		j := bytes.Index(v[i:], d)
		if j < 0 {
			return out, true
		}
		seen++
		if seen == t.n {
			return out[:start+i+j], true
		}
		i += j + len(d)
	}
}

type maskExpr struct {
	k            Expr
	bits4, bits6 int
}

func (m maskExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	if k, ok := m.k.(addrValued); ok {
		a, ok := k.Addr(s)
		if !ok {
			return dst, false
		}
		return m.appendMasked(a, dst)
	}
	start := len(dst)
	out, ok := m.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	a, err := netip.ParseAddr(str(out[start:]))
	if err != nil {
		return dst, false
	}
	return m.appendMasked(a, out[:start])
}

// appendMasked appends a's prefix of the mask's length, as an address.
func (m maskExpr) appendMasked(a netip.Addr, dst []byte) ([]byte, bool) {
	bits := m.bits4
	if a.Is6() {
		bits = m.bits6
	}
	p, err := a.Prefix(min(bits, a.BitLen()))
	if err != nil {
		return dst, false
	}
	return p.Addr().AppendTo(dst), true
}

func number(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(str(b), 64)
	return v, err == nil
}

type rangeExpr struct {
	k      Expr
	lo, hi float64
}

func (r rangeExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := r.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	v, ok := number(out[start:])
	if !ok {
		return dst, false
	}
	return strconv.AppendBool(out[:start], v >= r.lo && v <= r.hi), true
}

type eqExpr struct{ a, b Expr }

func (e eqExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := e.a.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	mid := len(out)
	out, ok = e.b.AppendValue(s, out)
	if !ok {
		return dst, false
	}
	return strconv.AppendBool(out[:start], bytes.Equal(out[start:mid], out[mid:])), true
}

type concatExpr struct {
	sep string
	ks  []Expr
}

func (c concatExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	out := dst
	for i, k := range c.ks {
		if i > 0 {
			out = append(out, c.sep...)
		}
		var ok bool
		if out, ok = k.AppendValue(s, out); !ok {
			return dst, false
		}
	}
	return out, true
}

type firstExpr struct {
	k     Expr
	delim string
	opts  []string
}

func (f firstExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := f.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	v := str(out[start:])
	for v != "" {
		tok, rest, _ := strings.Cut(v, f.delim)
		for _, o := range f.opts {
			if tok == o {
				return append(out[:start], o...), true
			}
		}
		v = rest
	}
	return dst, false
}

type ifExpr struct {
	cond      Expr
	value     string
	then, els Expr
}

func (e ifExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := e.cond.AppendValue(s, dst)
	match := ok && str(out[start:]) == e.value
	if match {
		return e.then.AppendValue(s, dst)
	}
	return e.els.AppendValue(s, dst)
}

type bitsExpr struct {
	k    Expr
	mask uint64
}

func (b bitsExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := b.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	v, err := strconv.ParseUint(str(out[start:]), 10, 64)
	if err != nil {
		return dst, false
	}
	return strconv.AppendUint(out[:start], v&b.mask, 10), true
}

var uriParts = []string{"scheme", "host", "port", "path", "file", "extension", "query", "fragment"}

func slicesIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// uriExpr takes one part of a URL (scheme://host:port/path/file.ext?query#fragment).
type uriExpr struct {
	k    Expr
	part string
}

func (u uriExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := u.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	v := out[start:]
	cut := func(b []byte, sep byte) (before, after []byte, found bool) {
		if i := bytes.IndexByte(b, sep); i >= 0 {
			return b[:i], b[i+1:], true
		}
		return b, nil, false
	}
	var scheme, authority []byte
	if i := bytes.Index(v, []byte("://")); i >= 0 {
		scheme, v = v[:i], v[i+3:]
		j := bytes.IndexAny(v, "/?#")
		if j < 0 {
			j = len(v)
		}
		authority, v = v[:j], v[j:]
	}
	rest, fragment, _ := cut(v, '#')
	path, query, _ := cut(rest, '?')
	host, port, _ := cut(authority, ':')
	var part []byte
	switch u.part {
	case "scheme":
		part = scheme
	case "host":
		part = host
	case "port":
		part = port
	case "path":
		part = path
	case "query":
		part = query
	case "fragment":
		part = fragment
	case "file", "extension":
		part = path[bytes.LastIndexByte(path, '/')+1:]
		if u.part == "extension" {
			i := bytes.LastIndexByte(part, '.')
			if i < 0 {
				return dst, false
			}
			part = part[i+1:]
		}
	}
	if len(part) == 0 {
		return dst, false
	}
	n := copy(out[start:], part)
	return out[:start+n], true
}

// AppendAddr evaluates an address-valued expression (ipsource, ip6source,
// or:ipsource:ip6source …) and parses the result, using dst as scratch.
//
// An address key (addrKey) gives its address without the text.
func AppendAddr(e Expr, s *Sample, dst []byte) (netip.Addr, []byte, bool) {
	if k, ok := e.(addrValued); ok {
		a, ok := k.Addr(s)
		return a, dst[:0], ok
	}
	out, ok := e.AppendValue(s, dst[:0])
	if !ok {
		return netip.Addr{}, out, false
	}
	a, err := netip.ParseAddr(str(out))
	return a, out, err == nil
}
