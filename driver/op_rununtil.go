package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"rally/track"
)

// runUntil is esrally's run-until: it sends one request ("method", default
// GET, "path", "body", request-params) again and again, waiting
// retry-wait-interval (60 s) between rounds, until the value at
// "json-path" (dotted keys; "item" steps into an array, as in ijson
// prefixes) meets "criterion": {"operator": exists | not_exists | gte |
// lte | eq | neq, "value": n}. The numeric operators compare as integers
// (Python's int()); a value that is no integer is fatal. It runs in the
// task's retry policy, as esrally wraps it in Retry.
//
// esrally re-sends at once, without waiting, while the value is missing,
// null, 0 or empty, so "not_exists" and "eq 0" never end there and a
// missing value spins; here every round waits and every value is compared.
type runUntil struct {
	method, path string
	body         []byte
	jsonPath     []string
	operator     string
	target       int64
	wait         time.Duration
	ro           requestOptions
}

// runUntilOperators are the criterion operators esrally knows; true marks
// the numeric ones, which need a "value".
var runUntilOperators = map[string]bool{"exists": false, "not_exists": false, "gte": true, "lte": true, "eq": true, "neq": true}

func buildRunUntil(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := p.requiredStr("path")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf(`parameter "path" %q must begin with "/"`, path)
	}
	method, err := p.str("method", "GET")
	if err != nil {
		return nil, err
	}
	body, err := p.jsonBody("body")
	if err != nil {
		return nil, err
	}
	jp, err := p.requiredStr("json-path")
	if err != nil {
		return nil, err
	}
	crit, err := p.object("criterion")
	if err != nil {
		return nil, err
	}
	if crit == nil {
		return nil, fmt.Errorf(`parameter "criterion" is mandatory`)
	}
	op, _ := crit["operator"].(string)
	numeric, known := runUntilOperators[op]
	if !known {
		return nil, fmt.Errorf(`parameter "criterion": unsupported operator %q (want exists, not_exists, gte, lte, eq or neq)`, op)
	}
	r := runUntil{method: strings.ToUpper(method), path: withQuery(path, ro.query), body: body, jsonPath: strings.Split(jp, "."), operator: op, ro: ro}
	if numeric {
		v, ok := crit["value"]
		if !ok {
			return nil, fmt.Errorf(`parameter "criterion": operator %s requires a "value"`, op)
		}
		if r.target, err = pyInt(v); err != nil {
			return nil, fmt.Errorf(`parameter "criterion": "value": %w`, err)
		}
	}
	if r.wait, err = p.seconds("retry-wait-interval", 60*time.Second); err != nil {
		return nil, err
	}
	return r, nil
}

func (r runUntil) run(ctx context.Context, s *session) outcome {
	for {
		if _, out := s.call(ctx, r.method, r.path, r.body, &r.ro); out.err != nil {
			return out
		}
		dec := json.NewDecoder(bytes.NewReader(s.resp.Body))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return conditionFailure(r.method, r.path, "response is not JSON: "+err.Error())
		}
		met, err := r.met(jsonPathValue(doc, r.jsonPath))
		if err != nil {
			return outcome{fatal: true, err: fmt.Errorf("%s %s: json-path %s: %w", r.method, r.path, strings.Join(r.jsonPath, "."), err)}
		}
		if met {
			return outcome{weight: 1}
		}
		if !sleepCtx(ctx, r.wait) {
			return outcome{weight: 1}
		}
	}
}

// met applies the criterion to the value found (nil when none).
func (r runUntil) met(v any) (bool, error) {
	switch r.operator {
	case "exists":
		return v != nil, nil
	case "not_exists":
		return v == nil, nil
	}
	if v == nil {
		return false, nil
	}
	n, err := pyInt(v)
	if err != nil {
		return false, err
	}
	switch r.operator {
	case "gte":
		return n >= r.target, nil
	case "lte":
		return n <= r.target, nil
	case "eq":
		return n == r.target, nil
	}
	return n != r.target, nil
}

// jsonPathValue is the first scalar at an ijson-style prefix: keys
// separated by dots, "item" for the elements of an array. An object or
// array there is no value (nil), as ijson reports none for it.
func jsonPathValue(v any, path []string) any {
	if len(path) == 0 {
		switch v.(type) {
		case map[string]any, []any:
			return nil
		}
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		return jsonPathValue(x[path[0]], path[1:])
	case []any:
		if path[0] != "item" {
			return nil
		}
		for _, e := range x {
			if r := jsonPathValue(e, path[1:]); r != nil {
				return r
			}
		}
	}
	return nil
}

// pyInt converts a JSON value as Python's int() does: numbers truncate,
// strings must be integers, booleans are 0 and 1.
func pyInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
			return 0, fmt.Errorf("%s is not an integer", x)
		}
		return int64(f), nil
	case float64:
		return pyInt(json.Number(strconv.FormatFloat(x, 'f', -1, 64)))
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}
