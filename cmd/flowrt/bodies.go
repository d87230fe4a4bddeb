package main

import (
	"errors"

	"github.com/flowrt/flowrt/api"
)

// bodyLimits reads the http.body.* properties: the largest request body
// each kind of REST endpoint reads.
func bodyLimits(p properties) (api.BodyLimits, error) {
	var l api.BodyLimits
	var errs []error
	for _, f := range []struct {
		name string
		v    *int64
	}{{"http.body.groups", &l.Groups}, {"http.body.topology", &l.Topology},
		{"http.body.definitions", &l.Definitions}, {"http.body.scripts", &l.Scripts}} {
		n, err := p.int(f.name)
		errs = append(errs, err)
		*f.v = int64(n)
	}
	return l, errors.Join(errs...)
}
