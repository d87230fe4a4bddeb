package jsobj

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseSeedBodies(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
	}{
		{`{keys:'icmpunreachableport', value:'frames', t:20}`,
			map[string]any{"keys": "icmpunreachableport", "value": "frames", "t": 20.0}},
		{`{keys:'dnsqname', value:'frames', filter:'dnsqr=false&dnsqtype=255',t:20}`,
			map[string]any{"keys": "dnsqname", "value": "frames", "filter": "dnsqr=false&dnsqtype=255", "t": 20.0}},
		{`{"address":"10.0.0.30"}`, map[string]any{"address": "10.0.0.30"}},
		{`{keys:['a','b'],log:true,n:-1.5e1, x:null, /* c */ y:"it\'s", // end
		}`, map[string]any{"keys": []any{"a", "b"}, "log": true, "n": -15.0, "x": nil, "y": "it's"}},
	} {
		got, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{`{keys:frames}`, `{a:1`, `{a 1}`, `[1,2`, `'abc`, `{a:1} x`, ``, `{a:(1)}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	deep := ""
	for range MaxDepth + 2 {
		deep += "["
	}
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("no error for deep nesting")
	}
}

// FuzzParse: what Parse accepts, ToJSON writes as JSON meaning the same
// value (and, for strict JSON, what encoding/json reads); the streaming
// list reader never panics and agrees with Parse on what is a list.
func FuzzParse(f *testing.F) {
	f.Add(`{keys:'ipsource,ipdestination', value:'bytes', filter:'ipprotocol=6'}`)
	f.Add(`[1,"2",'3',{a:[true,false,null]}]`)
	f.Add(`{a:['10.0.0.0/8',"::/0"], 'b':[], c:null}`)
	f.Add(`"\ud83d\ude00\ud800"`)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse([]byte(s))
		lists, lerr := ReadStringLists(context.Background(), strings.NewReader(s))
		if err != nil {
			if lerr == nil {
				t.Fatalf("ReadStringLists accepted %q that Parse refuses: %v", s, err)
			}
			return
		}
		js, err := ToJSON([]byte(s))
		if err != nil || !json.Valid(js) {
			t.Fatalf("Parse accepted %q but ToJSON gave %q, %v", s, js, err)
		}
		var back any
		if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("%q: ToJSON %s reads as %#v, Parse %#v", s, js, back, v)
		}
		if json.Valid([]byte(s)) {
			var direct any
			json.Unmarshal([]byte(s), &direct)
			if !reflect.DeepEqual(direct, v) {
				t.Fatalf("%q: encoding/json reads %#v, Parse %#v", s, direct, v)
			}
		}
		if lerr == nil {
			m, ok := v.(map[string]any)
			if !ok || len(m) != len(lists) {
				t.Fatalf("%q: lists %v, Parse %#v", s, lists, v)
			}
		}
	})
}
