package jsobj

import (
	"reflect"
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

func FuzzParse(f *testing.F) {
	f.Add(`{keys:'ipsource,ipdestination', value:'bytes', filter:'ipprotocol=6'}`)
	f.Add(`[1,"2",'3',{a:[true,false,null]}]`)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse([]byte(s))
		if err == nil {
			var out any
			if err := Unmarshal([]byte(s), &out); err != nil && v != nil {
				t.Fatalf("Parse accepted %q but Unmarshal failed: %v", s, err)
			}
		}
	})
}
