package script

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// compileScript compiles a script's source, or says in one line what is
// wrong and where: "SyntaxError: Unexpected token ; at /x/a.js:2:9". goja's
// own message says "SyntaxError: SyntaxError: /x/a.js: Line 2:9 … (and 1
// more errors)", and puts an unclosed block at the line after the last.
func compileScript(path, src string) (*goja.Program, error) {
	ast, err := parser.ParseFile(nil, path, src, 0)
	if err != nil {
		// Nashorn's for each and expression closures (nashorn.go): tried
		// only on what goja refuses, so a standard script is never changed.
		if alt, changed := rewriteNashorn(src); changed {
			if altAST, altErr := parser.ParseFile(nil, path, alt, 0); altErr == nil {
				ast, err = altAST, nil
			} else {
				src, err = alt, altErr // its lines are the script's: report where it still fails
			}
		}
	}
	if err != nil {
		var list parser.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			return nil, fmt.Errorf("SyntaxError: %v", err)
		}
		e := list[0] // the rest follow from it
		line, col := e.Position.Line, e.Position.Column
		if e.Message == "Unexpected end of input" {
			line, col = lastCode(src)
			return nil, fmt.Errorf("SyntaxError: Unexpected end of input (a block, call or string left open) after %s:%d:%d", path, line, col)
		}
		msg := fmt.Sprintf("SyntaxError: %s at %s:%d:%d", e.Message, path, line, col)
		if prev := unfinishedLine(src, line, col); prev > 0 {
			// "var b = [1, 2" then "var c = 3": the parser stumbles on
			// line 3's first token; the mistake is on line 2.
			msg += fmt.Sprintf(" (the code before it, line %d, may be unfinished)", prev)
		}
		return nil, errors.New(msg)
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, err // "SyntaxError: Identifier 'a' has already been declared at /x/a.js:2:5"
	}
	return prg, nil
}

// unfinishedLine is the line of code before line when col is where line's
// code starts with a word, number or string, else 0.
func unfinishedLine(src string, line, col int) int {
	lines := strings.Split(src, "\n")
	if line < 2 || line > len(lines) {
		return 0
	}
	text := []rune(lines[line-1])
	if col < 1 || col > len(text) || strings.TrimSpace(string(text[:col-1])) != "" {
		return 0
	}
	// A word, number or string can start a new statement; a stray '}' or
	// ')' is the mistake itself.
	if c := text[col-1]; !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("_$'\"`", c) {
		return 0
	}
	for prev := line - 1; prev >= 1; prev-- {
		if t := strings.TrimSpace(lines[prev-1]); t != "" && !strings.HasPrefix(t, "//") {
			return prev
		}
	}
	return 0
}

// lastCode is the line and column of the source's last character that is
// not white space.
func lastCode(src string) (line, col int) {
	src = strings.TrimRight(src, " \t\r\n")
	line = strings.Count(src, "\n") + 1
	col = len([]rune(src[strings.LastIndexByte(src, '\n')+1:]))
	return line, max(col, 1)
}

// describe returns an error from JavaScript in one line — the message and
// the innermost place in a script, "TypeError: … at block (/x/a.js:12:5)" —
// and in full, with the script's call stack, for the log. Frames in Go (the
// API's functions) are left out: their names are Go's, not the script's.
func describe(err error) (line, full string) {
	var msg string
	var stack []goja.StackFrame
	var so *goja.StackOverflowError
	var ie *goja.InterruptedError
	var ex *goja.Exception
	switch {
	case errors.As(err, &so):
		msg, stack = "RangeError: maximum call stack size exceeded", so.Stack()
	case errors.As(err, &ie):
		msg, stack = fmt.Sprint("interrupted: ", ie.Value()), ie.Stack()
	case errors.As(err, &ex):
		msg, stack = "undefined", ex.Stack()
		if v := ex.Value(); v != nil {
			msg = v.String()
		}
	default:
		return err.Error(), err.Error()
	}
	// The script's frames; a run of one frame (recursion) once, with its count.
	type frame struct {
		loc   string
		times int
	}
	var frames []frame
	for _, f := range stack {
		p := f.Position()
		if f.SrcName() == "<native>" || p.Filename == "" {
			continue
		}
		loc := fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
		if fn := f.FuncName(); fn != "" && fn != "<anonymous>" {
			loc = fn + " (" + loc + ")"
		}
		if n := len(frames); n > 0 && frames[n-1].loc == loc {
			frames[n-1].times++
			continue
		}
		if len(frames) == 20 {
			frames = append(frames, frame{"…", 1})
			break
		}
		frames = append(frames, frame{loc, 1})
	}
	line, full = msg, msg
	if len(frames) > 0 {
		line += " at " + frames[0].loc
	}
	for _, f := range frames {
		full += "\n\tat " + f.loc
		if f.times > 1 {
			full += fmt.Sprintf(" (%d times)", f.times)
		}
	}
	return line, full
}

// A script whose callback fails the same way every time (a controller that
// is down, an http() every interval) would fill the log with stack traces:
// errorLog lets through each different error once, with its stack, and at
// most errorLines of them a minute; the rest are counted, summarised in one
// line at the end of the minute, and in /scripts/json always.
const errorLines = 5

// errorWindow is a var for the tests, which cannot wait a minute.
var errorWindow = time.Minute

type errorLog struct {
	start       time.Time // of the current window
	lines       int       // errors logged in full in it
	recent      []string  // the last errorLines messages logged in full
	skipped     int       // errors not logged since start
	skippedLast string
	noticed     bool // the first repeat was announced
}

// errorNote says what to log for one error.
type errorNote struct {
	full    bool // this error, with its stack
	notice  bool // the first repeat: repeats are counted, not logged
	skipped int  // errors not logged in the window that ended …
	last    string
	over    time.Duration // … over this long
}

func (l *errorLog) note(now time.Time, msg string) errorNote {
	var n errorNote
	if now.Sub(l.start) >= errorWindow {
		n.skipped, n.last, n.over = l.skipped, l.skippedLast, now.Sub(l.start)
		l.start, l.lines, l.skipped = now, 0, 0
	}
	if slices.Contains(l.recent, msg) || l.lines >= errorLines {
		l.skipped++
		l.skippedLast = msg
		n.notice = !l.noticed
		l.noticed = true
		return n
	}
	l.lines++
	if l.recent = append(l.recent, msg); len(l.recent) > errorLines {
		l.recent = l.recent[1:]
	}
	n.full = true
	return n
}

// flush ends the window when it is over and returns what it held back.
func (l *errorLog) flush(now time.Time) (skipped int, last string, over time.Duration) {
	if l.skipped == 0 || now.Sub(l.start) < errorWindow {
		return 0, "", 0
	}
	skipped, last, over = l.skipped, l.skippedLast, now.Sub(l.start)
	l.start, l.lines, l.skipped = now, 0, 0
	return skipped, last, over
}
