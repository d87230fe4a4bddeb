package group

import (
	"fmt"
	"net/netip"

	"github.com/flowrt/flowrt/flow"
)

// Register adds to c the keys sourcegroup and destinationgroup (the label
// of the outer source or destination address in the default group set),
// and the functions group:<key>:<set>[:<set>…] (the label in the first set
// that has one) and map:<key>:<map>.
func Register(c *flow.Compiler, g *Groups, m *Maps) {
	def := g.r.slot(Default)
	c.RegisterKey("sourcegroup", addrGroup{def, (*flow.Sample).SourceAddr})
	c.RegisterKey("destinationgroup", addrGroup{def, (*flow.Sample).DestinationAddr})
	c.Register("group", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if len(args) < 2 {
			return nil, fmt.Errorf("usage group:<address key>:<group set>[:<group set>…]")
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		e := groupFunc{k: k}
		for _, name := range args[1:] {
			if err := ValidName("group set", name); err != nil {
				return nil, err
			}
			e.sets = append(e.sets, g.r.slot(name))
		}
		return e, nil
	})
	c.Register("map", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("usage map:<key>:<map>")
		}
		if err := ValidName("map", args[1]); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		return mapFunc{k: k, m: m.r.slot(args[1])}, nil
	})
}

type addrGroup struct {
	set  *slot[Set]
	addr func(*flow.Sample) (netip.Addr, bool)
}

func (e addrGroup) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	a, ok := e.addr(s)
	if !ok {
		return dst, false
	}
	label, ok := e.set.p.Load().Lookup(a)
	if !ok {
		return dst, false
	}
	return append(dst, label...), true
}

type groupFunc struct {
	k    flow.Expr
	sets []*slot[Set]
}

func (e groupFunc) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	a, out, ok := flow.AppendAddr(e.k, s, dst[len(dst):])
	_ = out
	if !ok {
		return dst, false
	}
	for _, set := range e.sets {
		if label, ok := set.p.Load().Lookup(a); ok {
			return append(dst, label...), true
		}
	}
	return dst, false
}

type mapFunc struct {
	k flow.Expr
	m *slot[Map]
}

func (e mapFunc) AppendValue(s *flow.Sample, dst []byte) ([]byte, bool) {
	m := e.m.p.Load()
	if m == nil {
		return dst, false
	}
	start := len(dst)
	out, ok := e.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	label, ok := m.labels[string(out[start:])]
	if !ok {
		return dst, false
	}
	return append(out[:start], label...), true
}
