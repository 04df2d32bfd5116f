package estarget

import (
	"net/http"
	"strings"
	"testing"
)

func TestDataStreamRules(t *testing.T) {
	s := New(Options{})
	t.Run("create_without_template_is_400", func(t *testing.T) {
		eb := mustError(t, call(t, s, http.MethodPut, "/_data_stream/logs-app", ""), http.StatusBadRequest, "illegal_argument_exception")
		if eb.Error.Reason != "no matching index template found for data stream [logs-app]" {
			t.Fatalf("reason: %s", eb.Error.Reason)
		}
	})
	t.Run("template_without_data_stream_is_400", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodPut, "/_index_template/plain", `{"index_patterns":["plain-*"]}`)
		mustError(t, call(t, s, http.MethodPut, "/_data_stream/plain-x", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	must(t, s, http.StatusOK, http.MethodPut, "/_component_template/base", `{"template":{"settings":{"number_of_shards":2}}}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_index_template/logs", `{"index_patterns":["logs-*"],"data_stream":{},"priority":100,"composed_of":["base"]}`)
	t.Run("create_with_template", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodPut, "/_data_stream/logs-app", "")
		mustError(t, call(t, s, http.MethodPut, "/_data_stream/logs-app", ""), http.StatusBadRequest, "resource_already_exists_exception")
	})
	var backing string
	t.Run("get_shape", func(t *testing.T) {
		res := must(t, s, http.StatusOK, http.MethodGet, "/_data_stream/logs-app", "")
		var got struct {
			DataStreams []struct {
				Name           string `json:"name"`
				TimestampField struct {
					Name string `json:"name"`
				} `json:"timestamp_field"`
				Indices []struct {
					IndexName string `json:"index_name"`
					IndexUUID string `json:"index_uuid"`
				} `json:"indices"`
				Generation int    `json:"generation"`
				Status     string `json:"status"`
				Template   string `json:"template"`
				Hidden     bool   `json:"hidden"`
			} `json:"data_streams"`
		}
		decode(t, res.body, &got)
		if len(got.DataStreams) != 1 {
			t.Fatalf("%s", res.body)
		}
		ds := got.DataStreams[0]
		if ds.Name != "logs-app" || ds.TimestampField.Name != "@timestamp" || ds.Generation != 1 || ds.Status != "GREEN" ||
			ds.Template != "logs" || len(ds.Indices) != 1 || !strings.HasPrefix(ds.Indices[0].IndexName, ".ds-logs-app-") ||
			!strings.HasSuffix(ds.Indices[0].IndexName, "-000001") {
			t.Fatalf("data stream: %s", res.body)
		}
		backing = ds.Indices[0].IndexName
	})
	t.Run("bulk_create_goes_to_backing_index", func(t *testing.T) {
		br := bulk(t, s, "/_bulk",
			`{"create":{"_index":"logs-app"}}`, `{"@timestamp":"2024-01-01T00:00:00Z","m":"x"}`,
			`{"index":{"_index":"logs-app"}}`, `{"@timestamp":"2024-01-01T00:00:00Z","m":"y"}`,
			`{"create":{"_index":"logs-app"}}`, `{"m":"no timestamp"}`,
			`{"create":{"_index":"logs-new"}}`, `{"@timestamp":"2024-01-01T00:00:00Z"}`,
		)
		if !br.Errors {
			t.Fatal("errors must be true")
		}
		if _, it := br.item(t, 0); it.Status != 201 || it.Index != backing {
			t.Fatalf("create: %+v", it)
		}
		if _, it := br.item(t, 1); it.Status != 400 || it.Error == nil ||
			it.Error.Reason != "only write ops with an op_type of create are allowed in data streams" {
			t.Fatalf("index op: %+v", it)
		}
		if _, it := br.item(t, 2); it.Status != 400 || it.Error == nil || it.Error.Type != "document_parsing_exception" {
			t.Fatalf("missing @timestamp: %+v", it.Error)
		}
		if _, it := br.item(t, 3); it.Status != 201 || !strings.HasPrefix(it.Index, ".ds-logs-new-") {
			t.Fatalf("auto-created data stream: %+v", it)
		}
	})
	t.Run("search_by_data_stream_name", func(t *testing.T) {
		sr := search(t, s, http.MethodGet, "/logs-app/_search", "")
		if sr.Hits.Total.Value != 1 || sr.Hits.Hits[0].Index != backing || sr.Shards.Total != 2 {
			t.Fatalf("%+v", sr)
		}
	})
	t.Run("regular_index_matching_data_stream_template_is_refused", func(t *testing.T) {
		mustError(t, call(t, s, http.MethodPut, "/logs-plain", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("delete_index_api_refuses_data_stream_and_write_index", func(t *testing.T) {
		mustError(t, call(t, s, http.MethodDelete, "/logs-app", ""), http.StatusBadRequest, "illegal_argument_exception")
		mustError(t, call(t, s, http.MethodDelete, "/"+backing, ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("templates_in_use_cannot_be_removed", func(t *testing.T) {
		mustError(t, call(t, s, http.MethodDelete, "/_index_template/logs", ""), http.StatusBadRequest, "illegal_argument_exception")
		mustError(t, call(t, s, http.MethodDelete, "/_component_template/base", ""), http.StatusBadRequest, "illegal_argument_exception")
	})
	t.Run("delete_data_streams_then_template", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodDelete, "/_data_stream/logs-*", "")
		mustError(t, call(t, s, http.MethodGet, "/_data_stream/logs-app", ""), http.StatusNotFound, "index_not_found_exception")
		if s.Stats().Indices != 0 {
			t.Fatalf("backing indices left: %+v", s.Stats())
		}
		must(t, s, http.StatusOK, http.MethodDelete, "/_index_template/logs", "")
		must(t, s, http.StatusOK, http.MethodDelete, "/_component_template/base", "")
	})
}

func TestTemplatesApplyToNewIndices(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/_template/legacy", `{"index_patterns":["old-*"],"order":1,"settings":{"number_of_shards":4,"refresh_interval":"30s"}}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_component_template/c1", `{"template":{"mappings":{"properties":{"a":{"type":"keyword"}}}}}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_index_template/new", `{"index_patterns":["new-*"],"composed_of":["c1"],"template":{"settings":{"index.number_of_shards":3}}}`)
	mustError(t, call(t, s, http.MethodPut, "/_index_template/broken", `{"index_patterns":["x-*"],"composed_of":["nope"]}`), http.StatusBadRequest, "invalid_index_template_exception")

	bulk(t, s, "/_bulk", `{"index":{"_index":"old-1"}}`, `{"a":1}`, `{"index":{"_index":"new-1"}}`, `{"a":1}`)
	old := must(t, s, http.StatusOK, http.MethodGet, "/old-1/_settings", "")
	if !strings.Contains(string(old.body), `"number_of_shards":"4"`) || !strings.Contains(string(old.body), `"refresh_interval":"30s"`) {
		t.Fatalf("legacy template not applied: %s", old.body)
	}
	nw := must(t, s, http.StatusOK, http.MethodGet, "/new-1", "")
	if !strings.Contains(string(nw.body), `"number_of_shards":"3"`) || !strings.Contains(string(nw.body), `"a":{"type":"keyword"}`) {
		t.Fatalf("composable template not applied: %s", nw.body)
	}

	t.Run("get_shapes", func(t *testing.T) {
		legacy := must(t, s, http.StatusOK, http.MethodGet, "/_template/legacy", "")
		if !strings.HasPrefix(string(legacy.body), `{"legacy":{`) || !strings.Contains(string(legacy.body), `"index_patterns":["old-*"]`) {
			t.Fatalf("%s", legacy.body)
		}
		it := must(t, s, http.StatusOK, http.MethodGet, "/_index_template/new", "")
		var got struct {
			IndexTemplates []struct {
				Name          string `json:"name"`
				IndexTemplate struct {
					IndexPatterns []string `json:"index_patterns"`
					ComposedOf    []string `json:"composed_of"`
				} `json:"index_template"`
			} `json:"index_templates"`
		}
		decode(t, it.body, &got)
		if len(got.IndexTemplates) != 1 || got.IndexTemplates[0].Name != "new" || got.IndexTemplates[0].IndexTemplate.ComposedOf[0] != "c1" {
			t.Fatalf("%s", it.body)
		}
		ct := must(t, s, http.StatusOK, http.MethodGet, "/_component_template/c1", "")
		if !strings.Contains(string(ct.body), `"component_templates":[{"name":"c1","component_template":{`) {
			t.Fatalf("%s", ct.body)
		}
	})
	t.Run("missing_templates", func(t *testing.T) {
		must(t, s, http.StatusNotFound, http.MethodGet, "/_template/nope", "")
		must(t, s, http.StatusNotFound, http.MethodHead, "/_template/nope", "")
		must(t, s, http.StatusOK, http.MethodHead, "/_index_template/new", "")
		mustError(t, call(t, s, http.MethodGet, "/_index_template/nope", ""), http.StatusNotFound, "resource_not_found_exception")
		mustError(t, call(t, s, http.MethodDelete, "/_template/nope", ""), http.StatusNotFound, "index_template_missing_exception")
		mustError(t, call(t, s, http.MethodGet, "/_component_template/nope", ""), http.StatusNotFound, "resource_not_found_exception")
	})
}

// TestNamedRegistryAnswers pins the answers the named registries
// (legacy, composable and component templates, ingest pipelines) share in
// shape but word differently.
func TestNamedRegistryAnswers(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/_template/lt", `{"index_patterns":"l-*"}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_component_template/ct", `{"template":{}}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_index_template/it", `{"index_patterns":["i-*"],"composed_of":["ct"]}`)
	must(t, s, http.StatusOK, http.MethodPut, "/_ingest/pipeline/pl", `{"processors":[]}`)
	tests := []struct {
		name, method, path, body string
		status                   int
		typ, reason              string // of the error; "" for none
	}{
		{"legacy_create_conflict", http.MethodPut, "/_template/lt?create=true", `{"index_patterns":"l-*"}`,
			400, "illegal_argument_exception", "index_template [lt] already exists"},
		{"composable_create_conflict", http.MethodPut, "/_index_template/it?create=true", `{"index_patterns":["i-*"]}`,
			400, "illegal_argument_exception", "index template [it] already exists"},
		{"component_create_conflict", http.MethodPut, "/_component_template/ct?create", `{"template":{}}`,
			400, "illegal_argument_exception", "component template [ct] already exists"},
		{"missing_components_before_conflict", http.MethodPut, "/_index_template/it?create=true", `{"index_patterns":["i-*"],"composed_of":["a","b"]}`,
			400, "invalid_index_template_exception", "index_template [it] invalid, cause [index template [it] specifies component templates [a, b] that do not exist]"},
		{"pipeline_put_replaces_even_with_create", http.MethodPut, "/_ingest/pipeline/pl?create=true", `{"processors":[]}`, 200, "", ""},
		{"patterns_missing", http.MethodPut, "/_template/x", `{"index_patterns":[]}`,
			400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;"},
		{"put_without_name", http.MethodPut, "/_ingest/pipeline", `{"processors":[]}`, 400, "illegal_argument_exception", ""},
		{"put_bad_json", http.MethodPut, "/_component_template/x", `{`, 400, "x_content_parse_exception", ""},
		{"legacy_get_partly_missing_is_404_with_body", http.MethodGet, "/_template/lt,nope", "", 404, "", ""},
		{"pipeline_get_missing_is_404", http.MethodGet, "/_ingest/pipeline/nope", "", 404, "", ""},
		{"composable_get_missing", http.MethodGet, "/_index_template/nope", "",
			404, "resource_not_found_exception", "index template matching [nope] not found"},
		{"component_get_missing", http.MethodGet, "/_component_template/nope", "",
			404, "resource_not_found_exception", "component template matching [nope] not found"},
		{"legacy_delete_missing", http.MethodDelete, "/_template/lt,nope", "",
			404, "index_template_missing_exception", "index_template [lt,nope] missing"},
		{"composable_delete_missing", http.MethodDelete, "/_index_template/nope", "",
			404, "resource_not_found_exception", "index_template matching [nope] not found"},
		{"component_delete_missing", http.MethodDelete, "/_component_template/nope", "",
			404, "resource_not_found_exception", "nope"},
		{"pipeline_delete_missing", http.MethodDelete, "/_ingest/pipeline/nope", "",
			404, "resource_not_found_exception", "pipeline [nope] is missing"},
		{"component_in_use", http.MethodDelete, "/_component_template/c*", "",
			400, "illegal_argument_exception", "component templates [ct] cannot be removed as they are still in use by index templates [it]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s, tt.method, tt.path, tt.body)
			if tt.typ == "" {
				if res.status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
				}
				return
			}
			eb := mustError(t, res, tt.status, tt.typ)
			if tt.reason != "" && eb.Error.Reason != tt.reason {
				t.Fatalf("reason %q, want %q", eb.Error.Reason, tt.reason)
			}
		})
	}
	t.Run("legacy_get_partly_missing_lists_the_found", func(t *testing.T) {
		res := call(t, s, http.MethodGet, "/_template/lt,nope", "")
		if string(res.body) != `{"lt":{"aliases":{},"index_patterns":["l-*"],"mappings":{},"order":0,"settings":{}}}` {
			t.Fatalf("%s", res.body)
		}
	})
	t.Run("delete_all_matching", func(t *testing.T) {
		must(t, s, http.StatusOK, http.MethodDelete, "/_index_template/i*", "")
		must(t, s, http.StatusOK, http.MethodDelete, "/_component_template/ct", "")
		must(t, s, http.StatusOK, http.MethodDelete, "/_ingest/pipeline/*", "")
		must(t, s, http.StatusOK, http.MethodGet, "/_ingest/pipeline", "")
		if res := must(t, s, http.StatusOK, http.MethodGet, "/_component_template", ""); string(res.body) != `{"component_templates":[]}` {
			t.Fatalf("%s", res.body)
		}
	})
}
