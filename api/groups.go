package api

import (
	"errors"
	"net/http"

	"github.com/flowrt/flowrt/group"
	"github.com/flowrt/flowrt/internal/jsobj"
)

func (a *API) groupRoutes() {
	if a.cfg.Groups == nil || a.cfg.Maps == nil {
		return
	}
	m := a.mux
	// /group/json is the default set (sourcegroup, destinationgroup);
	// /group/{name}/json the named ones (group:<key>:<name>).
	m.HandleFunc("GET /group/json", a.json(func(*http.Request) (any, error) { return a.groupSet(group.Default) }))
	m.HandleFunc("PUT /group/json", a.json(a.change(func(r *http.Request) (any, error) { return a.putGroups(r, group.Default) })))
	m.HandleFunc("DELETE /group/json", a.json(a.change(func(*http.Request) (any, error) {
		a.cfg.Groups.Delete(group.Default)
		return a.changed("groups", group.Default)
	})))
	m.HandleFunc("GET /groups/json", a.json(a.groupList))
	m.HandleFunc("GET /group/{name}/json", a.json(func(r *http.Request) (any, error) {
		s, ok := a.cfg.Groups.Get(r.PathValue("name"))
		if !ok {
			return nil, notFound("no group set named %q", r.PathValue("name"))
		}
		return s.Groups(), nil
	}))
	m.HandleFunc("PUT /group/{name}/json", a.json(a.change(func(r *http.Request) (any, error) { return a.putGroups(r, r.PathValue("name")) })))
	m.HandleFunc("DELETE /group/{name}/json", a.json(a.change(func(r *http.Request) (any, error) {
		if !a.cfg.Groups.Delete(r.PathValue("name")) {
			return nil, notFound("no group set named %q", r.PathValue("name"))
		}
		return a.changed("groups", r.PathValue("name"))
	})))
	m.HandleFunc("GET /map/json", a.json(func(*http.Request) (any, error) { return nonNil(a.cfg.Maps.Names()), nil }))
	m.HandleFunc("GET /map/{name}/json", a.json(func(r *http.Request) (any, error) {
		mp, ok := a.cfg.Maps.Get(r.PathValue("name"))
		if !ok {
			return nil, notFound("no map named %q", r.PathValue("name"))
		}
		return mp.Def(), nil
	}))
	m.HandleFunc("PUT /map/{name}/json", a.json(a.change(func(r *http.Request) (any, error) {
		if err := full("maps", "maps.max", "DELETE /map/{name}/json", a.cfg.Maps.Names(), r.PathValue("name"), a.limits.Maps); err != nil {
			return nil, err
		}
		def, err := a.readSets(r, a.groupBody("map"))
		if err != nil {
			return nil, err
		}
		if err := a.cfg.Maps.Set(r.PathValue("name"), def); err != nil {
			return nil, badRequest("%v", err)
		}
		return a.changed("maps", r.PathValue("name"))
	})))
	m.HandleFunc("DELETE /map/{name}/json", a.json(a.change(func(r *http.Request) (any, error) {
		if !a.cfg.Maps.Delete(r.PathValue("name")) {
			return nil, notFound("no map named %q", r.PathValue("name"))
		}
		return a.changed("maps", r.PathValue("name"))
	})))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readSets reads a label → list of strings body as it arrives (a group
// set of 300,000 CIDRs is never held whole, nor as a tree of values).
func (a *API) readSets(r *http.Request, b body) (map[string][]string, error) {
	in, err := b.open(r)
	if err != nil {
		return nil, err
	}
	def, err := jsobj.ReadStringLists(r.Context(), in)
	var syntax *jsobj.SyntaxError
	if errors.As(err, &syntax) {
		return nil, badRequest("the %s body must be an object of label → list of strings: %v", b.what, err)
	}
	if err != nil {
		return nil, b.readError(r, err)
	}
	return def, nil
}

func (a *API) putGroups(r *http.Request, name string) (any, error) {
	if name != group.Default {
		if err := full("group sets", "groups.max", "DELETE /group/{name}/json", a.cfg.Groups.Names(), name, a.limits.GroupSets); err != nil {
			return nil, err
		}
	}
	b := a.groupBody("group")
	def, err := a.readSets(r, b)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Groups.SetContext(r.Context(), name, def); err != nil {
		if r.Context().Err() != nil {
			return nil, b.readError(r, err)
		}
		return nil, badRequest("%v", err)
	}
	return a.changed("groups", name)
}

func (a *API) groupSet(name string) (any, error) {
	s, ok := a.cfg.Groups.Get(name)
	if !ok {
		return map[string][]string{}, nil
	}
	return s.Groups(), nil
}

type groupInfo struct {
	Labels   int `json:"labels"`
	Prefixes int `json:"prefixes"`
}

func (a *API) groupList(*http.Request) (any, error) {
	out := map[string]groupInfo{}
	for _, n := range a.cfg.Groups.Names() {
		if s, ok := a.cfg.Groups.Get(n); ok {
			out[n] = groupInfo{len(s.Groups()), s.Prefixes()}
		}
	}
	if s, ok := a.cfg.Groups.Get(group.Default); ok {
		out["(default)"] = groupInfo{len(s.Groups()), s.Prefixes()}
	}
	return out, nil
}
