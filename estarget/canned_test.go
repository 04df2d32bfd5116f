package estarget

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoot(t *testing.T) {
	for _, tt := range []struct {
		opts            Options
		product, number string
		distribution    string
	}{
		{Options{}, "Elasticsearch", "8.15.0", ""},
		{Options{Version: "9"}, "Elasticsearch", "9.0.0", ""},
		{Options{Flavor: FlavorOpenSearch}, "", "2.17.0", "opensearch"},
	} {
		t.Run(tt.number, func(t *testing.T) {
			s := New(tt.opts)
			res := must(t, s, http.StatusOK, http.MethodGet, "/", "")
			var v struct {
				Name        string `json:"name"`
				ClusterName string `json:"cluster_name"`
				Version     struct {
					Number       string `json:"number"`
					Distribution string `json:"distribution"`
					BuildHash    string `json:"build_hash"`
				} `json:"version"`
				Tagline string `json:"tagline"`
			}
			decode(t, res.body, &v)
			if v.Version.Number != tt.number || v.Version.Distribution != tt.distribution || v.Version.BuildHash != buildHash ||
				v.Name != "estarget" || v.ClusterName != cmp.Or(tt.distribution, "elasticsearch") || v.Tagline == "" {
				t.Fatalf("root %s", res.body)
			}
			if res.header.Get("X-Elastic-Product") != tt.product {
				t.Fatalf("X-Elastic-Product %q, want %q", res.header.Get("X-Elastic-Product"), tt.product)
			}
			if head := must(t, s, http.StatusOK, http.MethodHead, "/", ""); len(head.body) != 0 || head.header.Get("Content-Length") != itoa(int64(len(res.body))) {
				t.Fatalf("HEAD: %d bytes, Content-Length %s", len(head.body), head.header.Get("Content-Length"))
			}
		})
	}
}

func TestNoRootAPI(t *testing.T) {
	s := New(Options{Version: "9.2.0", NoRootAPI: true})
	res := must(t, s, http.StatusMethodNotAllowed, http.MethodGet, "/", "")
	// The body Elasticsearch 8.17.0 and 9.2.0 integ-test archives send.
	if want := `{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`; !jsonEqual(t, res.body, []byte(want)) {
		t.Fatalf("body %s, want %s", res.body, want)
	}
	must(t, s, http.StatusMethodNotAllowed, http.MethodHead, "/", "")
	mustError(t, call(t, s, http.MethodDelete, "/", ""), http.StatusBadRequest, "illegal_argument_exception")
	must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health", "")
}

func TestNodesInfoNamesTheDistributionInItsModule(t *testing.T) {
	for _, flavor := range []string{FlavorElasticsearch, FlavorOpenSearch} {
		t.Run(flavor, func(t *testing.T) {
			s := New(Options{Flavor: flavor, NoRootAPI: true})
			var info struct {
				Nodes map[string]struct {
					Name, Host, IP, Version string
					Modules                 []map[string]any `json:"modules"`
				} `json:"nodes"`
			}
			decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/_local/plugins", "").body, &info)
			decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/_all/_none", "").body, &info)
			if len(info.Nodes) != 1 {
				t.Fatalf("nodes %v", info.Nodes)
			}
			for _, n := range info.Nodes {
				if len(n.Modules) != 1 || n.Modules[0][flavor+"_version"] != n.Version || n.Version != s.version.number ||
					n.Name != "estarget" || n.IP != "127.0.0.1" {
					t.Fatalf("node %+v", n)
				}
			}
		})
	}
}

// nodeStats is what the driver's node telemetry reads of one node.
type nodeStats struct {
	Name    string `json:"name"`
	Process struct {
		CPU struct {
			TotalInMillis *int64 `json:"total_in_millis"`
		} `json:"cpu"`
	} `json:"process"`
	JVM struct {
		Mem struct {
			HeapUsedInBytes *int64 `json:"heap_used_in_bytes"`
			HeapMaxInBytes  *int64 `json:"heap_max_in_bytes"`
		} `json:"mem"`
		GC struct {
			Collectors map[string]struct {
				CollectionCount        int64 `json:"collection_count"`
				CollectionTimeInMillis int64 `json:"collection_time_in_millis"`
			} `json:"collectors"`
		} `json:"gc"`
	} `json:"jvm"`
	FS      *struct{} `json:"fs"`
	Indices struct {
		Docs struct {
			Count int64 `json:"count"`
		} `json:"docs"`
	} `json:"indices"`
}

func TestNodesStatsGrowWithTheWorkDone(t *testing.T) {
	s := New(Options{})
	read := func() nodeStats {
		var st struct {
			Nodes map[string]nodeStats `json:"nodes"`
		}
		decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_nodes/stats/jvm,process,fs", "").body, &st)
		if len(st.Nodes) != 1 {
			t.Fatalf("nodes %+v", st.Nodes)
		}
		for _, n := range st.Nodes {
			return n
		}
		return nodeStats{}
	}
	before := read()
	for range 3 * servedPerYoungGC {
		must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health", "")
	}
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", bulkBody("ix", 5))
	after := read()
	if after.Name != "estarget" || after.Process.CPU.TotalInMillis == nil || after.JVM.Mem.HeapMaxInBytes == nil || after.FS != nil {
		t.Fatalf("node stats %+v: want name, CPU time, heap max and no disk figures", after)
	}
	young, old := after.JVM.GC.Collectors["young"], after.JVM.GC.Collectors["old"]
	if young.CollectionCount < before.JVM.GC.Collectors["young"].CollectionCount+3 || young.CollectionTimeInMillis <= 0 || old.CollectionCount != 0 {
		t.Fatalf("gc before %+v after %+v: want young collections growing with requests, no old ones", before.JVM.GC, after.JVM.GC)
	}
	if after.Indices.Docs.Count != 5 {
		t.Fatalf("indices.docs.count %d, want 5", after.Indices.Docs.Count)
	}
	must(t, s, http.StatusOK, http.MethodGet, "/_nodes/node-1/stats", "")
}

func TestIndexLifecycle(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusNotFound, http.MethodHead, "/logs", "")
	res := must(t, s, http.StatusOK, http.MethodPut, "/logs", `{"settings":{"index.number_of_shards":2}}`)
	if !strings.Contains(string(res.body), `"index":"logs"`) {
		t.Fatalf("create: %s", res.body)
	}
	mustError(t, call(t, s, http.MethodPut, "/logs", ""), http.StatusBadRequest, "resource_already_exists_exception")
	mustError(t, call(t, s, http.MethodPut, "/Logs", ""), http.StatusBadRequest, "invalid_index_name_exception")
	mustError(t, call(t, s, http.MethodPut, "/other", "{not json"), http.StatusBadRequest, "x_content_parse_exception")
	must(t, s, http.StatusOK, http.MethodHead, "/logs", "")
	var got map[string]struct {
		Settings struct {
			Index struct {
				UUID         string `json:"uuid"`
				ProvidedName string `json:"provided_name"`
			} `json:"index"`
		} `json:"settings"`
	}
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/logs", "").body, &got)
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/logs/_settings", "").body, &got)
	if got["logs"].Settings.Index.ProvidedName != "logs" || len(got["logs"].Settings.Index.UUID) != 22 {
		t.Fatalf("settings %+v", got)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/logs/_settings", `{"index.refresh_interval":"1s"}`)
	must(t, s, http.StatusOK, http.MethodPut, "/logs/_mapping", `{"properties":{}}`)
	mustError(t, call(t, s, http.MethodPut, "/nope/_settings", `{}`), http.StatusNotFound, "index_not_found_exception")
	mustError(t, call(t, s, http.MethodDelete, "/log*", ""), http.StatusBadRequest, "illegal_argument_exception")
	mustError(t, call(t, s, http.MethodDelete, "/logs,nope", ""), http.StatusNotFound, "index_not_found_exception")
	must(t, s, http.StatusOK, http.MethodDelete, "/logs,nope?ignore_unavailable=true", "")
	must(t, s, http.StatusNotFound, http.MethodHead, "/logs", "")
}

func TestBulkCountsDocumentsPerIndex(t *testing.T) {
	s := New(Options{})
	body := bulkBody("a", 3) + `{"create":{"_index":"b","_id":"x1"}}` + "\n{}\n" +
		`{"update":{"_index":"a","_id":"u"}}` + "\n" + `{"doc":{"n":1}}` + "\n" +
		`{"delete":{"_index":"b","_id":"x1"}}` + "\n" + `{"index":{}}` + "\n{}\n"
	res := must(t, s, http.StatusOK, http.MethodPost, "/c/_bulk", body)
	var br struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Index  string `json:"_index"`
			ID     string `json:"_id"`
			Result string `json:"result"`
			Status int    `json:"status"`
			SeqNo  *int64 `json:"_seq_no"`
		} `json:"items"`
	}
	decode(t, res.body, &br)
	want := []struct{ op, index, result string }{
		{"index", "a", "created"}, {"index", "a", "created"}, {"index", "a", "created"}, {"create", "b", "created"},
		{"update", "a", "updated"}, {"delete", "b", "deleted"}, {"index", "c", "created"},
	}
	if br.Errors || len(br.Items) != len(want) {
		t.Fatalf("bulk answer %s", res.body)
	}
	ids := map[string]bool{}
	for i, w := range want {
		it, ok := br.Items[i][w.op]
		if !ok || it.Index != w.index || it.Result != w.result || it.SeqNo == nil || (it.Status != 201 && it.Status != 200) {
			t.Fatalf("item %d: %+v, want %+v", i, br.Items[i], w)
		}
		if w.op == "index" && (len(it.ID) != 20 || ids[it.ID]) {
			t.Fatalf("item %d: id %q, want a new 20-character id", i, it.ID)
		}
		ids[it.ID] = true
	}
	for path, n := range map[string]int64{"/a/_count": 3, "/b/_count": 0, "/c/_count": 1, "/_count": 4, "/a,c/_count": 4, "/*/_count": 4} {
		if got := count(t, s, path); got != n {
			t.Errorf("GET %s: count %d, want %d", path, got, n)
		}
	}
	if st := stats(t, s); st.Docs != 4 || st.Indices != 3 || st.Requests["bulk"] != 1 || st.Requests["count"] != 6 {
		t.Errorf("stats %+v", st)
	}
	t.Run("invalid_index_fails_its_item", func(t *testing.T) {
		res := must(t, s, http.StatusOK, http.MethodPost, "/_bulk", bulkBody("ok", 1)+`{"index":{"_index":"Bad"}}`+"\n{}\n")
		if !strings.Contains(string(res.body), `"errors":true`) || !strings.Contains(string(res.body), `"status":400,"error":{"type":"invalid_index_name_exception"`) {
			t.Fatalf("answer %s", res.body)
		}
	})
	t.Run("gzip_body", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(bulkBody("gz", 4)))
		zw.Close()
		req := httptest.NewRequest(http.MethodPost, "/_bulk", &buf)
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 || count(t, s, "/gz/_count") != 4 {
			t.Fatalf("gzip bulk: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("malformed_request", func(t *testing.T) {
		for _, bad := range []string{"", `{"index":{}}`, "{\"index\":{}}\n{}\n", "{\"frobnicate\":{\"_index\":\"a\"}}\n{}\n"} {
			res := call(t, s, http.MethodPost, "/_bulk", bad)
			if res.status != 400 {
				t.Errorf("bulk %q: %d %s", bad, res.status, res.body)
			}
		}
	})
}

// count reads a _count answer.
func count(t *testing.T, h http.Handler, path string) int64 {
	t.Helper()
	var c struct {
		Count  int64          `json:"count"`
		Shards map[string]int `json:"_shards"`
	}
	decode(t, must(t, h, http.StatusOK, http.MethodGet, path, "").body, &c)
	if c.Shards["total"] == 0 || c.Shards["failed"] != 0 {
		t.Fatalf("GET %s: _shards %v", path, c.Shards)
	}
	return c.Count
}

// String is the body as text, for messages.
func (r response) String() string { return string(r.body) }

func TestSearchAnswersNoHitsWithTheCount(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", bulkBody("ix", 7))
	var sr struct {
		Hits struct {
			Total struct {
				Value    int64  `json:"value"`
				Relation string `json:"relation"`
			} `json:"total"`
			Hits []any `json:"hits"`
		} `json:"hits"`
		ScrollID string `json:"_scroll_id"`
	}
	decode(t, must(t, s, http.StatusOK, http.MethodPost, "/ix/_search", `{"query":{"term":{"n":3}},"aggs":{"x":{"terms":{"field":"n"}}}}`).body, &sr)
	if sr.Hits.Total.Value != 7 || sr.Hits.Total.Relation != "eq" || sr.Hits.Hits == nil || len(sr.Hits.Hits) != 0 || sr.ScrollID != "" {
		t.Fatalf("search %+v", sr)
	}
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/ix/_search?scroll=1m", "").body, &sr)
	if sr.ScrollID == "" {
		t.Fatal("a scroll search has no _scroll_id")
	}
	must(t, s, http.StatusOK, http.MethodPost, "/_search/scroll", `{"scroll_id":"x"}`)
	must(t, s, http.StatusOK, http.MethodDelete, "/_search/scroll", `{"scroll_id":"x"}`)
	if res := must(t, s, http.StatusOK, http.MethodGet, "/ix/_search?rest_total_hits_as_int=true", ""); !strings.Contains(res.String(), `"total":7`) {
		t.Fatalf("rest_total_hits_as_int: %s", res.body)
	}
	mustError(t, call(t, s, http.MethodGet, "/nope/_search", ""), http.StatusNotFound, "index_not_found_exception")
	must(t, s, http.StatusOK, http.MethodGet, "/nope,ix/_search?ignore_unavailable=true", "")
}

func TestHealthMaintenanceAndStats(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPost, "/_bulk", bulkBody("ix", 2))
	if res := must(t, s, http.StatusOK, http.MethodGet, "/_cluster/health/ix?wait_for_status=green", ""); !strings.Contains(res.String(), `"status":"green"`) {
		t.Fatalf("health %s", res.body)
	}
	if res := must(t, s, http.StatusRequestTimeout, http.MethodGet, "/_cluster/health/nope", ""); !strings.Contains(res.String(), `"status":"red"`) {
		t.Fatalf("health of a missing index %s", res.body)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_cluster/settings", `{"persistent":{}}`)
	must(t, s, http.StatusOK, http.MethodGet, "/_cluster/settings", "")
	for _, p := range []string{"/ix/_refresh", "/_refresh", "/ix/_flush", "/ix/_forcemerge?max_num_segments=1"} {
		must(t, s, http.StatusOK, http.MethodPost, p, "")
	}
	must(t, s, http.StatusOK, http.MethodGet, "/_tasks?actions=indices:admin/forcemerge", "")
	var st struct {
		All struct {
			Primaries map[string]map[string]int64 `json:"primaries"`
		} `json:"_all"`
		Indices map[string]any `json:"indices"`
	}
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_stats/docs,store,indexing,merge,refresh,flush,segments", "").body, &st)
	p := st.All.Primaries
	if p["docs"]["count"] != 2 || p["store"]["size_in_bytes"] <= 0 || p["refresh"]["total"] != 2 || p["flush"]["total"] != 1 ||
		p["merges"]["total"] != 1 || p["segments"]["count"] != 1 || p["indexing"]["index_total"] != 2 || len(st.Indices) != 1 {
		t.Fatalf("stats %+v", st)
	}
	must(t, s, http.StatusOK, http.MethodGet, "/ix/_stats", "")
}

func TestSingleDocumentWritesAreCounted(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusCreated, http.MethodPut, "/docs/_doc/1?refresh=true", `{"a":1}`)
	must(t, s, http.StatusCreated, http.MethodPost, "/docs/_doc", `{"a":2}`)
	must(t, s, http.StatusCreated, http.MethodPut, "/docs/_create/3", `{"a":3}`)
	mustError(t, call(t, s, http.MethodPut, "/docs/_doc/4", `[1]`), http.StatusBadRequest, "document_parsing_exception")
	if n := count(t, s, "/docs/_count"); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
}

// TestNamedResources: templates, pipelines, policies, data streams,
// transforms and ML jobs are remembered by name: created, found, acted
// on, deleted, then gone.
func TestNamedResources(t *testing.T) {
	s := New(Options{})
	for _, tt := range []struct {
		path, body, getWants string
		actions              []string
	}{
		{"/_index_template/t1", `{"index_patterns":["a*"]}`, `"name":"t1"`, nil},
		{"/_component_template/c1", `{"template":{}}`, `"component_templates":[{"component_template"`, nil},
		{"/_template/l1", `{"index_patterns":["a*"]}`, `"l1":{`, nil},
		{"/_ingest/pipeline/p1", `{"processors":[]}`, `"p1":{"processors":[]}`, nil},
		{"/_ilm/policy/i1", `{"policy":{}}`, `"i1":{`, nil},
		{"/_transform/tr1", `{"source":{}}`, `"transforms":[{"id":"tr1"}]`, []string{"_start", "_stop"}},
		{"/_ml/anomaly_detectors/j1", `{}`, `"jobs":[{"job_id":"j1"`, []string{"_open", "_close"}},
		{"/_xpack/ml/datafeeds/d1", `{"job_id":"j1"}`, `"datafeeds":[{"datafeed_id":"d1"}]`, []string{"_start", "_stop"}},
		{"/_enrich/policy/e1", `{"match":{}}`, `"policies":[{"config":{"match":{"indices":[],"name":"e1"}}}]`, []string{"_execute"}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			must(t, s, http.StatusNotFound, http.MethodHead, tt.path, "")
			must(t, s, http.StatusNotFound, http.MethodDelete, tt.path, "")
			must(t, s, http.StatusOK, http.MethodPut, tt.path, tt.body)
			must(t, s, http.StatusOK, http.MethodHead, tt.path, "")
			if res := must(t, s, http.StatusOK, http.MethodGet, tt.path, ""); !strings.Contains(res.String(), tt.getWants) {
				t.Fatalf("GET %s: %s, want %s", tt.path, res.body, tt.getWants)
			}
			for _, a := range tt.actions {
				must(t, s, http.StatusOK, http.MethodPost, tt.path+"/"+a, "")
			}
			must(t, s, http.StatusOK, http.MethodDelete, tt.path, "")
			must(t, s, http.StatusNotFound, http.MethodGet, tt.path, "")
			if tt.actions != nil {
				must(t, s, http.StatusNotFound, http.MethodPost, tt.path+"/"+tt.actions[0], "")
			}
		})
	}
	t.Run("transform_stats_say_stopped", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodPut, "/_transform/tr2", `{}`)
		res := must(t, s, http.StatusOK, http.MethodGet, "/_transform/tr2/_stats", "")
		if !strings.Contains(res.String(), `"state":"stopped"`) || !strings.Contains(res.String(), `"documents_processed":0`) {
			t.Fatalf("stats %s", res.body)
		}
	})
	t.Run("data_stream_is_an_index_too", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodPut, "/_data_stream/logs-x", "")
		mustError(t, call(t, s, http.MethodPut, "/_data_stream/logs-x", ""), http.StatusBadRequest, "resource_already_exists_exception")
		must(t, s, http.StatusOK, http.MethodHead, "/logs-x", "")
		must(t, s, http.StatusCreated, http.MethodPost, "/logs-x/_doc?refresh=true", `{"@timestamp":"2024-01-01T00:00:00Z"}`)
		if res := must(t, s, http.StatusOK, http.MethodGet, "/_data_stream/logs-x", ""); !strings.Contains(res.String(), `"data_streams":[{`) {
			t.Fatalf("GET: %s", res.body)
		}
		must(t, s, http.StatusOK, http.MethodDelete, "/_data_stream/logs-x", "")
		must(t, s, http.StatusNotFound, http.MethodHead, "/logs-x", "")
	})
	t.Run("listing_all_of_a_kind", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodPut, "/_ingest/pipeline/p2", `{}`)
		must(t, s, http.StatusOK, http.MethodPut, "/_ingest/pipeline/p3", `{}`)
		if res := must(t, s, http.StatusOK, http.MethodGet, "/_ingest/pipeline", ""); !strings.Contains(res.String(), `"p2"`) || !strings.Contains(res.String(), `"p3"`) {
			t.Fatalf("GET all: %s", res.body)
		}
		mustError(t, call(t, s, http.MethodPut, "/_ingest/pipeline/p4", `{nope`), http.StatusBadRequest, "x_content_parse_exception")
	})
}

// TestAPIsBeyondTheArchives: ES|QL, SQL and async search answer in the
// shapes Rally's runners read.
func TestAPIsBeyondTheArchives(t *testing.T) {
	s := New(Options{})
	if res := must(t, s, http.StatusOK, http.MethodPost, "/_query", `{"query":"FROM ops | LIMIT 1"}`); !strings.Contains(res.String(), `"columns":[`) {
		t.Fatalf("esql %s", res.body)
	}
	for range 3 {
		if res := must(t, s, http.StatusOK, http.MethodPost, "/_sql", `{"cursor":"x"}`); !strings.Contains(res.String(), `"cursor":"estarget-canned-cursor"`) {
			t.Fatalf("sql %s", res.body)
		}
	}
	must(t, s, http.StatusOK, http.MethodPost, "/_sql/close", `{"cursor":"x"}`)
	must(t, s, http.StatusOK, http.MethodPost, "/ops/_downsample/ops-1h", `{"fixed_interval":"1h"}`)
	must(t, s, http.StatusOK, http.MethodHead, "/ops-1h", "")
	var as struct {
		ID        string `json:"id"`
		IsRunning *bool  `json:"is_running"`
		Response  struct {
			Took     *int64 `json:"took"`
			TimedOut *bool  `json:"timed_out"`
			Hits     struct {
				Total struct {
					Value    *int64 `json:"value"`
					Relation string `json:"relation"`
				} `json:"total"`
			} `json:"hits"`
		} `json:"response"`
	}
	decode(t, must(t, s, http.StatusOK, http.MethodPost, "/ops/_async_search?wait_for_completion_timeout=0", `{"query":{"match_all":{}}}`).body, &as)
	if as.ID == "" || as.IsRunning == nil || *as.IsRunning || as.Response.Took == nil || as.Response.TimedOut == nil ||
		as.Response.Hits.Total.Value == nil || as.Response.Hits.Total.Relation != "eq" {
		t.Fatalf("submit %+v", as)
	}
	decode(t, must(t, s, http.StatusOK, http.MethodGet, "/_async_search/"+as.ID, "").body, &as)
	must(t, s, http.StatusOK, http.MethodDelete, "/_async_search/"+as.ID, "")
	mustError(t, call(t, s, http.MethodGet, "/_async_search/"+as.ID, ""), http.StatusNotFound, "resource_not_found_exception")
}

func TestUnknownAPIsSayEstargetLacksThem(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/ix", "")
	for _, p := range []string{"/_snapshot/repo", "/ix/_shrink/ix2", "/_cat/indices", "/ix/_doc/1/extra/parts", "/_nodes/a/b/c/d"} {
		eb := mustError(t, call(t, s, http.MethodPut, p, "{}"), http.StatusBadRequest, "illegal_argument_exception")
		if !strings.Contains(eb.Error.Reason, "estarget's canned mode does not implement it") || !strings.Contains(eb.Error.Reason, p) {
			t.Errorf("PUT %s: %s", p, eb.Error.Reason)
		}
	}
}
