package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"

	"rally/track"
)

// searchTarget is Rally's default search target: "index", else
// "data-stream", else the track's only index or only data stream.
func searchTarget(t *track.Track, p params) (string, error) {
	idx, err := p.str("index", "")
	if err != nil || idx != "" {
		return idx, err
	}
	if ds, err := p.str("data-stream", ""); err != nil || ds != "" {
		return ds, err
	}
	switch {
	case len(t.Indices) == 1:
		return t.Indices[0].Name, nil
	case len(t.DataStreams) == 1:
		return t.DataStreams[0].Name, nil
	}
	return "", fmt.Errorf(`"index" or "data-stream" is mandatory (the track has no single index to default to)`)
}

// search is one request-body search: GET /{index}/_search with the body
// encoded once at plan time, so the request loop allocates nothing.
type search struct {
	path string
	body []byte
	ro   requestOptions
}

func (q *search) run(ctx context.Context, s *session) outcome {
	s.req.Reset()
	s.req.Method = "GET"
	s.req.Path = q.path
	s.req.Body = q.body
	s.req.Headers = q.ro.headers
	s.req.Timeout = q.ro.timeout
	if err := s.do(ctx); err != nil {
		return transportFailure("GET", q.path, err)
	}
	if s.resp.Status >= 400 {
		return httpFailure("GET", q.path, s.resp.Status, s.resp.Body)
	}
	return outcome{weight: 1}
}

// searchSpec is the compiled search, scroll-search or paginated-search.
type searchSpec struct {
	r     runner
	pages bool
}

func (c searchSpec) newRunner(clientSlot) (runner, error) { return c.r, nil }
func (c searchSpec) unit() string {
	if c.pages {
		return "pages/s"
	}
	return "ops/s"
}
func (searchSpec) finite() bool { return false }

func compileSearch(t *track.Track, task *track.Task, p params) (opSpec, error) {
	target, err := searchTarget(t, p)
	if err != nil {
		return nil, err
	}
	opType := task.Operation.Type
	pitFrom, err := p.str("with-point-in-time-from", "")
	if err != nil {
		return nil, err
	}
	rp, err := p.object("request-params")
	if err != nil {
		return nil, err
	}
	rp = maps.Clone(rp)
	if rp == nil {
		rp = map[string]any{}
	}
	if p.has("cache") {
		c, err := p.bool("cache", false)
		if err != nil {
			return nil, err
		}
		rp["request_cache"] = c
	}
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	if ro.query, err = queryString(rp); err != nil {
		return nil, err
	}
	if compress, err := p.bool("response-compression-enabled", true); err != nil {
		return nil, err
	} else if !compress {
		ro.headers = append(ro.headers[:len(ro.headers):len(ro.headers)], Header{Name: "Accept-Encoding", Value: "identity"})
	}
	if _, err := p.bool("detailed-results", false); err != nil {
		return nil, err
	}
	body, err := p.object("body")
	if err != nil {
		return nil, err
	}
	size := int64(0)
	if p.has("results-per-page") {
		if size, err = p.int("results-per-page", 0); err != nil {
			return nil, err
		}
		if size < 0 {
			return nil, fmt.Errorf(`parameter "results-per-page": want >= 0`)
		}
		// A composite aggregation pages by its own size, not the hits'.
		if opType != "composite-agg" {
			body = maps.Clone(body)
			if body == nil {
				body = map[string]any{}
			}
			body["size"] = size
		}
	}
	var encoded []byte
	if body != nil {
		if encoded, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf(`parameter "body": %w`, err)
		}
	}
	prefix := "/" + target
	if typ, err := p.str("type", ""); err != nil {
		return nil, err
	} else if typ != "" {
		prefix += "/" + typ
	}
	if opType == "search" && !p.has("pages") {
		return searchSpec{r: &search{path: prefix + "/_search" + ro.query, body: encoded, ro: ro}}, nil
	}
	pages := int64(math.MaxInt64)
	// composite-agg retrieves all pages unless told otherwise.
	if v, _ := p.str("pages", ""); v != "all" && (opType != "composite-agg" || p.has("pages")) {
		if pages, err = p.int("pages", 0); err != nil {
			return nil, err
		}
		if pages < 1 {
			return nil, fmt.Errorf(`parameter "pages" is mandatory for %s: a number >= 1 or "all"`, opType)
		}
	}
	path := prefix + "/_search" + ro.query
	if pitFrom != "" && (opType == "paginated-search" || opType == "composite-agg") {
		// A point in time names its indices itself: the request goes to
		// /_search and the body loses what the point in time encodes.
		path = "/_search" + ro.query
		body = maps.Clone(body)
		for _, k := range []string{"index", "routing", "preference"} {
			delete(body, k)
		}
	}
	switch opType {
	case "paginated-search":
		if size <= 0 {
			return nil, fmt.Errorf(`parameter "results-per-page" is mandatory for paginated-search`)
		}
		return searchSpec{r: &paginatedSearch{path: path, body: body, size: size, pages: pages, pitFrom: pitFrom, ro: ro}, pages: true}, nil
	case "composite-agg":
		agg, err := newCompositeAgg(body, size, pages, pitFrom)
		if err != nil {
			return nil, err
		}
		agg.path, agg.ro = path, ro
		return searchSpec{r: agg, pages: true}, nil
	}
	q := map[string]any{"scroll": "10s", "sort": "_doc"}
	maps.Copy(q, rp)
	if size > 0 {
		q["size"] = size
	}
	qs, err := queryString(q)
	if err != nil {
		return nil, err
	}
	return searchSpec{r: &scrollSearch{path: prefix + "/_search" + qs, body: encoded, size: size, pages: pages, ro: ro}, pages: true}, nil
}

// scrollSearch retrieves up to pages pages with the scroll API and clears
// the scroll context at the end; weight is the number of pages.
type scrollSearch struct {
	path  string
	body  []byte
	size  int64
	pages int64
	ro    requestOptions
}

func (q *scrollSearch) run(ctx context.Context, s *session) outcome {
	var scrollID string
	defer func() {
		if scrollID != "" {
			body, _ := json.Marshal(map[string]any{"scroll_id": []string{scrollID}})
			// Clearing is housekeeping: its failure does not fail the op.
			s.call(ctx, "DELETE", "/_search/scroll", body, &q.ro, 404)
		}
	}()
	var retrieved int64
	for page := int64(0); page < q.pages; page++ {
		if page == 0 {
			if _, out := s.call(ctx, "GET", q.path, q.body, &q.ro); out.err != nil {
				return out
			}
			r, err := scanSearchResponse(s.resp.Body)
			if err != nil {
				return conditionFailure("GET", q.path, "response is not a search response: "+err.Error())
			}
			scrollID = r.ScrollID
			retrieved++
			hits := r.Total
			if (q.size > 0 && hits < q.size) || hits == 0 || scrollID == "" {
				break
			}
			continue
		}
		body, _ := json.Marshal(map[string]any{"scroll_id": scrollID, "scroll": "10s"})
		if _, out := s.call(ctx, "GET", "/_search/scroll", body, &q.ro); out.err != nil {
			return out
		}
		r, err := scanSearchResponse(s.resp.Body)
		if err != nil {
			return conditionFailure("GET", "/_search/scroll", "response is not a search response: "+err.Error())
		}
		if r.ScrollID != "" {
			scrollID = r.ScrollID
		}
		retrieved++
		if r.Hits == 0 {
			break
		}
	}
	return outcome{weight: retrieved}
}

// paginatedSearch pages with search_after until pages are retrieved or the
// hits are exhausted; weight is the number of pages.
type paginatedSearch struct {
	path  string
	body  map[string]any
	size  int64
	pages int64
	// pitFrom names the composite's open-point-in-time whose id each page
	// searches ("" for none); each answer's pit_id replaces it.
	pitFrom string
	ro      requestOptions
}

func (q *paginatedSearch) run(ctx context.Context, s *session) outcome {
	body := maps.Clone(q.body)
	if body == nil {
		body = map[string]any{}
	}
	var hits int64 = -1
	var retrieved int64
	for page := int64(1); page <= q.pages; page++ {
		if out := searchPage(ctx, s, q.path, body, q.pitFrom, &q.ro); out.err != nil {
			return out
		}
		retrieved++
		r, err := scanSearchResponse(s.resp.Body)
		if err != nil {
			return conditionFailure("GET", q.path, "response is not a search response: "+err.Error())
		}
		if hits < 0 {
			hits = r.Total
		}
		if out := keepPointInTime(s, q.pitFrom, r.PitID); out.err != nil {
			return out
		}
		// Rally: continue while hits/size > page.
		if r.Hits == 0 || float64(hits)/float64(q.size) <= float64(page) {
			break
		}
		last := r.LastSort
		if len(last) == 0 {
			return conditionFailure("GET", q.path, "hits have no sort values: the body needs a sort for search_after")
		}
		body["search_after"] = last
	}
	return outcome{weight: retrieved}
}

// searchPage sends one page of a paginated search (paginated-search,
// composite-agg): body as GET path, with the point in time that pitFrom
// names when set.
func searchPage(ctx context.Context, s *session, path string, body map[string]any, pitFrom string, ro *requestOptions) outcome {
	if pitFrom != "" {
		pit, out := pointInTime(s, pitFrom)
		if out.err != nil {
			return out
		}
		body["pit"] = pit
	}
	enc, err := json.Marshal(body)
	if err != nil {
		return conditionFailure("GET", path, "encode body: "+err.Error())
	}
	_, out := s.call(ctx, "GET", path, enc, ro)
	return out
}
