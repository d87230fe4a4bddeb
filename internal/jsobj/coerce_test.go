package jsobj

import (
	"reflect"
	"strings"
	"testing"
)

// TestDecodeObjectCoerces: numbers written as strings go into number
// fields, numbers into string fields and lists, "true"/"false" into bools,
// one value into a list of one; anything else is an error naming the field.
func TestDecodeObjectCoerces(t *testing.T) {
	type spec struct {
		N      int                 `json:"n"`
		T      float64             `json:"t"`
		Name   string              `json:"name"`
		Log    bool                `json:"log"`
		List   []string            `json:"list"`
		Filter map[string][]string `json:"filter"`
	}
	var s spec
	_, err := DecodeObject([]byte(`{n:'10', t:' 2.5 ', name:6343, log:'true', list:1e10, filter:{ifspeed:[10000000000, 0.5, 'x']}}`),
		&s, "spec", "n", "t", "name", "log", "list", "filter")
	if err != nil {
		t.Fatal(err)
	}
	want := spec{N: 10, T: 2.5, Name: "6343", Log: true, List: []string{"10000000000"},
		Filter: map[string][]string{"ifspeed": {"10000000000", "0.5", "x"}}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	for body, msg := range map[string]string{
		`{n:'ten'}`:              `spec: n: "ten" is not a number`,
		`{n:''}`:                 `spec: n: "" is not a number`,
		`{t:'NaN-ish'}`:          `spec: t: "NaN-ish" is not a number`,
		`{filter:{a:['1',[2]]}}`: "spec",
		`{t:'NaN'}`:              `spec: t: "NaN" is not a number`,
		`{t:'-Infinity'}`:        `spec: t: "-Infinity" is not a number`,
		`{log:'yes'}`:            "log",
	} {
		var s spec
		if _, err := DecodeObject([]byte(body), &s, "spec", "n", "t", "name", "log", "list", "filter"); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %s", body, err, msg)
		}
	}
}
