package topology

import (
	"fmt"

	"github.com/flowrt/flowrt/flow"
)

// Register adds the function link:<interface key> (the inter-switch link an
// interface of the sample's agent is on, e.g. link:inputifindex) to c.
func Register(c *flow.Compiler, s *Store) {
	c.Register("link", func(c *flow.Compiler, args []string) (flow.Expr, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("usage link:<interface key>, e.g. link:inputifindex")
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		return linkExpr{k: k, s: s}, nil
	})
}

type linkExpr struct {
	k flow.Expr
	s *Store
}

func (e linkExpr) AppendValue(smp *flow.Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := e.k.AppendValue(smp, dst)
	if !ok {
		return dst, false
	}
	x := e.s.load()
	if x == nil {
		return dst, false
	}
	l, ok := x.links[ifKey{smp.Agent, string(out[start:])}]
	if !ok {
		return dst, false
	}
	return append(out[:start], l.LinkName...), true
}
