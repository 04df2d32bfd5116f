package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"rally/track"
)

// buildEsql is esrally's esql: POST /_query with the "body" parameter
// (default {}) whose "query" is the "query" parameter and whose "filter"
// is the "filter" parameter when given.
func buildEsql(_ *track.Track, p params, ro requestOptions) (runner, error) {
	query, err := p.requiredStr("query")
	if err != nil {
		return nil, err
	}
	body, err := p.object("body")
	if err != nil {
		return nil, err
	}
	body = maps.Clone(body)
	if body == nil {
		body = map[string]any{}
	}
	body["query"] = query
	if f, ok := p.value("filter"); ok {
		body["filter"] = f
	}
	enc, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf(`parameter "body": %w`, err)
	}
	return rawRequest{method: "POST", path: "/_query" + ro.query, body: enc, ro: ro}, nil
}

// buildFieldCaps is esrally's field-caps: the field capabilities of
// "index" (default _all) for "fields" (default *), with "index_filter"
// added to the body. A body goes with POST, none with GET.
func buildFieldCaps(_ *track.Track, p params, ro requestOptions) (runner, error) {
	index, err := p.str("index", "_all")
	if err != nil {
		return nil, err
	}
	fields := any("*")
	if v, ok := p.value("fields"); ok {
		if _, err := queryValue(v); err != nil {
			return nil, fmt.Errorf(`parameter "fields": %w`, err)
		}
		fields = v
	}
	fq, _ := queryString(map[string]any{"fields": fields})
	body, err := p.object("body")
	if err != nil {
		return nil, err
	}
	body = maps.Clone(body)
	if f, ok := p.value("index_filter"); ok {
		if body == nil {
			body = map[string]any{}
		}
		body["index_filter"] = f
	}
	r := rawRequest{method: "GET", path: withQuery("/"+index+"/_field_caps"+fq, ro.query), ro: ro}
	if len(body) > 0 {
		if r.body, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf(`parameter "body": %w`, err)
		}
		r.method = "POST"
	}
	return r, nil
}

// buildDownsample is esrally's downsample: POST
// /{source-index}/_downsample/{target-index} with the fixed interval
// (default 1h). The source defaults as a search target does; the target
// to "{source}-{fixed-interval}".
func buildDownsample(t *track.Track, p params, ro requestOptions) (runner, error) {
	interval, err := p.str("fixed-interval", "1h")
	if err != nil {
		return nil, err
	}
	source, err := p.str("source-index", "")
	if err != nil {
		return nil, err
	}
	if source == "" {
		if source, err = searchTarget(t, p); err != nil {
			return nil, fmt.Errorf(`parameter "source-index" is mandatory (the track has no single index or data stream to default to)`)
		}
	}
	target, err := p.str("target-index", source+"-"+interval)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"fixed_interval": interval}
	if m, ok := p.value("sampling-method"); ok {
		body["sampling_method"] = m
	}
	enc, _ := json.Marshal(body)
	return rawRequest{method: "POST", path: "/" + source + "/_downsample/" + target + ro.query, body: enc, ro: ro}, nil
}

// sqlQuery is esrally's sql: POST /_sql with the body, then one POST /_sql
// with the cursor of the previous answer per further page. Weight is the
// number of pages; running out of pages early is fatal, as in esrally.
type sqlQuery struct {
	body  []byte
	pages int64
	ro    requestOptions
}

func compileSQL(_ *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	body, err := p.object("body")
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, fmt.Errorf(`parameter "body" is mandatory`)
	}
	if body["query"] == nil {
		return nil, fmt.Errorf(`parameter "body.query" is mandatory`)
	}
	pages, err := p.int("pages", 1)
	if err != nil {
		return nil, err
	}
	if pages < 1 {
		return nil, fmt.Errorf(`parameter "pages": want >= 1`)
	}
	enc, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf(`parameter "body": %w`, err)
	}
	// esrally sends no request-params with SQL requests.
	ro.query = ""
	return constantOp{sqlQuery{body: enc, pages: pages, ro: ro}}, nil
}

func (q sqlQuery) run(ctx context.Context, s *session) outcome {
	const path = "/_sql"
	if _, out := s.call(ctx, "POST", path, q.body, &q.ro); out.err != nil {
		return out
	}
	for page := int64(1); page < q.pages; page++ {
		var r struct {
			Cursor string `json:"cursor"`
		}
		if json.Unmarshal(s.resp.Body, &r) != nil || r.Cursor == "" {
			return outcome{fatal: true, err: fmt.Errorf("POST %s: result set has been exhausted before all pages have been fetched, %d page(s) remaining", path, q.pages-page)}
		}
		body, _ := json.Marshal(map[string]string{"cursor": r.Cursor})
		if _, out := s.call(ctx, "POST", path, body, &q.ro); out.err != nil {
			return out
		}
	}
	return outcome{weight: q.pages}
}
