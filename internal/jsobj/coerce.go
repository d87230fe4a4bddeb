package jsobj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Scalars are converted between strings and numbers the way sFlow-RT takes
// them: InMon's apps read their settings with getSystemProperty (always a
// string) and pass them straight on (setFlow(…, {t:'2', n:'10'}),
// setThreshold(…, {timeout:'60'})), and give numbers where strings are
// kept (a threshold filter {ifspeed:[10000000000]}). A string that is not a
// number is still an error, naming the attribute: nothing is guessed.

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// coerce rewrites raw, the JSON of attribute name, so that it decodes into
// a value of type t: a numeric string for a number, a number for a
// string, "true"/"false" for a bool, element by element in lists and
// objects of scalars.
func coerce(name string, raw json.RawMessage, t reflect.Type) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return raw, nil
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return raw, nil // the type reads its own forms (flow.Names)
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if raw[0] != '"' {
			return raw, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: %q is not a number", name, s)
		}
		return json.Marshal(f) // a whole number is written without a fraction, so an int field takes it
	case reflect.String:
		if raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
			return raw, nil
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return raw, nil
		}
		return json.Marshal(FormatNumber(f))
	case reflect.Bool:
		switch string(raw) {
		case `"true"`:
			return json.RawMessage("true"), nil
		case `"false"`:
			return json.RawMessage("false"), nil
		}
		return raw, nil
	case reflect.Slice:
		if raw[0] != '[' {
			if t.Elem().Kind() == reflect.Slice || raw[0] == '{' {
				return raw, nil
			}
			// One value where a list is wanted: a list of one.
			one, err := coerce(name, raw, t.Elem())
			if err != nil {
				return nil, err
			}
			return append(append(json.RawMessage("["), one...), ']'), nil
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return raw, nil
		}
		for i := range list {
			var err error
			if list[i], err = coerce(fmt.Sprintf("%s[%d]", name, i), list[i], t.Elem()); err != nil {
				return nil, err
			}
		}
		return json.Marshal(list)
	case reflect.Map:
		if raw[0] != '{' || t.Key().Kind() != reflect.String {
			return raw, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return raw, nil
		}
		for k := range m {
			var err error
			if m[k], err = coerce(name+"."+k, m[k], t.Elem()); err != nil {
				return nil, err
			}
		}
		return json.Marshal(m)
	}
	return raw, nil
}

// FormatNumber writes a number as JavaScript's String() does for the
// values that matter here: whole numbers without a fraction or exponent
// (10000000000, not 1e+10), others in their shortest form.
func FormatNumber(f float64) string {
	if f == float64(int64(f)) && f > -1e18 && f < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// fieldTypes maps the JSON names of a struct's fields to their types.
func fieldTypes(v any) map[string]reflect.Type {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]reflect.Type{}
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
