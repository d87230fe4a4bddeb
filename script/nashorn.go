package script

import (
	"slices"
	"strings"
)

// Nashorn, the JavaScript engine of older sFlow-RT releases, took two
// extensions that InMon's sflow-test, ix-metrics and ddos-blackhole still
// use and goja refuses:
//
//	for each (var v in obj) …      the values of obj's properties
//	function(a, b) a - b           an expression closure: its body is one expression
//
// rewriteNashorn turns them into standard JavaScript before the script is
// compiled:
//
//	for (var v of Object.values(Object((obj) ?? {}))) …
//	function(a, b) {return (a - b);}
//
// It only inserts text within lines and removes the word "each", so every
// line keeps its number and an error points at the line the author wrote.
// A lexer that knows strings, template literals, comments and regular
// expression literals finds the forms, so text inside them is never
// touched. compileScript rewrites only a script goja cannot parse as it is,
// so a standard program is never changed.
func rewriteNashorn(src string) (string, bool) {
	toks := lexJS(src)
	var ed edits
	for i := range toks {
		t := toks[i]
		if t.kind != tIdent || (i > 0 && toks[i-1].is('.')) {
			continue
		}
		switch src[t.s:t.e] {
		case "for":
			forEach(src, toks, i, &ed)
		case "function":
			exprClosure(src, toks, i, &ed)
		}
	}
	if len(ed) == 0 {
		return src, false
	}
	return ed.apply(src), true
}

// forEach rewrites "for each (head in expr)" starting at toks[i] ("for").
func forEach(src string, toks []token, i int, ed *edits) {
	if i+2 >= len(toks) || toks[i+1].kind != tIdent || src[toks[i+1].s:toks[i+1].e] != "each" || !toks[i+2].is('(') {
		return
	}
	closing := matching(toks, i+2)
	if closing < 0 {
		return
	}
	in := -1
	depth := 0
	for j := i + 3; j < closing; j++ {
		switch {
		case toks[j].opens():
			depth++
		case toks[j].closes():
			depth--
		case depth == 0 && toks[j].kind == tIdent && src[toks[j].s:toks[j].e] == "in":
			in = j
		}
		if in >= 0 {
			break
		}
	}
	if in < 0 || in+1 == closing {
		return
	}
	*ed = append(*ed,
		edit{at: toks[i+1].s, cut: toks[i+1].e - toks[i+1].s},           // "each"
		edit{at: toks[in].s, cut: 2, text: "of Object.values(Object(("}, // "in"
		edit{at: toks[closing].s, text: ") ?? {}))", late: true})        // before ')'
}

// exprClosure rewrites "function [name](params) expr" starting at toks[i]
// ("function") when the body is not a block.
func exprClosure(src string, toks []token, i int, ed *edits) {
	j := i + 1
	if j < len(toks) && toks[j].kind == tIdent {
		j++ // a named function
	}
	if j >= len(toks) || !toks[j].is('(') {
		return
	}
	closing := matching(toks, j)
	if closing < 0 || closing+1 >= len(toks) {
		return
	}
	body := closing + 1
	if toks[body].is('{') || toks[body].closes() || toks[body].is(',') || toks[body].is(';') {
		return // a standard function, or nothing that could be a body
	}
	// The body is one assignment expression: it ends at a ',', ';' or a
	// closing bracket outside any brackets of its own, at the end of the
	// source, or at a line break where the next token cannot continue
	// it (where automatic semicolon insertion would end it).
	end := len(toks) - 1
	depth := 0
	for k := body; k < len(toks); k++ {
		t := toks[k]
		if depth == 0 && k > body && (t.closes() || t.is(',') || t.is(';') || (t.newline && endsExpr(src, toks[k-1]) && startsStatement(src, t))) {
			end = k - 1
			break
		}
		switch {
		case t.opens():
			depth++
		case t.closes():
			depth--
		}
		if depth < 0 {
			return
		}
	}
	*ed = append(*ed,
		edit{at: toks[closing].e, text: " {return ("},
		edit{at: toks[end].e, text: ");}"})
}

// endsExpr reports whether t can end an expression.
func endsExpr(src string, t token) bool {
	switch t.kind {
	case tIdent:
		return !slices.Contains(operatorWords, src[t.s:t.e])
	case tNum, tStr, tRegex, tTmpl:
		return true
	}
	return t.is(')') || t.is(']') || t.is('}')
}

// startsStatement reports whether t, after a line break, starts something
// new rather than continuing the expression before it.
func startsStatement(src string, t token) bool {
	switch t.kind {
	case tIdent:
		return !slices.Contains(operatorWords, src[t.s:t.e])
	case tNum, tStr, tTmpl:
		return true
	}
	return false
}

// operatorWords are words that continue an expression as operators.
var operatorWords = []string{"in", "instanceof", "of"}

// matching is the index of the bracket closing toks[open], or -1.
func matching(toks []token, open int) int {
	depth := 0
	for k := open; k < len(toks); k++ {
		switch {
		case toks[k].opens():
			depth++
		case toks[k].closes():
			if depth--; depth == 0 {
				return k
			}
		}
	}
	return -1
}

// edit replaces cut bytes at at with text.
type edit struct {
	at, cut int
	text    string
	late    bool // after the others at the same place: it closes an outer form
}

type edits []edit

// apply makes the edits to src; edits at one place keep their order.
func (ed edits) apply(src string) string {
	slices.SortStableFunc(ed, func(a, b edit) int {
		if a.at != b.at {
			return a.at - b.at
		}
		switch {
		case a.late == b.late:
			return 0
		case a.late:
			return 1
		}
		return -1
	})
	var b strings.Builder
	b.Grow(len(src) + 24*len(ed))
	pos := 0
	for _, e := range ed {
		if e.at < pos {
			continue // overlapping (cannot happen: the forms cut distinct words)
		}
		b.WriteString(src[pos:e.at])
		b.WriteString(e.text)
		pos = e.at + e.cut
	}
	b.WriteString(src[pos:])
	return b.String()
}
