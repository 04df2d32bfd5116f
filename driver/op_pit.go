package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"rally/track"
)

// The operations of this file live only inside a composite operation's
// requests, as in esrally: they hand ids to each other through the
// composite's variables (esrally's CompositeContext), which exist for one
// run of the composite operation.

// notInComposite is esrally's answer to these operations outside a
// composite operation.
func notInComposite(opType string) outcome {
	return outcome{fatal: true, err: fmt.Errorf("%s is only allowed inside a composite operation", opType)}
}

// pointInTime is the "pit" of a search body for the composite's point in
// time opened by the named operation.
func pointInTime(s *session, name string) (map[string]any, outcome) {
	if s.vars == nil {
		return nil, notInComposite("with-point-in-time-from")
	}
	id, err := s.vars.get(name)
	if err != nil {
		return nil, outcome{fatal: true, err: err}
	}
	return map[string]any{"id": id, "keep_alive": "1m"}, outcome{}
}

// keepPointInTime stores the point-in-time id of a search answer, which is
// the most recent one; an answer without one is fatal, as in esrally.
func keepPointInTime(s *session, name, id string) outcome {
	if name == "" {
		return outcome{}
	}
	if id == "" {
		return outcome{fatal: true, err: fmt.Errorf("paginated query failure: pit_id was expected but not found in the response")}
	}
	s.vars.put(name, id)
	return outcome{}
}

// openPointInTime is esrally's open-point-in-time: it opens a point in
// time on "index" for "keep-alive" (1m) and keeps its id under the
// operation's name.
type openPointInTime struct {
	name, index string
	// query is keep_alive with the request-params.
	query string
	ro    requestOptions
}

func buildOpenPointInTime(name string) buildFunc {
	return func(_ *track.Track, p params, ro requestOptions) (runner, error) {
		if name == "" {
			return nil, fmt.Errorf(`parameter "name" is mandatory`)
		}
		index, err := p.requiredStr("index")
		if err != nil {
			return nil, err
		}
		keepAlive, err := p.str("keep-alive", "1m")
		if err != nil {
			return nil, err
		}
		q := p.requestParamsCopy()
		q["keep_alive"] = keepAlive
		qs, err := queryString(q)
		if err != nil {
			return nil, err
		}
		return openPointInTime{name: name, index: index, query: qs, ro: ro}, nil
	}
}

func (o openPointInTime) run(ctx context.Context, s *session) outcome {
	if s.vars == nil {
		return notInComposite("open-point-in-time")
	}
	engine, err := s.engineOf(ctx)
	if err != nil {
		return outcome{fatal: true, err: fmt.Errorf("open-point-in-time: %w", err)}
	}
	api := engine.pit()
	path := "/" + o.index + api.open + o.query
	if _, out := s.call(ctx, "POST", path, nil, &o.ro); out.err != nil {
		return out
	}
	var r map[string]any
	if err := json.Unmarshal(s.resp.Body, &r); err != nil {
		return conditionFailure("POST", path, "response is not JSON: "+err.Error())
	}
	id, _ := r[api.idField].(string)
	s.vars.put(o.name, id)
	return outcome{weight: 1}
}

// closePointInTime is esrally's close-point-in-time: it closes the point
// in time opened by "with-point-in-time-from" and forgets it.
type closePointInTime struct {
	from string
	ro   requestOptions
}

func buildClosePointInTime(_ *track.Track, p params, ro requestOptions) (runner, error) {
	from, err := p.requiredStr("with-point-in-time-from")
	if err != nil {
		return nil, err
	}
	return closePointInTime{from: from, ro: ro}, nil
}

func (c closePointInTime) run(ctx context.Context, s *session) outcome {
	if s.vars == nil {
		return notInComposite("close-point-in-time")
	}
	id, err := s.vars.get(c.from)
	if err != nil {
		return outcome{fatal: true, err: err}
	}
	engine, err := s.engineOf(ctx)
	if err != nil {
		return outcome{fatal: true, err: fmt.Errorf("close-point-in-time: %w", err)}
	}
	api := engine.pit()
	body, _ := json.Marshal(api.closeBody(id))
	if _, out := s.call(ctx, "DELETE", api.close+c.ro.query, body, &c.ro); out.err != nil {
		return out
	}
	s.vars.remove(c.from)
	return outcome{weight: 1}
}

// submitAsyncSearch is esrally's submit-async-search: it submits the body
// as an async search (wait_for_completion_timeout 0 unless the
// request-params say otherwise) and keeps its id under the operation's
// name.
type submitAsyncSearch struct {
	name, path string
	body       []byte
	ro         requestOptions
}

func buildSubmitAsyncSearch(name string) buildFunc {
	return func(_ *track.Track, p params, ro requestOptions) (runner, error) {
		if name == "" {
			return nil, fmt.Errorf(`parameter "name" is mandatory`)
		}
		body, err := p.mandatoryBody()
		if err != nil {
			return nil, err
		}
		index, err := p.str("index", "")
		if err != nil {
			return nil, err
		}
		q := p.requestParamsCopy()
		if _, ok := q["wait_for_completion_timeout"]; !ok {
			q["wait_for_completion_timeout"] = 0
		}
		qs, err := queryString(q)
		if err != nil {
			return nil, err
		}
		path := "/_async_search" + qs
		if index != "" {
			path = "/" + index + path
		}
		return submitAsyncSearch{name: name, path: path, body: body, ro: ro}, nil
	}
}

func (a submitAsyncSearch) run(ctx context.Context, s *session) outcome {
	if s.vars == nil {
		return notInComposite("submit-async-search")
	}
	if _, out := s.call(ctx, "POST", a.path, a.body, &a.ro); out.err != nil {
		return out
	}
	var r struct {
		ID string `json:"id"`
	}
	json.Unmarshal(s.resp.Body, &r)
	s.vars.put(a.name, r.ID)
	return outcome{weight: 1}
}

// asyncSearches is esrally's get-async-search ("retrieve-results-for")
// and delete-async-search ("delete-results-for"): for each named submit
// with an id, GET /_async_search/{id} (failing while one is still
// running, so the retry policy polls) or DELETE it and forget the id.
type asyncSearches struct {
	names  []string
	delete bool
	ro     requestOptions
}

func buildAsyncSearches(key string, del bool) buildFunc {
	return func(_ *track.Track, p params, ro requestOptions) (runner, error) {
		names, err := p.strList(key)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("parameter %q is mandatory", key)
		}
		if del {
			// esrally's delete sends no request-params.
			ro.query = ""
		}
		return asyncSearches{names: names, delete: del, ro: ro}, nil
	}
}

func (a asyncSearches) run(ctx context.Context, s *session) outcome {
	if s.vars == nil {
		if a.delete {
			return notInComposite("delete-async-search")
		}
		return notInComposite("get-async-search")
	}
	var done, running int64
	for _, name := range a.names {
		id, err := s.vars.get(name)
		if err != nil {
			return outcome{fatal: true, err: err}
		}
		if id == "" {
			continue
		}
		path := "/_async_search/" + id
		if a.delete {
			if _, out := s.call(ctx, "DELETE", path, nil, &a.ro); out.err != nil {
				return out
			}
			s.vars.remove(name)
			continue
		}
		path += a.ro.query
		var r struct {
			IsRunning bool `json:"is_running"`
		}
		if out, ok := getJSON(ctx, s, path, &a.ro, &r, "an async search answer"); !ok {
			return out
		}
		if r.IsRunning {
			running++
		} else {
			done++
		}
	}
	if a.delete {
		return outcome{weight: 1}
	}
	if running > 0 {
		return conditionFailure("GET", "/_async_search", fmt.Sprintf("%d of the async searches still running", running))
	}
	return outcome{weight: done}
}

// compileGetAsyncSearch wraps get-async-search in a retry policy that
// retries until success unless the operation says otherwise, as esrally
// registers it.
func compileGetAsyncSearch(t *track.Track, task *track.Task, p params) (opSpec, error) {
	if !p.has("retry-until-success") {
		p = maps.Clone(p)
		p["retry-until-success"] = true
	}
	return adminOp(buildAsyncSearches("retrieve-results-for", false))(t, task, p)
}

// compileNamed makes a compiler whose builder needs the operation's name.
func compileNamed(build func(name string) buildFunc) compileFunc {
	return func(t *track.Track, task *track.Task, p params) (opSpec, error) {
		return requestOp(build(task.Operation.Name))(t, task, p)
	}
}
