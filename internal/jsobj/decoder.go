package jsobj

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is what a Token is.
type Kind int

// The kinds of token. Commas and colons are checked by the Decoder and
// not returned.
const (
	ObjectStart Kind = iota // {
	ObjectEnd               // }
	ArrayStart              // [
	ArrayEnd                // ]
	Key                     // a property name (Text)
	String                  // Text
	Number                  // Num, and Text as written
	Bool                    // Bool
	Null                    // null or undefined
)

// Token is one element of a value.
type Token struct {
	Kind   Kind
	Text   string
	Num    float64
	Bool   bool
	Offset int64 // where it starts in the input
}

// Decoder reads one value token by token from a stream, so that a large
// body (a group set of 300,000 CIDRs) is turned into what it describes
// without first being held whole, or as a tree of interfaces. It accepts
// strict JSON and the JavaScript object form (quoted with ' or ", bare
// property names, comments, trailing commas, hexadecimal numbers,
// undefined), checks the grammar as it goes, and refuses nesting deeper
// than MaxDepth, so a hostile input costs neither stack nor time.
type Decoder struct {
	r     *bufio.Reader
	off   int64
	stack []byte // '{' or '[' of each open container
	state state
	buf   []byte
	err   error // the reader's error, returned as it is (e.g. a body limit)
}

type state int

const (
	wantValue    state = iota // a value (the top one, after ':' or in an array)
	wantKey                   // a property name or '}' (after '{' or ',')
	wantElement               // a value or ']' (after '[' or ',')
	wantSeparate              // ',' or the container's end
	finished                  // the top value is complete
)

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10)}
}

// Offset is how many bytes have been read.
func (d *Decoder) Offset() int64 { return d.off }

// Depth is the number of containers open.
func (d *Decoder) Depth() int { return len(d.stack) }

func (d *Decoder) errorf(at int64, format string, args ...any) error {
	return &SyntaxError{Offset: int(at), Msg: fmt.Sprintf(format, args...)}
}

// readErr turns a failed read into the error to return: the reader's own
// (a body too large, a connection gone) or, at the end, a syntax error.
func (d *Decoder) readErr(err error, what string) error {
	if err == io.EOF {
		return d.errorf(d.off, "unexpected end of input%s", what)
	}
	d.err = err
	return err
}

func (d *Decoder) peek() (byte, error) {
	b, err := d.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *Decoder) next() (byte, error) {
	c, err := d.r.ReadByte()
	if err == nil {
		d.off++
	}
	return c, err
}

// space skips white space and comments. It returns the reader's error
// other than io.EOF.
func (d *Decoder) space() error {
	for {
		c, err := d.peek()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return d.readErr(err, "")
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			d.next()
			continue
		case '/':
			two, err := d.r.Peek(2)
			if err != nil && err != io.EOF {
				return d.readErr(err, "")
			}
			if len(two) < 2 || (two[1] != '/' && two[1] != '*') {
				return nil
			}
			d.next()
			d.next()
			if two[1] == '/' {
				for {
					c, err := d.next()
					if err == io.EOF || c == '\n' {
						break
					}
					if err != nil {
						return d.readErr(err, "")
					}
				}
				continue
			}
			star := false
			for {
				c, err := d.next()
				if err == io.EOF {
					return nil // an open comment runs to the end
				}
				if err != nil {
					return d.readErr(err, "")
				}
				if star && c == '/' {
					break
				}
				star = c == '*'
			}
		default:
			return nil
		}
	}
}

// Next returns the next token. After the top value it returns io.EOF
// (see End for what may follow).
func (d *Decoder) Next() (Token, error) {
	if d.err != nil {
		return Token{}, d.err
	}
	for {
		if err := d.space(); err != nil {
			return Token{}, err
		}
		at := d.off
		c, err := d.peek()
		if err != nil && d.state != finished {
			return Token{}, d.readErr(err, "")
		}
		switch d.state {
		case finished:
			return Token{}, io.EOF
		case wantKey:
			if c == '}' {
				d.next()
				return d.pop(ObjectEnd, at), nil
			}
			var key string
			if c == '"' || c == '\'' {
				if key, err = d.str(); err != nil {
					return Token{}, err
				}
			} else if key, err = d.ident(); err != nil {
				return Token{}, err
			} else if key == "" {
				return Token{}, d.errorf(at, "expected a property name")
			}
			if err := d.space(); err != nil {
				return Token{}, err
			}
			if c, err := d.peek(); err != nil || c != ':' {
				if err != nil && err != io.EOF {
					return Token{}, d.readErr(err, "")
				}
				return Token{}, d.errorf(d.off, "expected ':' after %q", key)
			}
			d.next()
			d.state = wantValue
			return Token{Kind: Key, Text: key, Offset: at}, nil
		case wantElement:
			if c == ']' {
				d.next()
				return d.pop(ArrayEnd, at), nil
			}
			d.state = wantValue
			continue
		case wantSeparate:
			open := d.stack[len(d.stack)-1]
			closer := byte('}')
			if open == '[' {
				closer = ']'
			}
			switch c {
			case ',':
				d.next()
				if open == '{' {
					d.state = wantKey
				} else {
					d.state = wantElement
				}
				continue
			case closer:
				d.next()
				if open == '{' {
					return d.pop(ObjectEnd, at), nil
				}
				return d.pop(ArrayEnd, at), nil
			}
			if open == '{' {
				return Token{}, d.errorf(at, "expected ',' or '}' in object")
			}
			return Token{}, d.errorf(at, "expected ',' or ']' in array")
		}
		return d.value(c, at)
	}
}

// pop closes a container.
func (d *Decoder) pop(k Kind, at int64) Token {
	d.stack = d.stack[:len(d.stack)-1]
	d.after()
	return Token{Kind: k, Offset: at}
}

// after sets the state that follows a complete value.
func (d *Decoder) after() {
	if len(d.stack) == 0 {
		d.state = finished
	} else {
		d.state = wantSeparate
	}
}

func (d *Decoder) push(open byte, at int64) error {
	if len(d.stack) >= MaxDepth {
		return d.errorf(at, "nested more than %d deep", MaxDepth)
	}
	d.stack = append(d.stack, open)
	return nil
}

func (d *Decoder) value(c byte, at int64) (Token, error) {
	switch {
	case c == '{' || c == '[':
		if err := d.push(c, at); err != nil {
			return Token{}, err
		}
		d.next()
		if c == '{' {
			d.state = wantKey
			return Token{Kind: ObjectStart, Offset: at}, nil
		}
		d.state = wantElement
		return Token{Kind: ArrayStart, Offset: at}, nil
	case c == '"' || c == '\'':
		s, err := d.str()
		if err != nil {
			return Token{}, err
		}
		d.after()
		return Token{Kind: String, Text: s, Offset: at}, nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		lit, f, err := d.number()
		if err != nil {
			return Token{}, err
		}
		d.after()
		return Token{Kind: Number, Text: lit, Num: f, Offset: at}, nil
	}
	id, err := d.ident()
	if err != nil {
		return Token{}, err
	}
	t := Token{Offset: at}
	switch id {
	case "true", "false":
		t.Kind, t.Bool = Bool, id == "true"
	case "null", "undefined":
		t.Kind = Null
	case "":
		return Token{}, d.errorf(at, "unexpected %q", c)
	default:
		return Token{}, d.errorf(at, "unexpected word %q (strings need quotes)", id)
	}
	d.after()
	return t, nil
}

// maxWord bounds identifiers and numbers: no real one is longer, and an
// error quoting one stays one line.
const maxWord = 256

func (d *Decoder) ident() (string, error) {
	d.buf = d.buf[:0]
	for {
		c, err := d.peek()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", d.readErr(err, "")
		}
		if !(c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (len(d.buf) > 0 && c >= '0' && c <= '9')) {
			break
		}
		if len(d.buf) == maxWord {
			return "", d.errorf(d.off, "a word longer than %d characters", maxWord)
		}
		d.next()
		d.buf = append(d.buf, c)
	}
	return string(d.buf), nil
}

func (d *Decoder) number() (string, float64, error) {
	start := d.off
	d.buf = d.buf[:0]
	for {
		c, err := d.peek()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, d.readErr(err, "")
		}
		if strings.IndexByte("+-.0123456789eExXabcdefABCDEF", c) < 0 {
			break
		}
		if len(d.buf) == maxWord {
			return "", 0, d.errorf(start, "a number longer than %d characters", maxWord)
		}
		d.next()
		d.buf = append(d.buf, c)
	}
	lit := string(d.buf)
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		return lit, f, nil
	}
	if n, err := strconv.ParseInt(lit, 0, 64); err == nil {
		return lit, float64(n), nil
	}
	return "", 0, d.errorf(start, "bad number %q", lit)
}

func (d *Decoder) str() (string, error) {
	start := d.off
	quote, _ := d.next()
	d.buf = d.buf[:0]
	for {
		// The run of plain ASCII in what is buffered is copied at once.
		win, _ := d.r.Peek(max(d.r.Buffered(), 1))
		i := 0
		for i < len(win) && win[i] != quote && win[i] != '\\' && win[i] < utf8.RuneSelf {
			i++
		}
		d.buf = append(d.buf, win[:i]...)
		d.r.Discard(i)
		d.off += int64(i)
		if i > 0 && i == len(win) {
			continue
		}
		r, size, err := d.r.ReadRune()
		if err == io.EOF {
			return "", d.errorf(start, "unterminated string")
		}
		if err != nil {
			return "", d.readErr(err, "")
		}
		d.off += int64(size)
		switch {
		case r == rune(quote):
			return string(d.buf), nil
		case r == '\\':
			if err := d.escape(); err != nil {
				return "", err
			}
		default:
			d.buf = utf8.AppendRune(d.buf, r) // an invalid byte becomes U+FFFD, as in encoding/json
		}
	}
}

// escape reads what follows a backslash in a string.
func (d *Decoder) escape() error {
	e, err := d.next()
	if err == io.EOF {
		return d.errorf(d.off, "unterminated escape")
	}
	if err != nil {
		return d.readErr(err, "")
	}
	switch e {
	case 'n':
		d.buf = append(d.buf, '\n')
	case 't':
		d.buf = append(d.buf, '\t')
	case 'r':
		d.buf = append(d.buf, '\r')
	case 'b':
		d.buf = append(d.buf, '\b')
	case 'f':
		d.buf = append(d.buf, '\f')
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			// A pair (an emoji in strict JSON) is one character; a lone
			// half is U+FFFD and what follows is read on its own, as
			// encoding/json does.
			if six, _ := d.r.Peek(6); len(six) == 6 && six[0] == '\\' && six[1] == 'u' {
				if n, err := strconv.ParseUint(string(six[2:]), 16, 16); err == nil {
					if c := utf16.DecodeRune(r, rune(n)); c != utf8.RuneError {
						d.r.Discard(6)
						d.off += 6
						r = c
					}
				}
			}
		}
		d.buf = utf8.AppendRune(d.buf, r)
	default:
		if e >= utf8.RuneSelf {
			d.r.UnreadByte()
			d.off--
			r, size, _ := d.r.ReadRune()
			d.off += int64(size)
			d.buf = utf8.AppendRune(d.buf, r)
			return nil
		}
		d.buf = append(d.buf, e) // \' \" \\ \/ and JavaScript's identity escapes
	}
	return nil
}

func (d *Decoder) hex4() (rune, error) {
	var h [4]byte
	for i := range h {
		c, err := d.next()
		if err == io.EOF {
			return 0, d.errorf(d.off, "short \\u escape")
		}
		if err != nil {
			return 0, d.readErr(err, "")
		}
		h[i] = c
	}
	n, err := strconv.ParseUint(string(h[:]), 16, 16)
	if err != nil {
		return 0, d.errorf(d.off-4, "bad \\u escape")
	}
	return rune(n), nil
}

// End checks that nothing but white space and comments follows the value.
func (d *Decoder) End() error {
	if d.state != finished {
		return errors.New("jsobj: End before the value is complete")
	}
	if err := d.space(); err != nil {
		return err
	}
	if c, err := d.peek(); err == nil {
		return d.errorf(d.off, "unexpected %q after the value", c)
	} else if err != io.EOF {
		return d.readErr(err, "")
	}
	return nil
}
