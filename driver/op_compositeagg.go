package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// compositeAgg is esrally's composite-agg: it pages through the one
// composite aggregation of the body, sending each answer's after_key as
// the next page's "after", until an answer has none or "pages" pages are
// retrieved (default all). results-per-page is the aggregation's size.
// Weight is the number of pages.
type compositeAgg struct {
	path string
	body map[string]any
	// aggPath names the aggregations from the body's top down to the
	// composite one.
	aggPath []string
	size    int64
	pages   int64
	pitFrom string
	ro      requestOptions
}

// newCompositeAgg finds the body's composite aggregation, which must be
// exactly one (anywhere in the aggregation tree).
func newCompositeAgg(body map[string]any, size, pages int64, pitFrom string) (*compositeAgg, error) {
	paths := compositePaths(body, nil)
	if len(paths) != 1 {
		return nil, fmt.Errorf(`parameter "body": a unique path to a composite aggregation is required, found %d`, len(paths))
	}
	if body == nil {
		body = map[string]any{}
	}
	return &compositeAgg{body: body, aggPath: paths[0], size: size, pages: pages, pitFrom: pitFrom}, nil
}

// aggsOf is an object's "aggs", else its "aggregations".
func aggsOf(obj map[string]any) (string, map[string]any) {
	if a, ok := obj["aggs"].(map[string]any); ok && len(a) > 0 {
		return "aggs", a
	}
	a, _ := obj["aggregations"].(map[string]any)
	return "aggregations", a
}

// compositePaths lists the paths (aggregation names) to every composite
// aggregation under obj.
func compositePaths(obj map[string]any, parent []string) [][]string {
	_, aggs := aggsOf(obj)
	var paths [][]string
	for _, name := range slices.Sorted(maps.Keys(aggs)) {
		sub, ok := aggs[name].(map[string]any)
		if !ok {
			continue
		}
		here := append(slices.Clip(parent), name)
		if _, ok := sub["composite"].(map[string]any); ok {
			paths = append(paths, here)
		}
		paths = append(paths, compositePaths(sub, here)...)
	}
	return paths
}

// withAfter copies obj along the path to the composite aggregation and
// sets its size (when given) and after key (when not nil), leaving the
// rest shared.
func withAfter(obj map[string]any, path []string, size int64, after any) map[string]any {
	out := maps.Clone(obj)
	if len(path) == 0 {
		comp := maps.Clone(out["composite"].(map[string]any))
		if size > 0 {
			comp["size"] = size
		}
		if after != nil {
			comp["after"] = after
		}
		out["composite"] = comp
		return out
	}
	key, aggs := aggsOf(out)
	aggs = maps.Clone(aggs)
	aggs[path[0]] = withAfter(aggs[path[0]].(map[string]any), path[1:], size, after)
	out[key] = aggs
	return out
}

func (q *compositeAgg) run(ctx context.Context, s *session) outcome {
	var after any
	var retrieved int64
	for page := int64(1); page <= q.pages; page++ {
		body := withAfter(q.body, q.aggPath, q.size, after)
		if out := searchPage(ctx, s, q.path, body, q.pitFrom, &q.ro); out.err != nil {
			return out
		}
		retrieved++
		var r map[string]any
		dec := json.NewDecoder(bytes.NewReader(s.resp.Body))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			return conditionFailure("GET", q.path, "response is not a search response: "+err.Error())
		}
		pitID, _ := r["pit_id"].(string)
		if out := keepPointInTime(s, q.pitFrom, pitID); out.err != nil {
			return out
		}
		agg, _ := jsonAt(r, append([]string{"aggregations"}, q.aggPath...)).(map[string]any)
		next, ok := agg["after_key"].(map[string]any)
		if !ok {
			break
		}
		after = next
	}
	return outcome{weight: retrieved}
}

// jsonAt walks decoded JSON objects along keys (nil when a key is missing).
func jsonAt(v any, keys []string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}
