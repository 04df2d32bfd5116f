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
