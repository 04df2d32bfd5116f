package driver

import (
	"errors"
	"strings"
	"testing"
)

// dataStreamTemplateRefusal is Elasticsearch 7.17.28's answer (integ-test
// archive) to a composable template with "data_stream": its telling part
// lies beyond the start of the answer a RequestError keeps.
const dataStreamTemplateRefusal = `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"composable template [ops-stream] template after composition is invalid"}],` +
	`"type":"illegal_argument_exception","reason":"composable template [ops-stream] template after composition is invalid",` +
	`"caused_by":{"type":"x_content_parse_exception","reason":"[index_template] unknown field [data_stream]"}},"status":400}`

// The answers below are the engines' own, as the integ-test archives of
// OpenSearch 2.19.1 and Elasticsearch 7.17.28 and 8.17.0 gave them to
// rally's operations; cases marked "not recorded" are written after
// them, and so are the answers of engines that have the capability.
func TestCapabilityOfRefusal(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		status     int
		answer     string
		// want is the capability's name, "" for an answer that is no
		// capability refusal.
		want string
	}{
		{"ES|QL on OpenSearch: /_query read as an index", "/_query", 405,
			`{"error":"Incorrect HTTP method for uri [/_query] and method [POST], allowed: [PUT, HEAD, GET, DELETE]","status":405}`, "ES|QL"},
		{"SQL on Elasticsearch 7", "/_sql", 405,
			`{"error":"Incorrect HTTP method for uri [/_sql] and method [POST], allowed: [GET, DELETE, HEAD, PUT]","status":405}`, "SQL"},
		{"machine learning through the 6.8 fallback", "/_xpack/ml/anomaly_detectors/ops-job/_close?force=false", 400,
			`{"error":"no handler found for uri [/_xpack/ml/anomaly_detectors/ops-job/_close?force=false] and method [POST]"}`, "machine learning"},
		{"machine learning under /_ml (not recorded)", "/_ml/datafeeds/f", 400,
			`{"error":"no handler found for uri [/_ml/datafeeds/f] and method [PUT]"}`, "machine learning"},
		{"transforms on OpenSearch", "/_transform/ops-transform?defer_validation=false", 400,
			`{"error":"no handler found for uri [/_transform/ops-transform] and method [PUT]"}`, "transforms"},
		{"transform start on Elasticsearch 7: a document without a body", "/_transform/ops-transform/_start", 400,
			`{"error":{"root_cause":[{"type":"parse_exception","reason":"request body is required"}],"type":"parse_exception","reason":"request body is required"},"status":400}`, "transforms"},
		{"transform stats on Elasticsearch 7: no such index", "/_transform/ops-transform/_stats", 404,
			`{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [_transform]","resource.type":"index_expression","resource.id":"_transform","index_uuid":"_na_","index":"_transform"}],"type":"index_not_found_exception","reason":"no such index [_transform]","index":"_transform"},"status":404}`, "transforms"},
		{"ILM on Elasticsearch 7: _ilm read as an index name", "/_ilm/policy/ops-policy", 400,
			`{"error":{"root_cause":[{"type":"invalid_index_name_exception","reason":"Invalid index name [_ilm], must not start with '_', '-', or '+'","index_uuid":"_na_","index":"_ilm"}],"type":"invalid_index_name_exception","reason":"Invalid index name [_ilm], must not start with '_', '-', or '+'","index_uuid":"_na_","index":"_ilm"},"status":400}`,
			"index lifecycle management"},
		{"ILM setting unknown (the engines' wording, not recorded)", "/ops/_settings", 400,
			`{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"unknown setting [index.lifecycle.name] please check that any required plugins are installed"}],"type":"illegal_argument_exception","reason":"unknown setting [index.lifecycle.name] please check that any required plugins are installed"},"status":400}`,
			"index lifecycle management"},
		{"async search on Elasticsearch 7: its own parameter unrecognized", "/ops/_async_search?wait_for_completion_timeout=0", 400,
			`{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"request [/ops/_async_search] contains unrecognized parameter: [wait_for_completion_timeout]"}],"type":"illegal_argument_exception","reason":"request [/ops/_async_search] contains unrecognized parameter: [wait_for_completion_timeout]"},"status":400}`,
			"async search"},
		{"async search results (not recorded)", "/_async_search/abc", 400,
			`{"error":"no handler found for uri [/_async_search/abc] and method [GET]"}`, "async search"},
		{"downsample on Elasticsearch 7: read as a mapping type", "/ops/_downsample/ops-downsampled", 400,
			`{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"Invalid type: expecting [_doc] but got [_downsample]"}],"type":"illegal_argument_exception","reason":"Invalid type: expecting [_doc] but got [_downsample]"},"status":400}`,
			"downsampling"},
		{"enrich policy (not recorded)", "/_enrich/policy/p", 400,
			`{"error":"no handler found for uri [/_enrich/policy/p] and method [PUT]"}`, "enrich"},
		{"data stream API on Elasticsearch 7", "/_data_stream/x", 405,
			`{"error":"Incorrect HTTP method for uri [/_data_stream/x] and method [PUT], allowed: [POST]","status":405}`, "data streams"},
		{"ILM policy deletion on Elasticsearch 7: no such index", "/_ilm/policy/ops-policy", 404,
			`{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [_ilm]","resource.type":"index_expression","resource.id":"_ilm","index_uuid":"_na_","index":"_ilm"}],"type":"index_not_found_exception","reason":"no such index [_ilm]","resource.type":"index_expression","resource.id":"_ilm","index_uuid":"_na_","index":"_ilm"},"status":404}`,
			"index lifecycle management"},
		{"async search on Elasticsearch 8: no handler", "/ops/_async_search?wait_for_completion_timeout=0", 400,
			`{"error":"no handler found for uri [/ops/_async_search?wait_for_completion_timeout=0] and method [POST]"}`, "async search"},
		{"data stream template on Elasticsearch 7 without x-pack", "/_index_template/ops-stream", 400,
			dataStreamTemplateRefusal,
			"data streams"},
		{"ingest processor from ingest-common", "/_ingest/pipeline/p", 400,
			`{"error":{"root_cause":[{"type":"parse_exception","reason":"No processor type exists with name [set]","processor_type":"set"}],"type":"parse_exception","reason":"No processor type exists with name [set]","processor_type":"set"},"status":400}`,
			"ingest processor [set]"},
		{"enrich processor", "/_ingest/pipeline/p", 400,
			`{"error":{"root_cause":[{"type":"parse_exception","reason":"No processor type exists with name [enrich]"}],"type":"parse_exception","reason":"No processor type exists with name [enrich]"},"status":400}`,
			"enrich"},
		{"painless script in a search", "/ops/_search", 400,
			`{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"script_lang not supported [painless]"}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}`,
			"painless scripts"},
		{"mustache script (not recorded)", "/_scripts/t", 400,
			`{"error":{"type":"illegal_argument_exception","reason":"script_lang not supported [mustache]"},"status":400}`,
			"scripts in mustache"},

		// An engine that has the capability refuses in its own words.
		{"a job that does not exist", "/_ml/anomaly_detectors/j/_open", 404,
			`{"error":{"root_cause":[{"type":"resource_not_found_exception","reason":"No known job with id 'j'"}],"type":"resource_not_found_exception","reason":"No known job with id 'j'"},"status":404}`, ""},
		{"a transform that does not exist", "/_transform/t/_stats", 404,
			`{"error":{"type":"resource_not_found_exception","reason":"Transform with id [t] could not be found"},"status":404}`, ""},
		{"a misspelt parameter with its suggestion (not recorded)", "/ops/_async_search?keep_alivee=1m", 400,
			`{"error":{"type":"illegal_argument_exception","reason":"request [/ops/_async_search] contains unrecognized parameter: [keep_alivee] -> did you mean [keep_alive]?"},"status":400}`, ""},
		{"two unrecognized, one of the API's own", "/ops/_async_search?foo=1&keep_on_completion=true", 400,
			`{"error":{"type":"illegal_argument_exception","reason":"request [/ops/_async_search] contains unrecognized parameters: [foo], [keep_on_completion]"},"status":400}`, "async search"},
		{"a parameter async search does not know either", "/ops/_async_search?foo=1", 400,
			`{"error":{"type":"illegal_argument_exception","reason":"request [/ops/_async_search] contains unrecognized parameter: [foo]"},"status":400}`, ""},
		{"an ES|QL query that does not parse", "/_query", 400,
			`{"error":{"type":"parsing_exception","reason":"line 1:1: mismatched input 'FRM'"},"status":400}`, ""},
		{"no handler for an API rally knows of no capability", "/_foo", 400,
			`{"error":"no handler found for uri [/_foo] and method [GET]"}`, ""},
		{"an index that does not exist", "/ops/_search", 404,
			`{"error":{"type":"index_not_found_exception","reason":"no such index [ops]"},"status":404}`, ""},
		{"not allowed", "/_sql", 403,
			`{"error":{"type":"security_exception","reason":"action [indices:data/read/sql] is unauthorized"},"status":403}`, ""},
		{"server error", "/_query", 500, `{"error":"no handler found for uri [/_query] and method [POST]"}`, ""},
		{"an index named like an API by chance", "/_queryx", 405,
			`{"error":"Incorrect HTTP method for uri [/_queryx] and method [POST]"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := refusedCapability(tc.path, tc.status, []byte(tc.answer))
			if ok != (tc.want != "") || c.name != tc.want {
				t.Fatalf("refusedCapability(%s, %d) = %q, %v; want %q", tc.path, tc.status, c.name, ok, tc.want)
			}
			if ok && (c.needs[DistributionElasticsearch] == "" || c.needs[DistributionOpenSearch] == "") {
				t.Errorf("capability %s says nothing of what serves it: %v", c.name, c.needs)
			}
		})
	}
}

func TestCapabilityErrorMessage(t *testing.T) {
	req := &RequestError{Method: "POST", Path: "/_query", Status: 400, Reason: `{"error":"no handler found for uri [/_query] and method [POST]"}`}
	for _, tc := range []struct {
		name string
		err  *CapabilityError
		want string
	}{
		{"Elasticsearch", &CapabilityError{Capability: "ES|QL", Engine: Engine{DistributionElasticsearch, "7.17.28"},
			Needs: capESQL.needs[DistributionElasticsearch], Reason: "no handler found for uri [/_query] and method [POST]", Request: req},
			"ES|QL is not available on Elasticsearch 7.17.28 (the engine answered POST /_query with HTTP 400: no handler found for uri [/_query] and method [POST]); " +
				"it needs Elasticsearch 8.11 or later with the x-pack-esql module"},
		{"plural on OpenSearch", &CapabilityError{Capability: "transforms", Engine: Engine{DistributionOpenSearch, "2.19.1"},
			Needs: "OpenSearch has no /_transform API", Reason: "r", Request: req, plural: true},
			"transforms are not available on OpenSearch 2.19.1 (the engine answered POST /_query with HTTP 400: r); OpenSearch has no /_transform API"},
		{"node that does not say what it is", &CapabilityError{Capability: "SQL", DetectErr: errors.New("GET /: HTTP 401"), Needs: "n", Reason: "r", Request: req},
			"SQL is not available on this node (the engine answered POST /_query with HTTP 400: r); n (the node's distribution and version could not be read: GET /: HTTP 401)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Fatalf("message\n got %s\nwant %s", got, tc.want)
			}
			var re *RequestError
			if !errors.As(tc.err, &re) || re != req {
				t.Fatalf("the error does not unwrap to its request")
			}
		})
	}
}

func TestEngineReason(t *testing.T) {
	for _, tc := range []struct{ name, answer, want string }{
		{"string error", `{"error":"no handler found for uri [/_sql] and method [POST]"}`, "no handler found for uri [/_sql] and method [POST]"},
		{"typed error", `{"error":{"root_cause":[{"type":"x","reason":"Invalid index name [_ilm]"}],"type":"x","reason":"Invalid index name [_ilm]"},"status":400}`,
			"x: Invalid index name [_ilm]"},
		{"deepest cause", `{"error":{"type":"a","reason":"outer","caused_by":{"type":"b","reason":"middle","caused_by":{"type":"c","reason":"inner"}}}}`,
			"a: outer (caused by c: inner)"},
		{"root cause of a search", `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"script_lang not supported [painless]"}],"type":"search_phase_execution_exception","reason":"all shards failed"}}`,
			"search_phase_execution_exception: all shards failed (caused by illegal_argument_exception: script_lang not supported [painless])"},
		{"cut short", `{"error":{"root_cause":[{"type":"x","reason":"Inv…`, `{"error":{"root_cause":[{"type":"x","reason":"Inv…`},
		{"no error member", `{"acknowledged":false}`, `{"acknowledged":false}`},
		{"not JSON", `Bad Gateway`, `Bad Gateway`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := engineReason([]byte(tc.answer)); got != tc.want {
				t.Fatalf("engineReason = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCapabilityRefusalEndsTheTask runs operations against a stand-in
// that refuses as an engine without the capability does, and wants the
// task's error to name the capability, the engine and its version, the
// refused request and the engine's reason. The version comes from the
// node (GET /) once the refusal is recognised.
func TestCapabilityRefusalEndsTheTask(t *testing.T) {
	// An answer whose telling part lies beyond the start a RequestError
	// keeps: the session's whole answer is read.
	long := dataStreamTemplateRefusal
	if strings.Contains(snippet([]byte(long)), "unknown field [data_stream]") {
		t.Fatalf("the answer must hide its cause beyond the snippet")
	}
	root := func(dist, version string) string {
		if dist == DistributionOpenSearch {
			return `{"version":{"distribution":"opensearch","number":"` + version + `"}}`
		}
		return `{"version":{"number":"` + version + `"}}`
	}
	for _, tc := range []struct {
		name, opType, params string
		handle               func(recReq) (int, string)
		want                 []string
	}{
		{"esql on Elasticsearch 7", "esql", `{"query":"FROM ops | LIMIT 1"}`,
			func(r recReq) (int, string) {
				if r.URI == "/" {
					return 200, root(DistributionElasticsearch, "7.17.28")
				}
				return 405, `{"error":"Incorrect HTTP method for uri [/_query] and method [POST], allowed: [GET, DELETE, HEAD, PUT]","status":405}`
			},
			[]string{`task "esql", client 0: ES|QL is not available on Elasticsearch 7.17.28 (the engine answered POST /_query with HTTP 405: ` +
				`Incorrect HTTP method for uri [/_query] and method [POST], allowed: [GET, DELETE, HEAD, PUT]); it needs Elasticsearch 8.11 or later with the x-pack-esql module`}},
		{"ILM on OpenSearch", "create-ilm-policy", `{"policy-name":"p","body":{"policy":{"phases":{}}}}`,
			func(r recReq) (int, string) {
				if r.URI == "/" {
					return 200, root(DistributionOpenSearch, "2.19.1")
				}
				return 400, `{"error":"no handler found for uri [/_ilm/policy/p] and method [PUT]"}`
			},
			[]string{`task "create-ilm-policy", client 0: index lifecycle management is not available on OpenSearch 2.19.1 (the engine answered PUT /_ilm/policy/p with HTTP 400: no handler found for uri [/_ilm/policy/p] and method [PUT]); OpenSearch has no ILM`}},
		{"data stream template: the cause past the snippet", "create-composable-template", `{"template":"ops-stream","body":{"index_patterns":["s*"],"data_stream":{}}}`,
			func(r recReq) (int, string) {
				if r.URI == "/" {
					return 200, root(DistributionElasticsearch, "7.17.28")
				}
				return 400, long
			},
			[]string{"data streams are not available on Elasticsearch 7.17.28 (the engine answered PUT /_index_template/ops-stream with HTTP 400: ",
				"(caused by x_content_parse_exception: [index_template] unknown field [data_stream])",
				"x-pack-data-streams"}},
		{"version unknown", "sql", `{"body":{"query":"SELECT 1"}}`,
			func(r recReq) (int, string) {
				if r.URI == "/" {
					return 401, `{"error":"unauthorized"}`
				}
				return 400, `{"error":"no handler found for uri [/_sql] and method [POST]"}`
			},
			[]string{"SQL is not available on this node (the engine answered POST /_sql with HTTP 400: no handler found for uri [/_sql] and method [POST])",
				"(the node's distribution and version could not be read: detect distribution: GET /: HTTP 401"}},
		{"the engine's own refusal stays as it was", "open-ml-job", `{"job-id":"j"}`,
			func(r recReq) (int, string) {
				return 404, `{"error":{"type":"resource_not_found_exception","reason":"No known job with id 'j'"},"status":404}`
			},
			[]string{`task "open-ml-job", client 0: POST /_ml/anomaly_detectors/j/_open: HTTP 404: {"error":{"type":"resource_not_found_exception"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestES(t, tc.handle)
			r := runTask(t, opsTrack(t), opTask(t, tc.opType, tc.opType, tc.params), srv, func(tp *TaskPlan) { tp.OnError = OnErrorAbort })
			if r.err == nil {
				t.Fatalf("task ran; want it refused")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error\n  %s\nwant it to contain\n  %s", r.err, w)
				}
			}
			if r.res.Error != r.err.Error() {
				t.Errorf("task result's error %q, want %q", r.res.Error, r.err)
			}
			var ce *CapabilityError
			var re *RequestError
			if !errors.As(r.err, &re) || (errors.As(r.err, &ce) && ce.Request != re) {
				t.Errorf("the error does not unwrap to the refused request: %#v", r.err)
			}
			// The node is asked its version only once a refusal is a
			// capability's, and outside the task's samples.
			asked := false
			for _, rr := range srv.requests() {
				asked = asked || rr.URI == "/"
			}
			if asked != errors.As(r.err, &ce) {
				t.Errorf("GET / sent: %v; want it sent only for a capability refusal (%v)", asked, r.err)
			}
			if r.summary.Requests != 1 || r.summary.Errors != 1 {
				t.Errorf("summary: %d requests, %d errors; want 1, 1", r.summary.Requests, r.summary.Errors)
			}
		})
	}
}

// FuzzRefusedCapability feeds arbitrary answers to the recogniser and the
// reason reader: they must not panic, and a capability they name must say
// what serves it.
func FuzzRefusedCapability(f *testing.F) {
	f.Add("/_query", 405, `{"error":"Incorrect HTTP method for uri [/_query] and method [POST]"}`)
	f.Add("/_ingest/pipeline/p", 400, `{"error":{"type":"parse_exception","reason":"No processor type exists with name [set]"}}`)
	f.Add("/ops/_search", 400, `{"error":{"root_cause":[{"reason":"script_lang not supported [painless]"}],"caused_by":{"caused_by":{}}}}`)
	f.Add("/x/_downsample/y", 400, `No processor type exists with name [`)
	f.Fuzz(func(t *testing.T, path string, status int, answer string) {
		c, ok := refusedCapability(path, status, []byte(answer))
		if ok && (c.name == "" || c.needs[DistributionElasticsearch] == "") {
			t.Fatalf("capability %+v without name or needs", c)
		}
		_ = engineReason([]byte(answer))
	})
}
