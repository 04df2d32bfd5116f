package driver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"rally/track"
)

// rawRequest is Rally's raw-request: any method and path, with body,
// headers and request parameters; statuses in "ignore" count as success.
// Every operation that is one request runs as one.
type rawRequest struct {
	method, path string
	body         []byte
	ignore       []int
	// onBadRequest, when set, is the path sent (same method and body)
	// when the first answer is HTTP 400; its answer is the outcome.
	onBadRequest string
	ro           requestOptions
}

func buildRawRequest(_ *track.Track, p params, ro requestOptions) (runner, error) {
	path, err := p.str("path", "")
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
	method = strings.ToUpper(method)
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return nil, fmt.Errorf(`parameter "method": bad method %q`, method)
	}
	body, err := p.jsonBody("body")
	if err != nil {
		return nil, err
	}
	r := rawRequest{method: method, path: withQuery(path, ro.query), body: body, ro: ro}
	if p.has("ignore") {
		var codes []any
		switch v := p["ignore"].(type) {
		case []any:
			codes = v
		default:
			codes = []any{v}
		}
		for _, c := range codes {
			f, err := toFloat(c)
			if err != nil || f < 100 || f > 599 {
				return nil, fmt.Errorf(`parameter "ignore": want HTTP status codes`)
			}
			r.ignore = append(r.ignore, int(f))
		}
	}
	return r, nil
}

func (r rawRequest) run(ctx context.Context, s *session) outcome {
	st, out := s.call(ctx, r.method, r.path, r.body, &r.ro, r.ignore...)
	if st == 400 && r.onBadRequest != "" {
		_, out = s.call(ctx, r.method, r.onBadRequest, r.body, &r.ro, r.ignore...)
	}
	return out
}

// sleepOp waits for a duration without sending anything; the wait counts
// as service time, as in Rally.
type sleepOp struct{ d time.Duration }

func compileSleep(_ *track.Track, _ *track.Task, p params) (opSpec, error) {
	if !p.has("duration") {
		return nil, fmt.Errorf(`parameter "duration" is mandatory`)
	}
	d, err := p.seconds("duration", 0)
	if err != nil {
		return nil, err
	}
	return constantOp{sleepOp{d}}, nil
}

func (o sleepOp) run(ctx context.Context, s *session) outcome {
	start := time.Now()
	sleepCtx(ctx, o.d)
	s.mark(start, time.Now())
	return outcome{weight: 1}
}
