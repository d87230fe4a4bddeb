package packet_test

import (
	"strconv"
	"testing"

	"github.com/flowrt/flowrt/packet"
)

// TestAddrMatchesAppend: for every sampled header of the shared captures,
// every address-valued key at every tunnel level gives, unformatted, the
// address Append formats — and is absent exactly where Append's is.
func TestAddrMatchesAppend(t *testing.T) {
	headers := seedHeaders(t)
	if len(headers) == 0 {
		t.Skip("no sampled headers: the shared captures are absent")
	}
	var p packet.Packet
	found := map[string]int{}
	for _, name := range []string{"ipsource", "ipdestination", "ip6source", "ip6destination", "arpipsender", "arpiptarget"} {
		for level := 0; level <= packet.MaxLevel; level++ {
			full := name
			if level > 0 {
				full += "." + strconv.Itoa(level)
			}
			k, ok := packet.Lookup(full)
			if !ok || !k.IsAddr() {
				t.Fatalf("%s: lookup %v, address %v", full, ok, k.IsAddr())
			}
			for _, h := range headers {
				p.Decode(h.proto, h.b)
				text, tok := k.Append(&p, nil)
				a, aok := k.Addr(&p)
				if tok != aok || (aok && a.String() != string(text)) {
					t.Fatalf("%s: Append %q %v, Addr %v %v", full, text, tok, a, aok)
				}
				if aok {
					found[full]++
				}
			}
		}
	}
	for _, k := range []string{"ipsource", "ipdestination", "ip6source", "ip6destination.1"} {
		if found[k] == 0 {
			t.Errorf("no header of the captures has %s: the test does not test it (found %v)", k, found)
		}
	}
	if k, _ := packet.Lookup("tcpsourceport"); k.IsAddr() {
		t.Error("tcpsourceport is taken for an address")
	}
}
