package driver

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// opsTrack is a track with indices, a data stream and templates of every
// kind, for the operations that default to the track's definitions.
func opsTrack(t testing.TB) *track.Track {
	return &track.Track{
		Name: "ops",
		Indices: []track.Index{
			{Name: "geonames", Body: json.RawMessage(`{"settings":{"index.number_of_shards":5},"mappings":{"dynamic":"strict"}}`)},
			{Name: "other"},
		},
		DataStreams: []track.DataStream{{Name: "logs-ds"}},
		Templates: []track.Template{
			{Name: "legacy", IndexPattern: "legacy-*", DeleteMatchingIndices: true, Body: json.RawMessage(`{"index_patterns":["legacy-*"],"settings":{"number_of_shards":1}}`)},
		},
		ComposableTemplates: []track.Template{
			{Name: "comp", IndexPattern: "comp-*", Body: json.RawMessage(`{"index_patterns":["comp-*"],"template":{"settings":{"index":{"number_of_shards":2}}}}`)},
		},
		ComponentTemplates: []track.Template{
			{Name: "part", Body: json.RawMessage(`{"template":{"mappings":{"properties":{"f":{"type":"keyword"}}}}}`)},
		},
	}
}

func TestOperationsSendExactRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opType string
		params string
		track  func(*track.Track)
		handle func(r recReq) (int, string)
		want   []string
		// requests and errors the summary must show.
		requests, errors int64
	}{
		{name: "create-index of every track index with settings merged", opType: "create-index",
			params: `{"settings":{"index.number_of_replicas":0},"request-params":{"wait_for_active_shards":"1"}}`,
			want: []string{
				`PUT /geonames?wait_for_active_shards=1 {"mappings":{"dynamic":"strict"},"settings":{"index.number_of_replicas":0,"index.number_of_shards":5}}`,
				`PUT /other?wait_for_active_shards=1 {"settings":{"index.number_of_replicas":0}}`,
			}, requests: 1},
		{name: "create-index of one index", opType: "create-index", params: `{"index":"other"}`,
			want: []string{`PUT /other`}, requests: 1},
		{name: "create-index without track indices", opType: "create-index", params: `{"index":["a","b"],"body":{"settings":{"x":1}}}`,
			track: func(tr *track.Track) { tr.Indices = nil },
			want:  []string{`PUT /a {"settings":{"x":1}}`, `PUT /b {"settings":{"x":1}}`}, requests: 1},
		{name: "delete-index only if it exists (default)", opType: "delete-index",
			handle: func(r recReq) (int, string) {
				if r.Method == "HEAD" && r.URI == "/other" {
					return 404, ""
				}
				return 200, `{"acknowledged":true}`
			},
			want: []string{`HEAD /geonames`, `DELETE /geonames`, `HEAD /other`}, requests: 1},
		{name: "delete-index unconditionally ignores 404", opType: "delete-index", params: `{"only-if-exists":false,"request-params":{"ignore_unavailable":true}}`,
			handle: func(r recReq) (int, string) { return 404, `{"error":"index_not_found_exception"}` },
			want:   []string{`DELETE /geonames?ignore_unavailable=true`, `DELETE /other?ignore_unavailable=true`}, requests: 1},
		{name: "create-data-stream", opType: "create-data-stream", want: []string{`PUT /_data_stream/logs-ds`}, requests: 1},
		{name: "delete-data-stream", opType: "delete-data-stream",
			want: []string{`HEAD /logs-ds`, `DELETE /_data_stream/logs-ds`}, requests: 1},
		{name: "create-index-template from the track with settings", opType: "create-index-template", params: `{"settings":{"number_of_replicas":0}}`,
			want: []string{`PUT /_template/legacy {"index_patterns":["legacy-*"],"settings":{"number_of_replicas":0,"number_of_shards":1}}`}, requests: 1},
		{name: "delete-index-template deletes matching indices", opType: "delete-index-template",
			want: []string{`HEAD /_template/legacy`, `DELETE /_template/legacy`, `DELETE /legacy-*`}, requests: 1},
		{name: "create-composable-template merges settings deeply", opType: "create-composable-template", params: `{"settings":{"index":{"number_of_replicas":0}}}`,
			want: []string{`PUT /_index_template/comp {"index_patterns":["comp-*"],"template":{"settings":{"index":{"number_of_replicas":0,"number_of_shards":2}}}}`}, requests: 1},
		{name: "create-composable-template from parameters", opType: "create-composable-template", params: `{"template":"mine","body":{"index_patterns":["m-*"]}}`,
			want: []string{`PUT /_index_template/mine {"index_patterns":["m-*"]}`}, requests: 1},
		{name: "delete-composable-template", opType: "delete-composable-template",
			want: []string{`HEAD /_index_template/comp`, `DELETE /_index_template/comp`}, requests: 1},
		{name: "create-component-template", opType: "create-component-template",
			want: []string{`PUT /_component_template/part {"template":{"mappings":{"properties":{"f":{"type":"keyword"}}}}}`}, requests: 1},
		{name: "delete-component-template", opType: "delete-component-template",
			want: []string{`HEAD /_component_template/part`, `DELETE /_component_template/part`}, requests: 1},
		{name: "cluster-health reaching the wanted status", opType: "cluster-health",
			params: `{"index":"geonames","request-params":{"wait_for_status":"green","wait_for_no_relocating_shards":"true"}}`,
			handle: func(recReq) (int, string) { return 200, `{"status":"green","relocating_shards":0}` },
			want:   []string{`GET /_cluster/health/geonames?wait_for_no_relocating_shards=true&wait_for_status=green`}, requests: 1},
		{name: "cluster-health below the wanted status is a condition error", opType: "cluster-health",
			params: `{"request-params":{"wait_for_status":"green"}}`,
			handle: func(recReq) (int, string) { return 200, `{"status":"yellow","relocating_shards":0}` },
			want:   []string{`GET /_cluster/health?wait_for_status=green`}, requests: 1, errors: 1},
		{name: "refresh all", opType: "refresh", want: []string{`POST /_all/_refresh`}, requests: 1},
		{name: "refresh one index", opType: "refresh", params: `{"index":"geonames"}`, want: []string{`POST /geonames/_refresh`}, requests: 1},
		{name: "force-merge of the track's indices and data streams", opType: "force-merge", params: `{"max-num-segments":1,"request-timeout":7200}`,
			want: []string{`POST /geonames,other,logs-ds/_forcemerge?max_num_segments=1`}, requests: 1},
		{name: "index-stats", opType: "index-stats", params: `{"index":"geonames"}`, want: []string{`GET /geonames/_stats`}, requests: 1},
		{name: "node-stats", opType: "node-stats", want: []string{`GET /_nodes/stats`}, requests: 1},
		{name: "put-settings", opType: "put-settings", params: `{"body":{"transient":{"indices.recovery.max_bytes_per_sec":"-1"}}}`,
			want: []string{`PUT /_cluster/settings {"transient":{"indices.recovery.max_bytes_per_sec":"-1"}}`}, requests: 1},
		{name: "put-pipeline", opType: "put-pipeline", params: `{"id":"p1","body":{"processors":[]},"master-timeout":"30s","timeout":"10s"}`,
			want: []string{`PUT /_ingest/pipeline/p1?master_timeout=30s&timeout=10s {"processors":[]}`}, requests: 1},
		{name: "delete-pipeline ignores a missing one", opType: "delete-pipeline", params: `{"id":"p1"}`,
			handle: func(recReq) (int, string) { return 404, `{}` },
			want:   []string{`DELETE /_ingest/pipeline/p1`}, requests: 1},
		{name: "raw-request", opType: "raw-request", params: `{"method":"post","path":"/_security/user/x","body":{"password":"p"},"request-params":{"refresh":true},"headers":{"X-Test":"1"}}`,
			want: []string{`POST /_security/user/x?refresh=true {"password":"p"}`}, requests: 1},
		{name: "raw-request default GET and ignored status", opType: "raw-request", params: `{"path":"/missing","ignore":[404]}`,
			handle: func(recReq) (int, string) { return 404, `{}` },
			want:   []string{`GET /missing`}, requests: 1},
		{name: "search with request cache", opType: "search", params: `{"index":"geonames","cache":true,"body":{"query":{"match_all":{}}}}`,
			want: []string{`GET /geonames/_search?request_cache=true {"query":{"match_all":{}}}`}, requests: 1},
		{name: "search defaults to the only index and sets size", opType: "search", params: `{"results-per-page":20,"request-params":{"track_total_hits":false},"body":{"query":{"match_all":{}}}}`,
			track: func(tr *track.Track) { tr.Indices = tr.Indices[:1] },
			want:  []string{`GET /geonames/_search?track_total_hits=false {"query":{"match_all":{}},"size":20}`}, requests: 1},
		{name: "search server error", opType: "search", params: `{"index":"x","body":{}}`,
			handle: func(recReq) (int, string) { return 503, `{"error":"unavailable"}` },
			want:   []string{`GET /x/_search {}`}, requests: 1, errors: 1},
		{name: "scroll-search pages through and clears the scroll", opType: "scroll-search", params: `{"index":"x","pages":5,"results-per-page":2,"body":{"query":{"match_all":{}}}}`,
			handle: func() func(recReq) (int, string) {
				var scrolls atomic.Int32
				return func(r recReq) (int, string) {
					switch {
					case r.Method == "GET" && strings.HasPrefix(r.URI, "/x/_search"):
						return 200, `{"_scroll_id":"abc","hits":{"total":{"value":3,"relation":"eq"},"hits":[{"_id":"1"},{"_id":"2"}]}}`
					case r.Method == "GET" && scrolls.Add(1) == 1:
						return 200, `{"_scroll_id":"abc","hits":{"hits":[{"_id":"3"}]}}`
					}
					return 200, `{"_scroll_id":"abc","hits":{"hits":[]}}`
				}
			}(),
			want: []string{
				`GET /x/_search?scroll=10s&size=2&sort=_doc {"query":{"match_all":{}},"size":2}`,
				`GET /_search/scroll {"scroll":"10s","scroll_id":"abc"}`,
				`GET /_search/scroll {"scroll":"10s","scroll_id":"abc"}`,
				`DELETE /_search/scroll {"scroll_id":["abc"]}`,
			}, requests: 1},
		{name: "paginated-search uses search_after", opType: "paginated-search", params: `{"index":"x","pages":"all","results-per-page":2,"body":{"sort":[{"n":"asc"}]}}`,
			handle: func(r recReq) (int, string) {
				if strings.Contains(r.Body, "search_after") {
					return 200, `{"hits":{"total":{"value":3},"hits":[{"sort":[3]}]}}`
				}
				return 200, `{"hits":{"total":{"value":3},"hits":[{"sort":[1]},{"sort":[2]}]}}`
			},
			want: []string{
				`GET /x/_search {"size":2,"sort":[{"n":"asc"}]}`,
				`GET /x/_search {"search_after":[2],"size":2,"sort":[{"n":"asc"}]}`,
			}, requests: 1},
		{name: "wait-for-recovery polls until done", opType: "wait-for-recovery", params: `{"index":"geonames","completion-recheck-wait-period":0.01}`,
			handle: func() func(recReq) (int, string) {
				var n atomic.Int32
				return func(recReq) (int, string) {
					if n.Add(1) < 3 {
						return 200, `{"geonames":{"shards":[{"stage":"DONE"},{"stage":"INDEX"}]}}`
					}
					return 200, `{"geonames":{"shards":[{"stage":"DONE"},{"stage":"DONE"}]}}`
				}
			}(),
			want: []string{`GET /geonames/_recovery`, `GET /geonames/_recovery`, `GET /geonames/_recovery`}, requests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := opsTrack(t)
			if tc.track != nil {
				tc.track(tr)
			}
			srv := newTestES(t, tc.handle)
			r := runTask(t, tr, opTask(t, tc.opType, tc.opType, tc.params), srv)
			if r.err != nil {
				t.Fatalf("run: %v", r.err)
			}
			equalLines(t, srv.lines(), tc.want)
			if r.summary.Requests != tc.requests || r.summary.Errors != tc.errors {
				t.Fatalf("summary: %d requests, %d errors; want %d, %d", r.summary.Requests, r.summary.Errors, tc.requests, tc.errors)
			}
		})
	}
}

func TestRequestOptionsAreSent(t *testing.T) {
	srv := newTestES(t, nil)
	r := runTask(t, opsTrack(t), opTask(t, "raw", "raw-request", `{"path":"/","headers":{"X-Test":"1"},"opaque-id":"trace-7"}`), srv, func(tp *TaskPlan) {
		tp.ClientOptions, _ = ParseClientOptions(`basic_auth_user:'elastic',basic_auth_password:'changeme',headers:{'X-Global':'g'}`)
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	h := srv.requests()[0].Header
	for k, v := range map[string]string{"X-Test": "1", "X-Opaque-Id": "trace-7", "X-Global": "g", "Authorization": "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==", "User-Agent": userAgent} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("Accept-Encoding") != "" {
		t.Errorf("asked for compression without http_compress: %q", h.Get("Accept-Encoding"))
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	var n atomic.Int32
	srv := newTestES(t, func(recReq) (int, string) {
		if n.Add(1) < 3 {
			return 200, `{"_all":{"total":{"merges":{"current":2}}}}`
		}
		return 200, `{"_all":{"total":{"merges":{"current":0}}}}`
	})
	task := opTask(t, "wait-merges", "index-stats", `{"index":"_all","condition":{"path":"_all.total.merges.current","expected-value":0},"retry-until-success":true,"retry-wait-period":0.02}`)
	r := runTask(t, opsTrack(t), task, srv)
	if r.err != nil || len(srv.requests()) != 3 || r.summary.Requests != 1 || r.summary.Errors != 0 {
		t.Fatalf("err %v, %d requests sent, summary %d/%d errors: want 3 attempts recorded as one successful sample", r.err, len(srv.requests()), r.summary.Requests, r.summary.Errors)
	}
	// Service time spans the attempts and the waits between them.
	if r.summary.ServiceTime["50"] < 40 {
		t.Fatalf("service time %.1f ms does not span the retries", r.summary.ServiceTime["50"])
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv := newTestES(t, func(recReq) (int, string) { return 200, `{"status":"red","relocating_shards":0}` })
	task := opTask(t, "health", "cluster-health", `{"request-params":{"wait_for_status":"green"},"retries":2,"retry-on-error":true,"retry-wait-period":0.01}`)
	r := runTask(t, opsTrack(t), task, srv)
	if len(srv.requests()) != 3 || r.summary.Errors != 1 || r.summary.ErrorsByType["condition"] != 1 {
		t.Fatalf("%d requests, summary %+v: want 3 attempts and one condition error", len(srv.requests()), r.summary.ErrorsByType)
	}
}

func TestForceMergePolling(t *testing.T) {
	var polls atomic.Int32
	srv := newTestES(t, func(r recReq) (int, string) {
		if strings.HasPrefix(r.URI, "/_tasks") && polls.Add(1) < 2 {
			return 200, `{"nodes":{"n1":{"tasks":{}}}}`
		}
		return 200, `{"nodes":{}}`
	})
	task := opTask(t, "fm", "force-merge", `{"index":"geonames","mode":"polling","poll-period":0.01}`)
	r := runTask(t, opsTrack(t), task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, srv.lines(), []string{
		`POST /geonames/_forcemerge`,
		`GET /_tasks?actions=indices:admin/forcemerge`,
		`GET /_tasks?actions=indices:admin/forcemerge`,
	})
}

func TestSleepCountsAsServiceTime(t *testing.T) {
	srv := newTestES(t, nil)
	r := runTask(t, opsTrack(t), opTask(t, "nap", "sleep", `{"duration":0.05}`), srv)
	if r.err != nil || len(srv.requests()) != 0 {
		t.Fatalf("err %v, %d requests", r.err, len(srv.requests()))
	}
	if st := r.summary.ServiceTime["50"]; st < 49 || st > 500 {
		t.Fatalf("service time %.1f ms, want about 50", st)
	}
}

func TestValidate(t *testing.T) {
	tr := opsTrack(t)
	ch := &track.Challenge{Name: "c", Schedule: []track.Step{
		{Tasks: []track.Task{*opTask(t, "ok", "refresh", "")}},
		{Tasks: []track.Task{*opTask(t, "q", "esql", ""), *opTask(t, "r", "reindex", "")}, Parallel: true},
		{Tasks: []track.Task{{Name: "custom", Operation: track.Operation{Name: "custom", Type: "my-runner", CustomRunner: true}}}},
		{Tasks: []track.Task{{Name: "ps", Operation: track.Operation{Name: "ps", Type: "search", ParamSource: "my-source"}}}},
		{Tasks: []track.Task{*opTask(t, "bad-bulk", "bulk", `{"bulk-size":"many"}`)}},
		{Tasks: []track.Task{*opTask(t, "nap", "sleep", "")}},
	}}
	err := Validate(tr, ch)
	if err == nil {
		t.Fatal("validate accepted unrunnable tasks")
	}
	for _, want := range []string{"unknown operation types: reindex", `(esql): parameter "query" is mandatory`, "my-runner", "param-source my-source", `"bulk-size"`, `"duration" is mandatory`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	ok := &track.Challenge{Name: "c", Schedule: []track.Step{{Tasks: []track.Task{*opTask(t, "s", "search", `{"index":"x"}`)}}}}
	if err := Validate(tr, ok); err != nil {
		t.Fatal(err)
	}
	endless := opTask(t, "s", "search", `{"index":"x"}`)
	endless.WarmupTimePeriod = time.Second
	if err := Validate(tr, &track.Challenge{Schedule: []track.Step{{Tasks: []track.Task{*endless}}}}); err == nil || !strings.Contains(err.Error(), "never ends") {
		t.Fatalf("endless task accepted: %v", err)
	}
}

func TestErrorTypes(t *testing.T) {
	srv := newTestES(t, func(r recReq) (int, string) { return 429, `{"error":"too many"}` })
	r := runTask(t, opsTrack(t), opTask(t, "q", "search", `{"index":"x","body":{}}`), srv)
	if r.summary.ErrorsByType[string(metrics.HTTPError(429))] != 1 {
		t.Fatalf("errors by type %v", r.summary.ErrorsByType)
	}
}

// Rally hands a task's leftover keys to the scheduler, not to the runner
// (see track.Task.Params): the operation's params are what runs.
func TestTaskParamsDoNotOverrideOperationParams(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "r", "refresh", `{"index":"from-operation","request-params":{"a":"1"}}`)
	task.Params = jsonParams(t, `{"index":"from-task","#COMMENT":"x"}`)
	if r := runTask(t, opsTrack(t), task, srv); r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, srv.lines(), []string{`POST /from-operation/_refresh?a=1`})
}
