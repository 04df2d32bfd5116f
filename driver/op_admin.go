package driver

import (
	"context"
	"encoding/json"

	"rally/track"
)

// buildFunc builds the runner of a request-issuing operation from its
// parameters and request options (parsed first, so their errors come
// first).
type buildFunc func(t *track.Track, p params, ro requestOptions) (runner, error)

// requestOp makes the compiler of an operation whose runner runs as built:
// every client shares it and it is not retried.
func requestOp(build buildFunc) compileFunc {
	return func(t *track.Track, _ *track.Task, p params) (opSpec, error) {
		ro, err := p.requestOptions()
		if err != nil {
			return nil, err
		}
		r, err := build(t, p, ro)
		if err != nil {
			return nil, err
		}
		return constantOp{r}, nil
	}
}

// adminOp makes the compiler of an administrative operation: like
// requestOp, with the runner wrapped in the task's retry policy.
func adminOp(build buildFunc) compileFunc {
	return requestOp(func(t *track.Track, p params, ro requestOptions) (runner, error) {
		r, err := build(t, p, ro)
		if err != nil {
			return nil, err
		}
		return withRetry(p, r)
	})
}

// request is one prepared HTTP request of an administrative operation.
type request struct {
	method, path string
	body         []byte
}

// sequence sends its requests in order and stops at the first failure;
// weight is the number of requests (Rally counts one op per index or
// template).
type sequence struct {
	reqs []request
	ro   requestOptions
}

func (q sequence) run(ctx context.Context, s *session) outcome {
	for _, r := range q.reqs {
		if _, out := s.call(ctx, r.method, r.path, r.body, &q.ro); out.err != nil {
			return out
		}
	}
	return outcome{weight: int64(len(q.reqs))}
}

// deletion deletes targets; with onlyIfExists it first asks HEAD existsPath
// and deletes only what exists, else it deletes and ignores 404. extra
// requests (deleting indices matching a template) follow each deletion.
type deletion struct {
	items        []deleteItem
	onlyIfExists bool
	ro           requestOptions
}

type deleteItem struct {
	existsPath string
	deletePath string
	// then are deletions to send after this one (matching indices).
	then []string
}

// newDeletion reads "only-if-exists" (default true), which every delete
// operation takes; the caller adds the items.
func newDeletion(p params, ro requestOptions) (deletion, error) {
	only, err := p.bool("only-if-exists", true)
	if err != nil {
		return deletion{}, err
	}
	return deletion{onlyIfExists: only, ro: ro}, nil
}

func (d deletion) run(ctx context.Context, s *session) outcome {
	var ops int64
	for _, it := range d.items {
		doDelete := true
		if d.onlyIfExists {
			st, out := s.call(ctx, "HEAD", it.existsPath, nil, &d.ro, 404)
			if out.err != nil {
				return out
			}
			doDelete = st == 200
		}
		if doDelete {
			if _, out := s.call(ctx, "DELETE", withQuery(it.deletePath, d.ro.query), nil, &d.ro, 404); out.err != nil {
				return out
			}
			ops++
		}
		for _, p := range it.then {
			if _, out := s.call(ctx, "DELETE", p, nil, &d.ro, 404); out.err != nil {
				return out
			}
			ops++
		}
	}
	return outcome{weight: ops}
}

// getJSON sends GET path and decodes the JSON response into v. ok is false
// when the request failed or the body does not decode (a condition failure
// saying the response is not what); out is then the failed outcome.
func getJSON(ctx context.Context, s *session, path string, ro *requestOptions, v any, what string) (out outcome, ok bool) {
	if _, out := s.call(ctx, "GET", path, nil, ro); out.err != nil {
		return out, false
	}
	if err := json.Unmarshal(s.resp.Body, v); err != nil {
		return conditionFailure("GET", path, "response is not "+what+": "+err.Error()), false
	}
	return outcome{}, true
}
