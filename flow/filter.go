package flow

import (
	"fmt"
	"regexp"
	"strings"
)

// Filter is a compiled filter expression:
//
//	ipprotocol=6&tcpflags~.......1.
//	dnsqr=false&(dnsqtype=255|dnsqtype=16)
//	vxlanvni!=null
//	dnsqname="a.example.,b.example.,c.example."
//
// Operators: = and != (equality with any of a comma separated list of
// values; null means "the key is absent"), ~ and !~ (regular expression
// match anywhere in the value), & (and), | (or), parentheses. A list of
// alternatives is compiled to a hash set, so a filter naming 16,000 domains
// costs one lookup; regular expressions are compiled once.
type Filter struct {
	root node
	src  string
}

// String returns the source of the filter.
func (f *Filter) String() string { return f.src }

// Match reports whether the sample passes. buf is scratch space.
func (f *Filter) Match(s *Sample, buf *[]byte) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(s, buf)
}

type node interface {
	match(s *Sample, buf *[]byte) bool
}

type andNode []node

func (a andNode) match(s *Sample, buf *[]byte) bool {
	for _, n := range a {
		if !n.match(s, buf) {
			return false
		}
	}
	return true
}

type orNode []node

func (o orNode) match(s *Sample, buf *[]byte) bool {
	for _, n := range o {
		if n.match(s, buf) {
			return true
		}
	}
	return false
}

// smallSet is the size up to which alternatives are compared in a loop
// rather than looked up in a map.
const smallSet = 4

type cmpNode struct {
	lhs    Expr
	negate bool
	regex  bool
	null   bool // one of the alternatives is null
	list   []string
	set    map[string]struct{}
	res    []*regexp.Regexp
}

func (c *cmpNode) match(s *Sample, buf *[]byte) bool {
	b, ok := c.lhs.AppendValue(s, (*buf)[:0])
	*buf = b[:0]
	var hit bool
	switch {
	case !ok:
		hit = c.null
	case c.regex:
		for _, re := range c.res {
			if re.Match(b) {
				hit = true
				break
			}
		}
	case c.set != nil:
		_, hit = c.set[string(b)]
	default:
		for _, v := range c.list {
			if v == string(b) {
				hit = true
				break
			}
		}
	}
	return hit != c.negate
}

// FilterError says where a filter stopped making sense.
type FilterError struct {
	Filter string
	Offset int
	Msg    string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter %s at %d: %s", quote(e.Filter), e.Offset, e.Msg)
}

// Bounds on a filter's regular expressions: each is tried on every sample
// the definition sees, and each costs about 1.3 KB compiled, so a
// definition of a million alternatives (a 2 MB body) would cost 300 MB
// and stall the collector. A long list of exact values belongs after =,
// where it is one hash lookup.
const (
	MaxRegexps      = 256
	MaxRegexpsBytes = 8 << 10
)

// Filter compiles a filter expression. The empty filter passes everything.
func (c *Compiler) Filter(src string) (*Filter, error) {
	f := &Filter{src: src}
	if strings.TrimSpace(src) == "" {
		return f, nil
	}
	p := filterParser{c: c, s: src}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q", p.s[p.i])
	}
	f.root = n
	return f, nil
}

type filterParser struct {
	c *Compiler
	s string
	i int

	depth         int // parentheses open
	regexps, reSz int // regular expressions compiled so far, and their length
}

func (p *filterParser) errorf(format string, args ...any) error {
	return &FilterError{Filter: p.s, Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *filterParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *filterParser) or() (node, error) {
	var terms orNode
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '|' {
			p.i++
			continue
		}
		if len(terms) == 1 {
			return terms[0], nil
		}
		return terms, nil
	}
}

func (p *filterParser) and() (node, error) {
	var terms andNode
	for {
		n, err := p.factor()
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '&' {
			p.i++
			continue
		}
		if len(terms) == 1 {
			return terms[0], nil
		}
		return terms, nil
	}
}

func (p *filterParser) factor() (node, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errorf("expected a comparison")
	}
	if p.s[p.i] == '(' {
		if p.depth >= MaxDepth {
			return nil, p.errorf("parentheses %v", ErrTooDeep)
		}
		p.depth++
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errorf("expected ')'")
		}
		p.i++
		p.depth--
		return n, nil
	}
	return p.comparison()
}

func (p *filterParser) comparison() (node, error) {
	start := p.i
	depth := 0
	for p.i < len(p.s) {
		ch := p.s[p.i]
		if ch == '[' {
			depth++
		} else if ch == ']' {
			depth--
		} else if depth == 0 && (ch == '=' || ch == '~' || (ch == '!' && p.i+1 < len(p.s) && (p.s[p.i+1] == '=' || p.s[p.i+1] == '~'))) {
			break
		} else if depth == 0 && (ch == '&' || ch == '|' || ch == '(' || ch == ')') {
			return nil, p.errorf("expected an operator (=, !=, ~, !~) after %s", quote(strings.TrimSpace(p.s[start:p.i])))
		}
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, &FilterError{Filter: p.s, Offset: start, Msg: fmt.Sprintf("%s has no operator (=, !=, ~, !~)", quote(strings.TrimSpace(p.s[start:])))}
	}
	lhsSrc := strings.TrimSpace(p.s[start:p.i])
	if lhsSrc == "" {
		return nil, p.errorf("missing key before operator")
	}
	lhs, err := p.c.Key(lhsSrc)
	if err != nil {
		return nil, &FilterError{Filter: p.s, Offset: start, Msg: err.Error()}
	}
	n := &cmpNode{lhs: lhs}
	if p.s[p.i] == '!' {
		n.negate = true
		p.i++
	}
	n.regex = p.s[p.i] == '~'
	p.i++
	values, err := p.values()
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if v == "null" {
			n.null = true
			continue
		}
		if n.regex {
			p.regexps++
			p.reSz += len(v)
			if p.regexps > MaxRegexps || p.reSz > MaxRegexpsBytes {
				return nil, p.errorf("more than %d regular expressions or %d bytes of them: each is tried on every sample; "+
					"list exact values after = instead (one hash lookup however many)", MaxRegexps, MaxRegexpsBytes)
			}
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, p.errorf("bad regular expression %s: %v", quote(v), err)
			}
			n.res = append(n.res, re)
			continue
		}
		n.list = append(n.list, v)
	}
	if !n.regex && len(n.list) > smallSet {
		n.set = make(map[string]struct{}, len(n.list))
		for _, v := range n.list {
			n.set[v] = struct{}{}
		}
		n.list = nil
	}
	return n, nil
}

// values reads the right-hand side: comma separated alternatives up to an
// '&', '|' or ')' outside parentheses and quotes. Double quotes protect
// characters the operators use.
func (p *filterParser) values() ([]string, error) {
	var out []string
	var cur strings.Builder
	depth, quoted := 0, false
	flush := func() {
		if v := strings.TrimSpace(cur.String()); v != "" || quoted {
			out = append(out, v)
		}
		cur.Reset()
	}
	for ; p.i < len(p.s); p.i++ {
		ch := p.s[p.i]
		switch {
		case ch == '"':
			quoted = !quoted
			continue
		case quoted && ch == ',':
			flush()
			continue
		case quoted:
		case ch == '(':
			depth++
		case ch == ')' && depth > 0:
			depth--
		case depth == 0 && (ch == '&' || ch == '|' || ch == ')'):
			flush()
			return p.nonEmpty(out)
		case ch == ',' && depth == 0:
			flush()
			continue
		}
		cur.WriteByte(ch)
	}
	if quoted {
		return nil, p.errorf("unterminated '\"'")
	}
	flush()
	return p.nonEmpty(out)
}

func (p *filterParser) nonEmpty(v []string) ([]string, error) {
	if len(v) == 0 {
		return nil, p.errorf("missing value after operator")
	}
	return v, nil
}
