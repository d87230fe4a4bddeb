package jsobj

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// TestDepthLimit: MaxDepth containers are read, one more is refused with
// the limit named, in every reader.
func TestDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("%d deep: %v", MaxDepth, err)
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for name, f := range map[string]func([]byte) error{
		"Parse":     func(b []byte) error { _, err := Parse(b); return err },
		"Unmarshal": func(b []byte) error { var v any; return Unmarshal(b, &v) },
		"ToJSON":    func(b []byte) error { _, err := ToJSON(b); return err },
	} {
		if err := f([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested more than 64 deep") {
			t.Errorf("%s of %d deep: %v, want the limit named", name, MaxDepth+1, err)
		}
	}
	// Strict JSON that encoding/json accepts (its limit is 10,000) is held
	// to the same limit.
	huge := `{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}"
	if !json.Valid([]byte(huge)) {
		t.Fatal("test body is not JSON")
	}
	var v any
	if err := Unmarshal([]byte(huge), &v); err == nil {
		t.Error("5,000-deep JSON accepted")
	}
}

// TestToJSON: the JavaScript form comes out as the JSON encoding/json
// reads to the same value Parse builds; strict JSON comes out meaning what
// encoding/json reads from it directly.
func TestToJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{keys:'ipsource', value:"frames", t:20, /* c */ x:undefined, // end
		}`: `{"keys":"ipsource","value":"frames","t":20,"x":null}`,
		`[0x1F, +1, .5, 1., -0, 12345678901234567890]`:       `[31,1,0.5,1,-0,12345678901234567000]`,
		`{'it\'s':'a "b" \\ c\n', $x_1:[true,false,null,],}`: `{"it's":"a \"b\" \\ c\n","$x_1":[true,false,null]}`,
		`"\ud83d\ude00 \ud800x \udc00"`:                      `"😀 ` + "\ufffd" + `x ` + "\ufffd" + `"`,
		`{}`:                                                 `{}`, `[]`: `[]`, `[[],{}]`: `[[],{}]`,
	} {
		got, err := ToJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("ToJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{"a":[1,2.5e3,"x\u00e9\ud83d\ude00",{"b":null}],"c":true}`, `"\ud800\ud800\udc00"`, `[1e-7, -2E+3]`} {
		var direct, via any
		if err := json.Unmarshal([]byte(in), &direct); err != nil {
			t.Fatal(err)
		}
		if err := Unmarshal([]byte(in), &via); err != nil || !reflect.DeepEqual(direct, via) {
			t.Errorf("%s: Unmarshal = %#v %v, encoding/json %#v", in, via, err, direct)
		}
	}
}

// TestReadStringLists reads both forms as a stream and refuses what is
// not label → list of strings, naming the label.
func TestReadStringLists(t *testing.T) {
	got, err := ReadStringLists(context.Background(), strings.NewReader(
		`{'phish.1':['10.0.0.0/8', "192.168.1.1"], other:["::/0",], none:null, empty:[]} // end`))
	want := map[string][]string{"phish.1": {"10.0.0.0/8", "192.168.1.1"}, "other": {"::/0"}, "none": {}, "empty": {}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	for in, msg := range map[string]string{
		`["a"]`:               "expected an object",
		`{a:"10.0.0.1"}`:      `label "a": expected a list`,
		`{a:["x",1]}`:         `label "a": element 2 is not a string`,
		`{a:[],a:[]}`:         `label "a" is given twice`,
		`{a:["x"]} {}`:        "after the value",
		`{a:["x"`:             "unexpected end of input",
		`{a:[[["x"]]]}`:       `label "a": element 1 is not a string`,
		`{a:["x"] b:["y"]}`:   "expected ',' or '}'",
		`{` + "a:[\"x\"],":    "unexpected end of input",
		`{a:['unterminated]}`: "unterminated string",
	} {
		if _, err := ReadStringLists(context.Background(), strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", in, err, msg)
		}
	}
}

// failing is a body whose read fails after some bytes, as a request body
// past its limit does.
type failing struct {
	r   io.Reader
	err error
}

func (f *failing) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestReaderErrorsPassThrough: the reader's own error (a body limit, a
// connection gone) comes back as it is, not as a syntax error; a context
// that ends stops the reading.
func TestReaderErrorsPassThrough(t *testing.T) {
	limit := errors.New("body over its limit")
	_, err := ReadStringLists(context.Background(), &failing{strings.NewReader(`{a:["10.0.0.1","10.`), limit})
	if err != limit {
		t.Errorf("got %v, want the reader's error", err)
	}
	var b strings.Builder
	b.WriteString(`{a:[`)
	for range 3 * checkEvery {
		b.WriteString(`"10.0.0.1",`)
	}
	b.WriteString(`]}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadStringLists(ctx, strings.NewReader(b.String())); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestStreamMemory: reading a list holds the strings, not the body: the
// bytes allocated grow with the input, at a small multiple of it.
func TestStreamMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{a:[`)
	for i := range 100000 {
		b.WriteString(`'10.`)
		b.WriteString(strings.Repeat("1", i%3+1))
		b.WriteString(`.0.0/16',`)
	}
	b.WriteString(`]}`)
	body := b.String()
	per := testing.AllocsPerRun(2, func() { ReadStringLists(context.Background(), strings.NewReader(body)) })
	// One allocation per string plus the list's growth and the reader.
	if per > 100000+100 {
		t.Errorf("%v allocations for 100,000 strings", per)
	}
}
