package estarget

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// searchResponse mirrors the documented search response.
type searchResponse struct {
	ScrollID string `json:"_scroll_id"`
	PitID    string `json:"pit_id"`
	Took     int64  `json:"took"`
	TimedOut bool   `json:"timed_out"`
	Shards   struct {
		Total      int `json:"total"`
		Successful int `json:"successful"`
		Skipped    int `json:"skipped"`
		Failed     int `json:"failed"`
	} `json:"_shards"`
	Hits struct {
		Total *struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		MaxScore *float64 `json:"max_score"`
		Hits     []struct {
			Index  string         `json:"_index"`
			ID     string         `json:"_id"`
			Score  *float64       `json:"_score"`
			Source map[string]any `json:"_source"`
			Sort   []any          `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]struct {
		Value                   *float64 `json:"value"`
		DocCountErrorUpperBound *int     `json:"doc_count_error_upper_bound"`
		SumOtherDocCount        *int     `json:"sum_other_doc_count"`
		Buckets                 []struct {
			Key         any    `json:"key"`
			KeyAsString string `json:"key_as_string"`
			DocCount    int    `json:"doc_count"`
		} `json:"buckets"`
	} `json:"aggregations"`
}

func (r searchResponse) ids() []string {
	var out []string
	for _, h := range r.Hits.Hits {
		out = append(out, h.ID)
	}
	return out
}

func search(t testing.TB, s http.Handler, method, path, body string) searchResponse {
	t.Helper()
	res := must(t, s, http.StatusOK, method, path, body)
	var sr searchResponse
	decode(t, res.body, &sr)
	return sr
}

// seeded returns a server with index "docs" holding ten documents.
func seeded(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	must(t, s, http.StatusOK, http.MethodPut, "/docs", `{"settings":{"number_of_shards":2}}`)
	var lines []string
	colours := []string{"red", "green", "blue"}
	for i := 0; i < 10; i++ {
		lines = append(lines, fmt.Sprintf(`{"index":{"_index":"docs","_id":"d%d"}}`, i),
			fmt.Sprintf(`{"n":%d,"colour":"%s","text":"The quick Brown fox %d","tags":["t%d","all"],"@timestamp":"2024-01-%02dT10:00:00Z","nested":{"v":%d}}`,
				i, colours[i%3], i, i%2, i+1, i*10))
	}
	br := bulk(t, s, "/_bulk", lines...)
	if br.Errors {
		t.Fatalf("seed bulk failed: %+v", br)
	}
	return s
}

func TestSearchQueries(t *testing.T) {
	s := seeded(t, Options{})
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"match_all", `{"match_all":{}}`, 10},
		{"match_none", `{"match_none":{}}`, 0},
		{"term_keyword", `{"term":{"colour":"red"}}`, 4},
		{"term_keyword_subfield", `{"term":{"colour.keyword":{"value":"blue"}}}`, 3},
		{"term_number", `{"term":{"n":3}}`, 1},
		{"terms", `{"terms":{"colour":["red","blue"]}}`, 7},
		{"terms_in_array_field", `{"terms":{"tags":["t1"]}}`, 5},
		{"ids", `{"ids":{"values":["d1","d2","nope"]}}`, 2},
		{"match_any_token", `{"match":{"text":"BROWN cat"}}`, 10},
		{"match_all_tokens", `{"match":{"text":{"query":"brown 7","operator":"and"}}}`, 1},
		{"match_phrase", `{"match_phrase":{"text":"quick brown"}}`, 10},
		{"multi_match", `{"multi_match":{"query":"green","fields":["colour^2","text"]}}`, 3},
		{"range_numbers", `{"range":{"n":{"gte":3,"lt":6}}}`, 3},
		{"range_dates", `{"range":{"@timestamp":{"gt":"2024-01-05T00:00:00Z","lte":"2024-01-07"}}}`, 2},
		{"range_nested_path", `{"range":{"nested.v":{"gte":50}}}`, 5},
		{"exists", `{"exists":{"field":"nested.v"}}`, 10},
		{"exists_missing", `{"exists":{"field":"nope"}}`, 0},
		{"prefix", `{"prefix":{"colour":"gr"}}`, 3},
		{"wildcard", `{"wildcard":{"colour":{"value":"*e*"}}}`, 10},
		{"bool_filter_must_not", `{"bool":{"filter":[{"range":{"n":{"lt":5}}}],"must_not":{"term":{"colour":"red"}}}}`, 3},
		{"bool_should_only", `{"bool":{"should":[{"term":{"n":1}},{"term":{"n":2}}]}}`, 2},
		{"bool_should_minimum", `{"bool":{"should":[{"term":{"colour":"red"}},{"term":{"tags":"t0"}}],"minimum_should_match":2}}`, 2},
		{"constant_score", `{"constant_score":{"filter":{"term":{"colour":"green"}}}}`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := search(t, s, http.MethodPost, "/docs/_search", `{"size":100,"query":`+tt.query+`}`)
			if sr.Hits.Total == nil || sr.Hits.Total.Value != tt.want || sr.Hits.Total.Relation != "eq" || len(sr.Hits.Hits) != tt.want {
				t.Fatalf("query %s: total %+v hits %v, want %d", tt.query, sr.Hits.Total, sr.ids(), tt.want)
			}
			if sr.Shards.Total != 2 || sr.Shards.Successful != 2 || sr.TimedOut {
				t.Fatalf("_shards: %+v", sr.Shards)
			}
			for _, h := range sr.Hits.Hits {
				if h.Index != "docs" || h.Score == nil || *h.Score != 1 || h.Source == nil {
					t.Fatalf("hit: %+v", h)
				}
			}
		})
	}
}

func TestSearchUnknownQueryIs400(t *testing.T) {
	s := seeded(t, Options{})
	eb := mustError(t, call(t, s, http.MethodPost, "/docs/_search", `{"query":{"geo_shape":{"x":{}}}}`), http.StatusBadRequest, "parsing_exception")
	if !strings.Contains(eb.Error.Reason, "geo_shape") {
		t.Fatalf("reason should name the query: %s", eb.Error.Reason)
	}
	mustError(t, call(t, s, http.MethodPost, "/missing/_search", `{}`), http.StatusNotFound, "index_not_found_exception")
	mustError(t, call(t, s, http.MethodPost, "/docs/_search", `{"query":`), http.StatusBadRequest, "x_content_parse_exception")
}

func TestSearchPagingSortAndTotals(t *testing.T) {
	s := seeded(t, Options{})
	t.Run("default_size_is_10_from_pages", func(t *testing.T) {
		sr := search(t, s, http.MethodGet, "/docs/_search?size=3&from=2", "")
		if len(sr.Hits.Hits) != 3 || sr.Hits.Total.Value != 10 || sr.Hits.MaxScore == nil {
			t.Fatalf("%+v", sr.Hits)
		}
	})
	t.Run("sort_desc_on_field_carries_sort_values_and_null_scores", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search", `{"size":3,"sort":[{"n":{"order":"desc"}}]}`)
		if got := strings.Join(sr.ids(), ","); got != "d9,d8,d7" {
			t.Fatalf("order %s", got)
		}
		h := sr.Hits.Hits[0]
		if h.Score != nil || sr.Hits.MaxScore != nil || len(h.Sort) != 1 || h.Sort[0] != float64(9) {
			t.Fatalf("sorted hit: %+v max_score %v", h, sr.Hits.MaxScore)
		}
	})
	t.Run("search_after_continues", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search", `{"size":3,"sort":["n"],"search_after":[4]}`)
		if got := strings.Join(sr.ids(), ","); got != "d5,d6,d7" {
			t.Fatalf("order %s", got)
		}
	})
	t.Run("track_total_hits_bound_gives_gte", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search", `{"size":1,"track_total_hits":4}`)
		if sr.Hits.Total.Value != 4 || sr.Hits.Total.Relation != "gte" {
			t.Fatalf("%+v", sr.Hits.Total)
		}
	})
	t.Run("track_total_hits_false_omits_total", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search?request_cache=true", `{"track_total_hits":false}`)
		if sr.Hits.Total != nil || len(sr.Hits.Hits) != 10 {
			t.Fatalf("%+v", sr.Hits)
		}
	})
	t.Run("source_false_omits_source", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search", `{"_source":false,"size":1}`)
		if sr.Hits.Hits[0].Source != nil {
			t.Fatal("_source returned")
		}
	})
	t.Run("result_window_is_bounded", func(t *testing.T) {
		mustError(t, call(t, s, http.MethodPost, "/docs/_search", `{"from":9999,"size":2}`), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("empty_result_has_null_max_score", func(t *testing.T) {
		sr := search(t, s, http.MethodPost, "/docs/_search", `{"query":{"match_none":{}}}`)
		if sr.Hits.MaxScore != nil || sr.Hits.Total.Value != 0 {
			t.Fatalf("%+v", sr.Hits)
		}
	})
	t.Run("all_indices_search", func(t *testing.T) {
		sr := search(t, s, http.MethodGet, "/_search", "")
		if sr.Hits.Total.Value != 10 {
			t.Fatalf("%+v", sr.Hits.Total)
		}
	})
}

func TestCount(t *testing.T) {
	s := seeded(t, Options{})
	res := must(t, s, http.StatusOK, http.MethodPost, "/docs/_count", `{"query":{"term":{"colour":"red"}}}`)
	var c struct {
		Count  int `json:"count"`
		Shards struct {
			Total, Successful, Skipped, Failed int
		} `json:"_shards"`
	}
	decode(t, res.body, &c)
	if c.Count != 4 || c.Shards.Total != 2 {
		t.Fatalf("%s", res.body)
	}
}

func TestAggregations(t *testing.T) {
	s := seeded(t, Options{})
	res := must(t, s, http.StatusOK, http.MethodPost, "/docs/_search", `{"size":0,"aggs":{
		"colours":{"terms":{"field":"colour.keyword","size":2}},
		"lo":{"min":{"field":"n"}},"hi":{"max":{"field":"n"}},"mean":{"avg":{"field":"n"}},"total":{"sum":{"field":"n"}},
		"cnt":{"value_count":{"field":"n"}},"distinct":{"cardinality":{"field":"colour"}},
		"per_day":{"date_histogram":{"field":"@timestamp","calendar_interval":"1d"}},
		"by5":{"histogram":{"field":"n","interval":5}},
		"weird":{"significant_terms":{"field":"colour"}}}}`)
	var sr searchResponse
	decode(t, res.body, &sr)
	if len(sr.Hits.Hits) != 0 || sr.Hits.Total.Value != 10 {
		t.Fatalf("hits with size 0: %+v", sr.Hits)
	}
	c := sr.Aggregations["colours"]
	if len(c.Buckets) != 2 || c.Buckets[0].Key != "red" || c.Buckets[0].DocCount != 4 || c.SumOtherDocCount == nil || *c.SumOtherDocCount != 3 {
		t.Fatalf("terms: %+v", c)
	}
	for name, want := range map[string]float64{"lo": 0, "hi": 9, "mean": 4.5, "total": 45, "cnt": 10, "distinct": 3} {
		if v := sr.Aggregations[name].Value; v == nil || *v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if d := sr.Aggregations["per_day"]; len(d.Buckets) != 10 || d.Buckets[0].KeyAsString != "2024-01-01T00:00:00.000Z" || d.Buckets[0].DocCount != 1 {
		t.Fatalf("date_histogram: %+v", d)
	}
	if h := sr.Aggregations["by5"]; len(h.Buckets) != 2 || h.Buckets[1].Key != float64(5) || h.Buckets[1].DocCount != 5 {
		t.Fatalf("histogram: %+v", h)
	}
	if _, ok := sr.Aggregations["weird"]; ok {
		t.Fatal("an unsupported aggregation must not be answered")
	}
	if !strings.Contains(res.header.Get("X-Estarget-Unsupported"), "significant_terms") {
		t.Fatalf("unsupported aggregation not named: %q", res.header.Get("X-Estarget-Unsupported"))
	}
}

func TestScroll(t *testing.T) {
	s := seeded(t, Options{})
	first := search(t, s, http.MethodPost, "/docs/_search?scroll=1m", `{"size":4,"sort":["_doc"]}`)
	if first.ScrollID == "" || len(first.Hits.Hits) != 4 || first.Hits.Total.Value != 10 {
		t.Fatalf("first page: %+v", first)
	}
	seen := first.ids()
	// Documents written after the scroll started are not part of it.
	bulk(t, s, "/_bulk", `{"index":{"_index":"docs","_id":"late"}}`, `{"n":100}`)
	id := first.ScrollID
	for i := 0; i < 5; i++ {
		page := search(t, s, http.MethodPost, "/_search/scroll", `{"scroll":"1m","scroll_id":"`+id+`"}`)
		if page.ScrollID != id {
			t.Fatal("scroll id changed")
		}
		if len(page.Hits.Hits) == 0 {
			break
		}
		seen = append(seen, page.ids()...)
	}
	sort.Strings(seen)
	if len(seen) != 10 || seen[0] != "d0" || seen[9] != "d9" {
		t.Fatalf("scroll saw %v", seen)
	}
	res := must(t, s, http.StatusOK, http.MethodDelete, "/_search/scroll", `{"scroll_id":["`+id+`"]}`)
	if string(res.body) != `{"succeeded":true,"num_freed":1}` {
		t.Fatalf("clear: %s", res.body)
	}
	must(t, s, http.StatusNotFound, http.MethodDelete, "/_search/scroll", `{"scroll_id":"`+id+`"}`)
	missing := call(t, s, http.MethodPost, "/_search/scroll", `{"scroll":"1m","scroll_id":"`+id+`"}`)
	var eb errorBody
	decode(t, missing.body, &eb)
	if missing.status != http.StatusNotFound || eb.Error.Type != "search_phase_execution_exception" ||
		len(eb.Error.RootCause) != 1 || eb.Error.RootCause[0].Type != "search_context_missing_exception" {
		t.Fatalf("expired scroll: %d %s", missing.status, missing.body)
	}
}

func TestPointInTime(t *testing.T) {
	t.Run("elasticsearch", func(t *testing.T) {
		s := seeded(t, Options{})
		mustError(t, call(t, s, http.MethodPost, "/docs/_pit", ""), http.StatusBadRequest, "action_request_validation_exception")
		res := must(t, s, http.StatusOK, http.MethodPost, "/docs/_pit?keep_alive=1m", "")
		var open struct {
			ID     string                                           `json:"id"`
			Shards struct{ Total, Successful, Skipped, Failed int } `json:"_shards"`
		}
		decode(t, res.body, &open)
		if open.ID == "" || open.Shards.Total != 2 {
			t.Fatalf("open: %s", res.body)
		}
		var seen []string
		var after string
		for i := 0; i < 10; i++ {
			body := `{"size":3,"sort":[{"n":"asc"}],"pit":{"id":"` + open.ID + `","keep_alive":"1m"}` + after + `}`
			sr := search(t, s, http.MethodPost, "/_search", body)
			if sr.PitID != open.ID {
				t.Fatalf("pit_id %q", sr.PitID)
			}
			if len(sr.Hits.Hits) == 0 {
				break
			}
			seen = append(seen, sr.ids()...)
			last := sr.Hits.Hits[len(sr.Hits.Hits)-1].Sort
			if len(last) != 2 {
				t.Fatalf("sort values with the implicit _shard_doc tiebreaker: %v", last)
			}
			after = fmt.Sprintf(`,"search_after":[%v,%v]`, last[0], last[1])
		}
		if strings.Join(seen, ",") != "d0,d1,d2,d3,d4,d5,d6,d7,d8,d9" {
			t.Fatalf("paged through %v", seen)
		}
		mustError(t, call(t, s, http.MethodPost, "/docs/_search", `{"pit":{"id":"`+open.ID+`"}}`), http.StatusBadRequest, "action_request_validation_exception")
		closed := must(t, s, http.StatusOK, http.MethodDelete, "/_pit", `{"id":"`+open.ID+`"}`)
		if string(closed.body) != `{"succeeded":true,"num_freed":1}` {
			t.Fatalf("close: %s", closed.body)
		}
		must(t, s, http.StatusNotFound, http.MethodDelete, "/_pit", `{"id":"`+open.ID+`"}`)
	})
	t.Run("opensearch", func(t *testing.T) {
		s := seeded(t, Options{Flavor: FlavorOpenSearch})
		res := must(t, s, http.StatusOK, http.MethodPost, "/docs/_search/point_in_time?keep_alive=1m", "")
		var open struct {
			PitID        string `json:"pit_id"`
			CreationTime int64  `json:"creation_time"`
		}
		decode(t, res.body, &open)
		if open.PitID == "" || open.CreationTime == 0 {
			t.Fatalf("open: %s", res.body)
		}
		sr := search(t, s, http.MethodPost, "/_search", `{"pit":{"id":"`+open.PitID+`"}}`)
		if sr.Hits.Total.Value != 10 {
			t.Fatalf("%+v", sr.Hits.Total)
		}
		closed := must(t, s, http.StatusOK, http.MethodDelete, "/_search/point_in_time", `{"pit_id":["`+open.PitID+`"]}`)
		if !strings.Contains(string(closed.body), `"successful":true`) {
			t.Fatalf("close: %s", closed.body)
		}
	})
}

func TestParseDateMath(t *testing.T) {
	now := mustTime(t, "2024-03-15T12:34:56Z")
	tests := []struct {
		in, want string
	}{
		{"now", "2024-03-15T12:34:56Z"},
		{"now-1d", "2024-03-14T12:34:56Z"},
		{"now+2h/d", "2024-03-15T00:00:00Z"},
		{"now-1M/M", "2024-02-01T00:00:00Z"},
		{"2024-01-01||+1d", "2024-01-02T00:00:00Z"},
		{"2024-01-01", "2024-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		got, ok := parseDateMath(tt.in, now)
		if !ok || !got.Equal(mustTime(t, tt.want)) {
			t.Errorf("parseDateMath(%q) = %v %v, want %s", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := parseDateMath("yesterday", now); ok {
		t.Error("nonsense parsed")
	}
}

func TestTooManyBucketsIsRefused(t *testing.T) {
	s := seeded(t, Options{})
	mustError(t, call(t, s, http.MethodPost, "/docs/_search", `{"size":0,"aggs":{"h":{"histogram":{"field":"n","interval":0.0001}}}}`),
		http.StatusBadRequest, "too_many_buckets_exception")
}
