package driver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/metrics"
)

// recorded decodes a recorded answer (numbers kept exact).
func recorded(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeBody(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// lastSort is the sort values of the last hit of a recorded search answer.
func lastSort(t *testing.T, file string) any {
	hits := jsonAt(recorded(t, file), []string{"hits", "hits"}).([]any)
	return hits[len(hits)-1].(map[string]any)["sort"]
}

// jsonText encodes a value for an exchange's body.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pageBody is the body of one page of the composite tests' paginated
// search over a point in time.
func pageBody(t *testing.T, size int, pit string, after any) string {
	body := map[string]any{
		"size":  size,
		"sort":  []any{map[string]any{"@timestamp": "asc"}, map[string]any{"_shard_doc": "asc"}},
		"query": map[string]any{"match_all": map[string]any{}},
		"pit":   map[string]any{"id": pit, "keep_alive": "1m"},
	}
	if after != nil {
		body["search_after"] = after
	}
	return jsonText(t, body)
}

// compositeParams is a composite operation that opens a point in time,
// pages through it in one stream while a second stream asks for field
// capabilities and pages through a composite aggregation, and closes the
// point in time.
const compositeParams = `{"requests":[
	{"name":"open-pit","operation-type":"open-point-in-time","index":"logs-a"},
	{"stream":[{"name":"pages","operation-type":"paginated-search","index":"logs-a","with-point-in-time-from":"open-pit","results-per-page":%d,"pages":"all",
		"body":{"sort":[{"@timestamp":"asc"},{"_shard_doc":"asc"}],"query":{"match_all":{}}}}]},
	{"stream":[{"name":"caps","operation-type":"field-caps","index":"logs-*"},
		{"name":"by-host","operation-type":"composite-agg","index":"logs-a","results-per-page":2,
		 "body":{"size":0,"aggs":{"by_host":{"composite":{"sources":[{"host":{"terms":{"field":"host"}}}]}}}}}]},
	{"name":"close-pit","operation-type":"close-point-in-time","with-point-in-time-from":"open-pit"}]}`

// compositeAggExchanges are the composite aggregation's three pages.
func compositeAggExchanges(t *testing.T) []exchange {
	aggBody := func(after any) string {
		comp := map[string]any{"size": 2, "sources": []any{map[string]any{"host": map[string]any{"terms": map[string]any{"field": "host"}}}}}
		if after != nil {
			comp["after"] = after
		}
		return jsonText(t, map[string]any{"size": 0, "aggs": map[string]any{"by_host": map[string]any{"composite": comp}}})
	}
	afterKey := func(file string) any {
		return jsonAt(recorded(t, file), []string{"aggregations", "by_host", "after_key"})
	}
	return []exchange{
		ex("GET /logs-*/_field_caps?fields=%2A", "", ok("field-caps/elasticsearch-8.17.0-all.json")),
		ex("GET /logs-a/_search", aggBody(nil), ok("composite-agg/elasticsearch-8.17.0-page-1.json")),
		ex("GET /logs-a/_search", aggBody(afterKey("composite-agg/elasticsearch-8.17.0-page-1.json")), ok("composite-agg/elasticsearch-8.17.0-page-2.json")),
		ex("GET /logs-a/_search", aggBody(afterKey("composite-agg/elasticsearch-8.17.0-page-2.json")), ok("composite-agg/elasticsearch-8.17.0-page-3.json")),
	}
}

func TestCompositeWithPointInTimeOnElasticsearch(t *testing.T) {
	const dir = "paginated-search/elasticsearch-8.17.0-pit-page-"
	open := recorded(t, "open-point-in-time/elasticsearch-8.17.0.json")["id"].(string)
	pit1 := recorded(t, dir+"1.json")["pit_id"].(string)
	pit2 := recorded(t, dir+"2.json")["pit_id"].(string)
	pit3 := recorded(t, dir+"3.json")["pit_id"].(string)
	srv := newReplayES(t, append([]exchange{
		ex("GET /", "", ok("root/elasticsearch-8.17.0.json")),
		ex("POST /logs-a/_pit?keep_alive=1m", "", ok("open-point-in-time/elasticsearch-8.17.0.json")),
		ex("GET /_search", pageBody(t, 5, open, nil), ok(dir+"1.json")),
		ex("GET /_search", pageBody(t, 5, pit1, lastSort(t, dir+"1.json")), ok(dir+"2.json")),
		ex("GET /_search", pageBody(t, 5, pit2, lastSort(t, dir+"2.json")), ok(dir+"3.json")),
		ex("DELETE /_pit", jsonText(t, map[string]any{"id": pit3}), ok("close-point-in-time/elasticsearch-8.17.0.json")),
	}, compositeAggExchanges(t)...)...)
	out := runOnce(t, srv, "composite", strings.Replace(compositeParams, "%d", "5", 1))
	want{weight: 1}.check(t, out)
	srv.requireAllUsed(t)
	// The detection is outside the composite's timing; the point in time
	// is opened first and closed last; the streams run in between.
	reqs := srv.requests()
	first, last := reqs[1].Method+" "+reqs[1].URI, reqs[len(reqs)-1].Method+" "+reqs[len(reqs)-1].URI
	if reqs[0].URI != "/" || first != "POST /logs-a/_pit?keep_alive=1m" || last != "DELETE /_pit" || len(reqs) != 10 {
		t.Fatalf("requests: %v", srv.lines())
	}
}

func TestCompositeWithPointInTimeOnOpenSearch(t *testing.T) {
	const dir = "paginated-search/opensearch-2.19.1-pit-page-"
	open := recorded(t, "open-point-in-time/opensearch-2.19.1.json")["pit_id"].(string)
	pit2 := recorded(t, dir+"2.json")["pit_id"].(string)
	srv := newReplayES(t, append([]exchange{
		ex("GET /", "", ok("root/opensearch-2.19.1.json")),
		ex("POST /logs-a/_search/point_in_time?keep_alive=1m", "", ok("open-point-in-time/opensearch-2.19.1.json")),
		ex("GET /_search", pageBody(t, 8, open, nil), ok(dir+"1.json")),
		ex("GET /_search", pageBody(t, 8, recorded(t, dir+"1.json")["pit_id"].(string), lastSort(t, dir+"1.json")), ok(dir+"2.json")),
		ex("DELETE /_search/point_in_time", jsonText(t, map[string]any{"pit_id": []string{pit2}}), ok("close-point-in-time/opensearch-2.19.1.json")),
	}, compositeAggExchanges(t)...)...)
	out := runOnce(t, srv, "composite", strings.Replace(compositeParams, "%d", "8", 1))
	want{weight: 1}.check(t, out)
	srv.requireAllUsed(t)
}

func TestCompositeAsyncSearchPollsUntilDone(t *testing.T) {
	id := recorded(t, "submit-async-search/running.json")["id"].(string)
	srv := newReplayES(t,
		ex("POST /logs-a/_async_search?wait_for_completion_timeout=0", `{"query":{"match_all":{}}}`, ok("submit-async-search/running.json")),
		ex("GET /_async_search/"+id, "", ok("get-async-search/running.json"), ok("get-async-search/running.json"), ok("get-async-search/completed.json")),
		ex("DELETE /_async_search/"+id, "", ok("delete-async-search/acknowledged.json")),
	)
	out := runOnce(t, srv, "composite", `{"requests":[
		{"name":"q1","operation-type":"submit-async-search","index":"logs-a","body":{"query":{"match_all":{}}}},
		{"name":"get","operation-type":"get-async-search","retrieve-results-for":"q1","retry-wait-period":0.01},
		{"name":"delete","operation-type":"delete-async-search","delete-results-for":["q1"]}]}`)
	want{weight: 1}.check(t, out)
	srv.requireAllUsed(t)
	if n := srv.count("GET /_async_search/" + id); n != 3 {
		t.Fatalf("%d polls, want 3", n)
	}
}

func TestCompositeFailureStopsTheOtherStreams(t *testing.T) {
	srv := newReplayES(t, ex("GET /nosuchindex/_field_caps?fields=%2A", "", reply{404, "field-caps/elasticsearch-8.17.0-no-such-index.json"}))
	start := time.Now()
	out := runOnce(t, srv, "composite", `{"requests":[
		{"stream":[{"name":"long","operation-type":"sleep","duration":10}]},
		{"stream":[{"name":"caps","operation-type":"field-caps","index":"nosuchindex"}]}]}`)
	want{errType: metrics.HTTPError(404)}.check(t, out)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the failure waited %v for the other stream", d)
	}
}

func TestCompositeMaxConnections(t *testing.T) {
	srv := newReplayES(t, ex("GET /logs-*/_field_caps?fields=%2A", "", ok("field-caps/elasticsearch-8.17.0-all.json")))
	const streams = `{"max-connections":%s,"requests":[
		{"stream":[{"operation-type":"sleep","duration":0.3}]},
		{"stream":[{"operation-type":"sleep","duration":0.3}]},
		{"stream":[{"operation-type":"field-caps","index":"logs-*"}]}]}`
	// One connection runs the sleeps one after the other; three run them
	// side by side.
	for _, tc := range []struct {
		limit           string
		atLeast, atMost time.Duration
	}{
		{limit: "1", atLeast: 600 * time.Millisecond, atMost: 5 * time.Second},
		{limit: "3", atLeast: 300 * time.Millisecond, atMost: 590 * time.Millisecond},
	} {
		start := time.Now()
		out := runOnce(t, srv, "composite", strings.Replace(streams, "%s", tc.limit, 1))
		want{weight: 1}.check(t, out)
		if d := time.Since(start); d < tc.atLeast || d > tc.atMost {
			t.Errorf("max-connections %s: took %v, want between %v and %v", tc.limit, d, tc.atLeast, tc.atMost)
		}
	}
}

// The composite's service time spans its streams: the sleeps of two
// concurrent streams count once, not twice, and not zero.
func TestCompositeServiceTimeSpansItsStreams(t *testing.T) {
	srv := newReplayES(t)
	r := runTask(t, opsTrack(t), opTask(t, "c", "composite", `{"requests":[
		{"stream":[{"operation-type":"sleep","duration":0.1}]},
		{"stream":[{"operation-type":"sleep","duration":0.1}]}]}`), srv.testES)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if st := r.summary.ServiceTime["50"]; st < 99 || st > 195 {
		t.Fatalf("service time %.1f ms, want about 100", st)
	}
}

func TestCompositeOnlyOperations(t *testing.T) {
	for _, tc := range []struct {
		name, opType, params, wantErr string
	}{
		{"open-point-in-time alone", "open-point-in-time", `{"index":"logs-a"}`, "open-point-in-time runs only inside a composite operation's requests"},
		{"get-async-search alone", "get-async-search", `{"retrieve-results-for":"q"}`, "runs only inside a composite"},
		{"paginated-search with a point in time alone", "paginated-search", `{"index":"x","pages":1,"results-per-page":1,"with-point-in-time-from":"p"}`,
			`"with-point-in-time-from" works only inside a composite operation's requests`},
		{"composite needs requests", "composite", `{}`, `parameter "requests" is mandatory`},
		{"composite request without a type", "composite", `{"requests":[{"name":"x"}]}`, "requests[0]: a request must contain [stream] or [operation-type]"},
		{"composite request of an unsupported type", "composite", `{"requests":[{"stream":[{"operation-type":"bulk"}]}]}`,
			"requests[0].stream[0]: unsupported operation-type [bulk]"},
		{"composite search needs an index", "composite", `{"requests":[{"name":"q","operation-type":"search","body":{}}]}`,
			`requests[0] (search "q"): parameter "index" is mandatory inside a composite operation`},
		{"composite names an unknown point in time", "composite", `{"requests":[{"operation-type":"close-point-in-time","with-point-in-time-from":"nope"}]}`,
			`no open-point-in-time or submit-async-search of the composite is named "nope"`},
		{"open-point-in-time needs a name", "composite", `{"requests":[{"operation-type":"open-point-in-time","index":"logs-a"}]}`,
			`parameter "name" is mandatory`},
		{"composite-agg needs one composite aggregation", "composite-agg", `{"index":"x","body":{"aggs":{"a":{"terms":{}}}}}`,
			"a unique path to a composite aggregation is required, found 0"},
		{"max-connections positive", "composite", `{"max-connections":0,"requests":[]}`, `parameter "max-connections": want >= 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileTask(opsTrack(t), opTask(t, "op", tc.opType, tc.params))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCompositeAggStandalone(t *testing.T) {
	srv := newReplayES(t, compositeAggExchanges(t)[1:]...)
	r := runTask(t, opsTrack(t), opTask(t, "agg", "composite-agg", `{"index":"logs-a","results-per-page":2,
		"body":{"size":0,"aggs":{"by_host":{"composite":{"sources":[{"host":{"terms":{"field":"host"}}}]}}}}}`), srv.testES)
	if r.err != nil || r.summary.Errors != 0 || r.summary.ThroughputUnit != "pages/s" {
		t.Fatalf("err %v, summary %+v", r.err, r.summary)
	}
	srv.requireAllUsed(t)
}

// A nested composite aggregation is found and paged where it is.
func TestCompositeAggNested(t *testing.T) {
	body := map[string]any{"aggs": map[string]any{"outer": map[string]any{"filter": map[string]any{}, "aggregations": map[string]any{
		"inner": map[string]any{"composite": map[string]any{"sources": []any{}}}}}}}
	agg, err := newCompositeAgg(body, 3, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(agg.aggPath, []string{"outer", "inner"}) {
		t.Fatalf("path %v", agg.aggPath)
	}
	got := jsonText(t, withAfter(body, agg.aggPath, 3, map[string]any{"k": 1}))
	want := `{"aggs":{"outer":{"aggregations":{"inner":{"composite":{"after":{"k":1},"size":3,"sources":[]}}},"filter":{}}}}`
	if got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	if jsonText(t, body) != `{"aggs":{"outer":{"aggregations":{"inner":{"composite":{"sources":[]}}},"filter":{}}}}` {
		t.Fatalf("the original body changed: %s", jsonText(t, body))
	}
}
