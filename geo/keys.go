package geo

import (
	"fmt"
	"net/netip"

	"github.com/flowrt/flowrt/flow"
)

// Sources are the databases the keys read; any may be nil, and keys that
// need a missing one are refused when a flow is defined, saying which
// property to set.
type Sources struct {
	Country *DB
	ASN     *DB
	OUI     *OUI
}

// Register adds country:, asn:, oui: and the address keys to c.
func Register(c *flow.Compiler, s Sources) {
	need := func(db any, what, prop string) error {
		switch v := db.(type) {
		case *DB:
			if v != nil {
				return nil
			}
		case *OUI:
			if v != nil {
				return nil
			}
		}
		return fmt.Errorf("no %s database is configured: start flowrt with -D%s=<file>", what, prop)
	}
	countryErr := need(s.Country, "GeoIP country", "geo.country")
	asnErr := need(s.ASN, "GeoIP ASN", "geo.asn")
	ouiErr := need(s.OUI, "OUI", "oui.names")

	c.Register("country", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if countryErr != nil {
			return nil, countryErr
		}
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("usage country:<address key>")
		}
		k, err := c.Key(args[0])
		return geoFunc{k: k, db: s.Country, country: true}, err
	})
	c.Register("asn", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if asnErr != nil {
			return nil, asnErr
		}
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("usage asn:<address key>[:number|descr|both]")
		}
		part := "number"
		if len(args) == 2 {
			part = args[1]
			if part != "number" && part != "descr" && part != "both" && part != "name" {
				return nil, fmt.Errorf("asn part %q is not number, descr or both", part)
			}
		}
		k, err := c.Key(args[0])
		return geoFunc{k: k, db: s.ASN, part: part}, err
	})
	c.Register("oui", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if ouiErr != nil {
			return nil, ouiErr
		}
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("usage oui:<mac key>[:name|number]")
		}
		k, err := c.Key(args[0])
		return ouiFunc{k: k, o: s.OUI, number: len(args) == 2 && args[1] == "number"}, err
	})
	addrKeys := []struct {
		name    string
		db      *DB
		err     error
		addr    func(*flow.Sample) (netip.Addr, bool)
		country bool
		part    string
	}{
		{"sourcecountry", s.Country, countryErr, (*flow.Sample).SourceAddr, true, ""},
		{"destinationcountry", s.Country, countryErr, (*flow.Sample).DestinationAddr, true, ""},
		{"sourceas", s.ASN, asnErr, (*flow.Sample).SourceAddr, false, "number"},
		{"destinationas", s.ASN, asnErr, (*flow.Sample).DestinationAddr, false, "number"},
		{"sourceasname", s.ASN, asnErr, (*flow.Sample).SourceAddr, false, "descr"},
		{"destinationasname", s.ASN, asnErr, (*flow.Sample).DestinationAddr, false, "descr"},
	}
	for _, k := range addrKeys {
		if k.err != nil {
			c.RegisterUnavailableKey(k.name, k.err)
			continue
		}
		c.RegisterKey(k.name, addrKey{addr: k.addr, db: k.db, country: k.country, part: k.part})
	}
}

type geoFunc struct {
	k       flow.Expr
	db      *DB
	country bool
	part    string
}

func (g geoFunc) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	a, _, ok := flow.AppendAddr(g.k, s, dst[len(dst):])
	if !ok {
		return dst, false
	}
	return appendRecord(dst, g.db, a, g.country, g.part)
}

func appendRecord(dst []byte, db *DB, a netip.Addr, country bool, part string) ([]byte, bool) {
	r, ok := db.Lookup(a)
	if !ok {
		return dst, false
	}
	if country {
		return append(dst, r.Country...), r.Country != ""
	}
	return appendASN(dst, r, part), r.ASN != 0
}

type addrKey struct {
	addr    func(*flow.Sample) (netip.Addr, bool)
	db      *DB
	country bool
	part    string
}

func (k addrKey) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	a, ok := k.addr(s)
	if !ok {
		return dst, false
	}
	return appendRecord(dst, k.db, a, k.country, k.part)
}

type ouiFunc struct {
	k      flow.Expr
	o      *OUI
	number bool
}

func (f ouiFunc) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := f.k.AppendValue(s, dst)
	if !ok || len(out)-start < 6 {
		return dst, false
	}
	if f.number {
		return out[:start+6], true
	}
	name, ok := f.o.Lookup(out[start:])
	if !ok {
		return dst, false
	}
	return append(out[:start], name...), true
}
