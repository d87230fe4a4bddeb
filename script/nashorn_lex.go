package script

import "slices"

// A token of JavaScript source, as much as rewriteNashorn needs: words,
// numbers, strings, template literal text, regular expression literals
// and single punctuation characters. Comments and white space are
// skipped; newline says a line break came before the token.
type token struct {
	kind    byte
	s, e    int  // src[s:e]
	c       byte // the character of a tPunct
	newline bool
}

const (
	tIdent byte = iota + 1
	tNum
	tStr
	tTmpl // the text of a template literal up to its end or a ${
	tRegex
	tPunct
)

func (t token) is(c byte) bool { return t.kind == tPunct && t.c == c }

func (t token) opens() bool  { return t.kind == tPunct && (t.c == '(' || t.c == '[' || t.c == '{') }
func (t token) closes() bool { return t.kind == tPunct && (t.c == ')' || t.c == ']' || t.c == '}') }

// regexAfterWords are the words after which '/' starts a regular
// expression rather than dividing.
var regexAfterWords = []string{"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw",
	"case", "do", "else", "yield", "await"}

// lexJS splits src into tokens. It never fails: what it cannot read (an
// unclosed string or comment) ends at the end of the line or the source,
// and the rewrite then finds nothing there.
func lexJS(src string) []token {
	var toks []token
	var templates []int // brace depth at each open ${ … } of a template literal
	depth := 0
	newline := false
	i := 0
	add := func(kind byte, s, e int) {
		t := token{kind: kind, s: s, e: e, newline: newline}
		if kind == tPunct {
			t.c = src[s]
		}
		toks = append(toks, t)
		newline = false
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n' || c == '\r':
			newline = true
			i++
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := indexFrom(src, i+2, "*/")
			if end < 0 {
				end = len(src)
			} else {
				end += 2
			}
			if containsNewline(src[i:end]) {
				newline = true
			}
			i = end
		case c == '/' && regexAllowed(src, toks):
			end := regexEnd(src, i)
			if end < 0 {
				add(tPunct, i, i+1)
				i++
				continue
			}
			add(tRegex, i, end)
			i = end
		case c == '\'' || c == '"':
			end := stringEnd(src, i)
			add(tStr, i, end)
			i = end
		case c == '`':
			i = templateText(src, i+1, i, add, &templates, depth)
		case c == '}' && len(templates) > 0 && templates[len(templates)-1] == depth:
			// the end of a ${ … } substitution: the template goes on
			templates = templates[:len(templates)-1]
			i = templateText(src, i+1, i, add, &templates, depth)
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			s := i
			for i < len(src) && (isWord(src[i]) || src[i] == '.' ||
				((src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E') && !isHex(src[s:i]))) {
				i++
			}
			add(tNum, s, i)
		case isWordStart(c):
			s := i
			for i < len(src) && isWord(src[i]) {
				i++
			}
			add(tIdent, s, i)
		default:
			switch c {
			case '{':
				depth++
			case '}':
				depth--
			}
			add(tPunct, i, i+1)
			i++
		}
	}
	return toks
}

// templateText reads template literal text from i (just after '`' or the
// '}' of a substitution) to its closing '`' or the next "${", adds it as
// one token starting at from, and returns where lexing goes on.
func templateText(src string, i, from int, add func(byte, int, int), templates *[]int, depth int) int {
	for i < len(src) {
		switch src[i] {
		case '\\':
			i += 2
			continue
		case '`':
			add(tTmpl, from, i+1)
			return i + 1
		case '$':
			if i+1 < len(src) && src[i+1] == '{' {
				add(tTmpl, from, i+2)
				*templates = append(*templates, depth)
				return i + 2
			}
		}
		i++
	}
	add(tTmpl, from, len(src))
	return len(src)
}

// regexAllowed reports whether a '/' after toks starts a regular
// expression literal: at the start, after an operator or an opening
// bracket, or after a word such as return; not after a value.
func regexAllowed(src string, toks []token) bool {
	if len(toks) == 0 {
		return true
	}
	p := toks[len(toks)-1]
	switch p.kind {
	case tIdent:
		return slices.Contains(regexAfterWords, src[p.s:p.e])
	case tPunct:
		return p.c != ')' && p.c != ']' && p.c != '}'
	}
	return false
}

// regexEnd is the end of the regular expression literal at i (flags
// included), or -1 when the line ends first.
func regexEnd(src string, i int) int {
	class := false
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '\n', '\r':
			return -1
		case '[':
			class = true
		case ']':
			class = false
		case '/':
			if !class {
				j++
				for j < len(src) && isWord(src[j]) {
					j++
				}
				return j
			}
		}
	}
	return -1
}

// stringEnd is the end of the quoted string at i; an unclosed one ends
// at the line's end.
func stringEnd(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j + 1
		case '\n':
			return j
		}
	}
	return len(src)
}

func indexFrom(s string, from int, sub string) int {
	for j := from; j+len(sub) <= len(s); j++ {
		if s[j:j+len(sub)] == sub {
			return j
		}
	}
	return -1
}

func containsNewline(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
func isWord(c byte) bool    { return isWordStart(c) || isDigit(c) }
func isHex(num string) bool { return len(num) > 1 && num[0] == '0' && (num[1] == 'x' || num[1] == 'X') }
