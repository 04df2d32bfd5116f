package driver

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"rally/track"
)

// params are an operation's parameters with the task's parameters merged
// over them, as decoded JSON. The getters check types once, at plan time,
// and their errors name the key.
type params map[string]any

// taskParams are the parameters a task's operation runs with: the
// operation's own. The task's leftover keys (track.Task.Params) go to
// Rally's scheduler, not to the runner, so they do not override these.
func taskParams(t *track.Task) params {
	p := make(params, len(t.Operation.Params))
	maps.Copy(p, t.Operation.Params)
	return p
}

// value returns a parameter's value; ok is false when it is absent or null,
// which every getter treats alike.
func (p params) value(key string) (v any, ok bool) {
	v, ok = p[key]
	return v, ok && v != nil
}

// has reports whether a parameter is given (present and not null).
func (p params) has(key string) bool {
	_, ok := p.value(key)
	return ok
}

// convert returns a parameter converted by conv, def when absent; a
// conversion error is wrapped to name the key. The typed getters below
// are convert with their own conversion.
func convert[T any](p params, key string, def T, conv func(any) (T, error)) (T, error) {
	v, ok := p.value(key)
	if !ok {
		return def, nil
	}
	x, err := conv(v)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("parameter %q: %w", key, err)
	}
	return x, nil
}

// str returns a string parameter, def when absent.
func (p params) str(key, def string) (string, error) {
	return convert(p, key, def, toString)
}

// toString accepts a string or a JSON number (as text).
func toString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case json.Number:
		return s.String(), nil
	}
	return "", fmt.Errorf("want a string")
}

// strList returns a string or a list of strings as a list (nil when
// absent).
func (p params) strList(key string) ([]string, error) {
	return convert(p, key, nil, toStrList)
}

func toStrList(v any) ([]string, error) {
	switch s := v.(type) {
	case string:
		return []string{s}, nil
	case []any:
		out := make([]string, 0, len(s))
		for _, e := range s {
			es, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want a list of strings")
			}
			out = append(out, es)
		}
		return out, nil
	case []string:
		return s, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings")
}

// float returns a number parameter (numbers in strings are accepted, as
// Jinja2 rendering often produces them).
func (p params) float(key string, def float64) (float64, error) {
	return convert(p, key, def, toFloat)
}

func toFloat(v any) (float64, error) {
	var f float64
	var err error
	switch n := v.(type) {
	case json.Number:
		f, err = n.Float64()
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(n), 64)
	default:
		return 0, fmt.Errorf("want a number")
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number")
	}
	return f, nil
}

// toBool accepts a boolean or the strings "true" and "false" in any case,
// as both task parameters and client options do.
func toBool(v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(b) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("want true or false")
}

// int returns an integer parameter.
func (p params) int(key string, def int64) (int64, error) {
	f, err := p.float(key, float64(def))
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("parameter %q: want an integer", key)
	}
	return int64(f), nil
}

// bool returns a boolean parameter ("true"/"false" strings accepted).
func (p params) bool(key string, def bool) (bool, error) {
	return convert(p, key, def, toBool)
}

// seconds returns a duration given in (fractional) seconds.
func (p params) seconds(key string, def time.Duration) (time.Duration, error) {
	if !p.has(key) {
		return def, nil
	}
	f, err := p.float(key, 0)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > 1e9 {
		return 0, fmt.Errorf("parameter %q: want seconds >= 0", key)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// object returns an object parameter (nil when absent).
func (p params) object(key string) (map[string]any, error) {
	return convert(p, key, nil, func(v any) (map[string]any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want an object")
		}
		return m, nil
	})
}

// jsonBody encodes a body parameter once (nil when absent). A string body
// is sent as is, so pre-encoded NDJSON or JSON text works too.
func (p params) jsonBody(key string) ([]byte, error) {
	return convert(p, key, nil, func(v any) ([]byte, error) {
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		return b, nil
	})
}

// requiredStr is a string parameter that must be given and not empty.
func (p params) requiredStr(key string) (string, error) {
	s, err := p.str(key, "")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("parameter %q is mandatory", key)
	}
	return s, nil
}

// mandatoryBody is jsonBody("body") for operations that cannot do without
// one.
func (p params) mandatoryBody() ([]byte, error) {
	body, err := p.jsonBody("body")
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, fmt.Errorf(`parameter "body" is mandatory`)
	}
	return body, nil
}

// queryString renders request parameters as "?k=v&..." (keys sorted;
// booleans lower-case as Elasticsearch expects), "" when there are none.
func queryString(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		v, err := queryValue(m[k])
		if err != nil {
			return "", fmt.Errorf("request parameter %q: %w", k, err)
		}
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	return b.String(), nil
}

func queryValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case nil:
		return "", nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := queryValue(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("want a string, number or boolean")
}

// withQuery appends extra query parameters to a path that may have some.
func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	if strings.Contains(path, "?") {
		return path + "&" + query[1:]
	}
	return path + query
}

// requestOptions are the parameters every request-issuing operation takes:
// request-params, request-timeout, headers and opaque-id.
type requestOptions struct {
	query   string
	timeout time.Duration
	headers []Header
}

func (p params) requestOptions() (requestOptions, error) {
	var ro requestOptions
	rp, err := p.object("request-params")
	if err != nil {
		return ro, err
	}
	if ro.query, err = queryString(rp); err != nil {
		return ro, err
	}
	if ro.timeout, err = p.seconds("request-timeout", 0); err != nil {
		return ro, err
	}
	hm, err := p.object("headers")
	if err != nil {
		return ro, err
	}
	for _, k := range slices.Sorted(maps.Keys(hm)) {
		v, err := queryValue(hm[k])
		if err != nil {
			return ro, fmt.Errorf("parameter \"headers\": %q: %w", k, err)
		}
		ro.headers = append(ro.headers, Header{Name: k, Value: v})
	}
	if id, err := p.str("opaque-id", ""); err != nil {
		return ro, err
	} else if id != "" {
		ro.headers = append(ro.headers, Header{Name: "X-Opaque-Id", Value: id})
	}
	// Clip so that no client's append can write into the shared array.
	ro.headers = slices.Clip(ro.headers)
	return ro, nil
}

// requestParamsCopy is a copy of the operation's request-params (checked by
// requestOptions), never nil, for a runner to add its own query
// parameters to.
func (p params) requestParamsCopy() map[string]any {
	rp, _ := p.object("request-params")
	if q := maps.Clone(rp); q != nil {
		return q
	}
	return map[string]any{}
}
