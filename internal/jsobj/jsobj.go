// Package jsobj reads the JavaScript object literals that sFlow-RT accepts
// wherever it takes JSON: the seeds PUT bodies such as
// {keys:'icmpunreachableport', value:'frames', t:20} with curl. Strict JSON
// is a subset, so one reader serves both. It is a data reader, not a
// JavaScript evaluator: no expressions, no functions, nothing runs.
package jsobj

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDepth bounds nesting, so that a hostile body cannot exhaust the stack.
const MaxDepth = 64

// Parse reads one value: an object, array, string (single or double
// quoted), number, true, false or null. Object keys may be bare
// identifiers. Values come back as encoding/json would decode them into an
// any: map[string]any, []any, string, float64, bool and nil.
func Parse(b []byte) (any, error) {
	p := parser{s: string(b)}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q after the value", p.s[p.i])
	}
	return v, nil
}

// Unmarshal reads b with Parse and stores the result in v as encoding/json
// would.
func Unmarshal(b []byte, v any) error {
	var err error
	if json.Valid(b) {
		return json.Unmarshal(b, v)
	}
	x, err := Parse(b)
	if err != nil {
		return err
	}
	js, err := json.Marshal(x)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, v)
}

// SyntaxError says where the input stopped making sense.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

type parser struct {
	s string
	i int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case strings.HasPrefix(p.s[p.i:], "//"):
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case strings.HasPrefix(p.s[p.i:], "/*"):
			end := strings.Index(p.s[p.i+2:], "*/")
			if end < 0 {
				p.i = len(p.s)
				return
			}
			p.i += end + 4
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.errorf("nested more than %d deep", MaxDepth)
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		id := p.ident()
		switch id {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null", "undefined":
			return nil, nil
		case "":
			return nil, p.errorf("unexpected %q", c)
		}
		return nil, &SyntaxError{Offset: p.i - len(id), Msg: fmt.Sprintf("unexpected word %q (strings need quotes)", id)}
	}
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		var key string
		if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			key = k
		} else if key = p.ident(); key == "" {
			return nil, p.errorf("expected a property name")
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected ':' after %q", key)
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		return nil, p.errorf("expected ',' or '}' in object")
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		return nil, p.errorf("expected ',' or ']' in array")
	}
}

func (p *parser) ident() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (p.i > start && c >= '0' && c <= '9') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *parser) number() (any, error) {
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("+-.0123456789eExXabcdefABCDEF", p.s[p.i]) >= 0 {
		p.i++
	}
	lit := p.s[start:p.i]
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		return f, nil
	}
	if n, err := strconv.ParseInt(lit, 0, 64); err == nil {
		return float64(n), nil
	}
	return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("bad number %q", lit)}
}

func (p *parser) str() (string, error) {
	quote := p.s[p.i]
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == quote:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unterminated escape")
			}
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.i+5 > len(p.s) {
					return "", p.errorf("short \\u escape")
				}
				n, err := strconv.ParseUint(p.s[p.i+1:p.i+5], 16, 16)
				if err != nil {
					return "", p.errorf("bad \\u escape")
				}
				b.WriteRune(rune(n))
				p.i += 4
			default:
				b.WriteByte(e) // \' \" \\ \/ and JavaScript's identity escapes
			}
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += size
		}
	}
	return "", &SyntaxError{Offset: start, Msg: "unterminated string"}
}

// DecodeObject reads an object (strict JSON or JavaScript form) into v,
// refusing attributes not in known; what names the object in errors ("flow
// definition"). It returns the attributes that were present, so that
// callers can tell an absent attribute from a zero one.
func DecodeObject(body []byte, v any, what string, known ...string) (map[string]bool, error) {
	var raw map[string]json.RawMessage
	if err := Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %v", what, err)
	}
	present := map[string]bool{}
	for k := range raw {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return nil, fmt.Errorf("unknown %s attribute %q (known: %s)", what, k, strings.Join(known, ", "))
		}
		present[k] = true
	}
	js, _ := json.Marshal(raw)
	if err := json.Unmarshal(js, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("%s: %s: got %s, want %s", what, te.Field, te.Value, kindName(te.Type))
		}
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return present, nil
}

// kindName says in words what a field takes.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(kindName(t.Elem()), "a ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
