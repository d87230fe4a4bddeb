package api

import (
	"net/http"

	"github.com/flowrt/flowrt/threshold"
)

func (a *API) thresholdRoutes() {
	if a.cfg.Thresholds == nil {
		return
	}
	m := a.mux
	m.HandleFunc("GET /threshold/json", a.json(func(*http.Request) (any, error) { return a.cfg.Thresholds.All(), nil }))
	m.HandleFunc("GET /threshold/{name}/json", a.json(a.getThreshold))
	m.HandleFunc("PUT /threshold/{name}/json", a.json(a.change(a.putThreshold)))
	m.HandleFunc("POST /threshold/{name}/json", a.json(a.change(a.putThreshold)))
	m.HandleFunc("DELETE /threshold/{name}/json", a.json(a.change(a.deleteThreshold)))
	m.HandleFunc("GET /events/json", a.json(a.eventsJSON))
}

func (a *API) getThreshold(r *http.Request) (any, error) {
	name := r.PathValue("name")
	s, ok := a.cfg.Thresholds.Get(name)
	if !ok {
		return nil, notFound("no threshold named %q", name)
	}
	return s, nil
}

func (a *API) putThreshold(r *http.Request) (any, error) {
	body, err := readBody(r, a.definitionBody("threshold"))
	if err != nil {
		return nil, err
	}
	s, err := threshold.ParseSpec(body)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if err := a.cfg.Thresholds.Set(r.PathValue("name"), s); err != nil {
		return nil, refusal(err)
	}
	return a.changed("thresholds", r.PathValue("name"))
}

func (a *API) deleteThreshold(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if !a.cfg.Thresholds.Clear(name) {
		return nil, notFound("no threshold named %q", name)
	}
	return a.changed("thresholds", name)
}

func (a *API) eventsJSON(r *http.Request) (any, error) {
	after, err := queryInt(r, "eventID", -1)
	if err != nil {
		return nil, err
	}
	maxEvents, err := queryCount(r, "maxEvents", 100)
	if err != nil {
		return nil, err
	}
	wait, err := querySeconds(r, "timeout")
	if err != nil {
		return nil, err
	}
	ids := r.URL.Query()["thresholdID"]
	var keep func(*threshold.Event) bool
	if len(ids) > 0 {
		keep = func(ev *threshold.Event) bool {
			for _, id := range ids {
				if ev.ThresholdID == id {
					return true
				}
			}
			return false
		}
	}
	return a.cfg.Thresholds.Events().After(r.Context(), int64(after), maxEvents, wait, keep), nil
}
