// Package jsobj reads the JavaScript object literals that sFlow-RT accepts
// wherever it takes JSON: the seeds PUT bodies such as
// {keys:'icmpunreachableport', value:'frames', t:20} with curl. Strict JSON
// is a subset, so one reader serves both. It is a data reader, not a
// JavaScript evaluator: no expressions, no functions, nothing runs.
package jsobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// MaxDepth bounds nesting, so that a hostile body cannot exhaust the stack.
const MaxDepth = 64

// Parse reads one value: an object, array, string (single or double
// quoted), number, true, false or null. Object keys may be bare
// identifiers. Values come back as encoding/json would decode them into an
// any: map[string]any, []any, string, float64, bool and nil.
func Parse(b []byte) (any, error) {
	d := NewDecoder(bytes.NewReader(b))
	t, err := d.Next()
	if err != nil {
		return nil, err
	}
	v, err := build(d, t)
	if err != nil {
		return nil, err
	}
	return v, d.End()
}

// build makes the value that starts with t. Its recursion is as deep as
// the input's nesting, which the Decoder bounds.
func build(d *Decoder, t Token) (any, error) {
	switch t.Kind {
	case ObjectStart:
		m := map[string]any{}
		for {
			k, err := d.Next()
			if err != nil {
				return nil, err
			}
			if k.Kind == ObjectEnd {
				return m, nil
			}
			vt, err := d.Next()
			if err != nil {
				return nil, err
			}
			if m[k.Text], err = build(d, vt); err != nil {
				return nil, err
			}
		}
	case ArrayStart:
		a := []any{}
		for {
			et, err := d.Next()
			if err != nil {
				return nil, err
			}
			if et.Kind == ArrayEnd {
				return a, nil
			}
			v, err := build(d, et)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case String:
		return t.Text, nil
	case Number:
		return t.Num, nil
	case Bool:
		return t.Bool, nil
	}
	return nil, nil
}

// Unmarshal reads b (strict JSON or the JavaScript form) and stores the
// result in v as encoding/json would. Strict JSON goes to encoding/json as
// it is (its numbers keep their digits), once its nesting is checked; the
// JavaScript form is first rewritten as JSON by ToJSON.
func Unmarshal(b []byte, v any) error {
	if json.Valid(b) {
		if err := checkDepth(b); err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	js, err := ToJSON(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, v)
}

// checkDepth applies MaxDepth to valid JSON (encoding/json allows 10,000).
func checkDepth(b []byte) error {
	depth, quoted := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '{' || c == '[':
			if depth++; depth > MaxDepth {
				return &SyntaxError{Offset: i, Msg: fmt.Sprintf("nested more than %d deep", MaxDepth)}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// ToJSON rewrites the JavaScript form as strict JSON in one pass, without
// building the value: the input costs a copy of itself rather than a tree
// of interfaces. Numbers are written as JavaScript reads them, as doubles
// (1e9 is the whole number 1000000000).
func ToJSON(b []byte) ([]byte, error) {
	d := NewDecoder(bytes.NewReader(b))
	out := make([]byte, 0, len(b)+len(b)/8)
	first := []bool{true} // per open container: nothing written in it yet
	for {
		t, err := d.Next()
		if err == io.EOF {
			return out, d.End()
		}
		if err != nil {
			return nil, err
		}
		top := len(first) - 1
		if t.Kind != ObjectEnd && t.Kind != ArrayEnd {
			if !first[top] {
				out = append(out, ',')
			}
			first[top] = false
		}
		switch t.Kind {
		case ObjectStart:
			out = append(out, '{')
			first = append(first, true)
		case ArrayStart:
			out = append(out, '[')
			first = append(first, true)
		case ObjectEnd:
			out = append(out, '}')
			first = first[:top]
		case ArrayEnd:
			out = append(out, ']')
			first = first[:top]
		case Key:
			out = append(appendString(out, t.Text), ':')
			first[top] = true // the value that follows takes no comma
		case String:
			out = appendString(out, t.Text)
		case Number:
			js, _ := json.Marshal(t.Num) // finite: the Decoder refuses what does not parse
			out = append(out, js...)
		case Bool:
			out = strconv.AppendBool(out, t.Bool)
		case Null:
			out = append(out, "null"...)
		}
	}
}

// appendString writes s as a JSON string (s is valid UTF-8: the Decoder
// made it so).
func appendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// SyntaxError says where the input stopped making sense.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// DecodeObject reads an object (strict JSON or JavaScript form) into v,
// refusing attributes not in known and converting numeric strings and
// numbers to the field's type as sFlow-RT does (see coerce); what names the object in errors ("flow
// definition"). It returns the attributes that were present, so that
// callers can tell an absent attribute from a zero one.
func DecodeObject(body []byte, v any, what string, known ...string) (map[string]bool, error) {
	var raw map[string]json.RawMessage
	if err := Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %v", what, err)
	}
	present := map[string]bool{}
	types := fieldTypes(v)
	for k := range raw {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return nil, fmt.Errorf("unknown %s attribute %q (known: %s)", what, k, strings.Join(known, ", "))
		}
		present[k] = true
		if t, ok := types[k]; ok {
			c, err := coerce(k, raw[k], t)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", what, err)
			}
			raw[k] = c
		}
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
