package estarget

import (
	"net/http"
	"strings"
	"testing"
)

// bulkResponse mirrors the documented bulk response.
type bulkResponse struct {
	Took       int64                     `json:"took"`
	Errors     bool                      `json:"errors"`
	IngestTook *int64                    `json:"ingest_took"`
	Items      []map[string]bulkItemBody `json:"items"`
}

type bulkItemBody struct {
	Index   string  `json:"_index"`
	ID      *string `json:"_id"`
	Version int64   `json:"_version"`
	Result  string  `json:"result"`
	Shards  *struct {
		Total      int `json:"total"`
		Successful int `json:"successful"`
		Failed     int `json:"failed"`
	} `json:"_shards"`
	SeqNo       int64 `json:"_seq_no"`
	PrimaryTerm int64 `json:"_primary_term"`
	Status      int   `json:"status"`
	Error       *struct {
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		Index     string `json:"index"`
		IndexUUID string `json:"index_uuid"`
		Shard     string `json:"shard"`
	} `json:"error"`
}

// item returns the only action of one response item and its name.
func (r bulkResponse) item(t testing.TB, i int) (string, bulkItemBody) {
	t.Helper()
	if i >= len(r.Items) || len(r.Items[i]) != 1 {
		t.Fatalf("item %d missing or malformed: %+v", i, r.Items)
	}
	for k, v := range r.Items[i] {
		return k, v
	}
	panic("unreachable")
}

func bulk(t testing.TB, s http.Handler, path string, lines ...string) bulkResponse {
	t.Helper()
	res := must(t, s, http.StatusOK, http.MethodPost, path, strings.Join(lines, "\n")+"\n")
	var br bulkResponse
	decode(t, res.body, &br)
	return br
}

func TestBulkItems(t *testing.T) {
	s := New(Options{})
	br := bulk(t, s, "/_bulk",
		`{"index":{"_index":"logs","_id":"1"}}`, `{"msg":"one"}`,
		`{"create":{"_index":"logs"}}`, `{"msg":"auto id"}`,
		`{"index":{"_index":"logs","_id":"1"}}`, `{"msg":"one again"}`,
		`{"create":{"_index":"logs","_id":"1"}}`, `{"msg":"conflict"}`,
		`{"delete":{"_index":"logs","_id":"1"}}`,
		`{"delete":{"_index":"logs","_id":"nope"}}`,
		`{"update":{"_index":"logs","_id":"u"}}`, `{"doc":{"a":1},"doc_as_upsert":true}`,
		`{"update":{"_index":"logs","_id":"u"}}`, `{"doc":{"a":1}}`,
		`{"update":{"_index":"logs","_id":"u"}}`, `{"doc":{"b":2}}`,
		`{"update":{"_index":"logs","_id":"missing"}}`, `{"doc":{"b":2}}`,
		`{"index":{"_index":"logs","_id":"bad"}}`, `[1,2]`,
	)
	if !br.Errors {
		t.Fatal("errors must be true when an item failed")
	}
	tests := []struct {
		action, result string
		status         int
		version        int64
		errType        string
	}{
		{"index", "created", 201, 1, ""},
		{"create", "created", 201, 1, ""},
		{"index", "updated", 200, 2, ""},
		{"create", "", 409, 0, "version_conflict_engine_exception"},
		{"delete", "deleted", 200, 3, ""},
		{"delete", "not_found", 404, 1, ""},
		{"update", "created", 201, 1, ""},
		{"update", "noop", 200, 1, ""},
		{"update", "updated", 200, 2, ""},
		{"update", "", 404, 0, "document_missing_exception"},
		{"index", "", 400, 0, "document_parsing_exception"},
	}
	var lastSeq int64 = -1
	for i, tt := range tests {
		action, it := br.item(t, i)
		if action != tt.action || it.Status != tt.status || it.Index != "logs" {
			t.Fatalf("item %d: %s %+v, want %s status %d", i, action, it, tt.action, tt.status)
		}
		if tt.errType != "" {
			if it.Error == nil || it.Error.Type != tt.errType || it.Error.Index != "logs" || it.Error.IndexUUID == "" || it.Error.Shard != "0" {
				t.Fatalf("item %d error: %+v", i, it.Error)
			}
			if it.Shards != nil || it.Result != "" {
				t.Fatalf("item %d: a failed item carries no result or _shards", i)
			}
			continue
		}
		if it.Error != nil || it.Result != tt.result || it.Version != tt.version || it.PrimaryTerm != 1 ||
			it.Shards == nil || it.Shards.Total != 1 || it.Shards.Successful != 1 || it.ID == nil {
			t.Fatalf("item %d: %+v, want result %s version %d", i, it, tt.result, tt.version)
		}
		if tt.result != "noop" {
			if it.SeqNo <= lastSeq {
				t.Fatalf("item %d: _seq_no %d not increasing after %d", i, it.SeqNo, lastSeq)
			}
			lastSeq = it.SeqNo
		}
	}
	if _, it := br.item(t, 1); len(*it.ID) != 20 {
		t.Fatalf("auto id %q: want 20 characters", *it.ID)
	}
	st := s.Stats()
	if st.DocsStored != 2 { // auto-id doc and "u"
		t.Fatalf("docs stored = %d, want 2", st.DocsStored)
	}
}

func TestBulkWithoutErrorsSaysSo(t *testing.T) {
	s := New(Options{})
	br := bulk(t, s, "/logs/_bulk", `{"index":{}}`, `{"a":1}`, `{"index":{"_id":"x"}}`, `{"a":2}`)
	if br.Errors || len(br.Items) != 2 {
		t.Fatalf("%+v", br)
	}
	if _, it := br.item(t, 0); it.Index != "logs" {
		t.Fatalf("default index from path not used: %+v", it)
	}
}

func TestBulkWholeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, typ string
	}{
		{"empty_body", "", "parse_exception"},
		{"no_final_newline", `{"index":{"_index":"a"}}` + "\n" + `{"a":1}`, "illegal_argument_exception"},
		{"action_not_an_object", "\"index\"\n{}\n", "illegal_argument_exception"},
		{"unknown_action", `{"upsert":{"_index":"a"}}` + "\n{}\n", "illegal_argument_exception"},
		{"unknown_metadata", `{"index":{"_index":"a","colour":"red"}}` + "\n{}\n", "illegal_argument_exception"},
		{"legacy_type_rejected_in_8", `{"index":{"_index":"a","_type":"_doc"}}` + "\n{}\n", "illegal_argument_exception"},
		{"broken_json_action", `{"index":{"_index":"a"` + "\n{}\n", "x_content_parse_exception"},
		{"missing_index", `{"index":{}}` + "\n{}\n", "action_request_validation_exception"},
		{"malformed_update_body", `{"update":{"_index":"a","_id":"1"}}` + "\n{\"doc\":\n", "x_content_parse_exception"},
		{"only_blank_lines", "\n\n", "parse_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			mustError(t, call(t, s, http.MethodPost, "/_bulk", tt.body), http.StatusBadRequest, tt.typ)
			if s.Stats().DocsStored != 0 {
				t.Fatal("a rejected bulk request stored documents")
			}
		})
	}
}

func TestBulkPipelines(t *testing.T) {
	s := New(Options{})
	br := bulk(t, s, "/_bulk?pipeline=nope", `{"index":{"_index":"logs"}}`, `{"a":1}`)
	_, it := br.item(t, 0)
	if !br.Errors || it.Status != 400 || it.Error == nil || it.Error.Type != "illegal_argument_exception" ||
		it.Error.Reason != "pipeline with id [nope] does not exist" {
		t.Fatalf("missing pipeline: %+v", it)
	}
	must(t, s, http.StatusOK, http.MethodPut, "/_ingest/pipeline/p1", `{"description":"d","processors":[{"set":{"field":"x","value":1}}]}`)
	br = bulk(t, s, "/_bulk", `{"index":{"_index":"logs","pipeline":"p1"}}`, `{"a":1}`)
	if br.Errors || br.IngestTook == nil {
		t.Fatalf("existing pipeline: %+v", br)
	}
	res := must(t, s, http.StatusOK, http.MethodGet, "/_ingest/pipeline/p1", "")
	if !strings.Contains(string(res.body), `"p1":{`) || !strings.Contains(string(res.body), `"processors"`) {
		t.Fatalf("GET pipeline: %s", res.body)
	}
	must(t, s, http.StatusNotFound, http.MethodGet, "/_ingest/pipeline/nope", "")
	mustError(t, call(t, s, http.MethodPut, "/_ingest/pipeline/bad", `{"description":"no processors"}`), http.StatusBadRequest, "parse_exception")
	must(t, s, http.StatusOK, http.MethodDelete, "/_ingest/pipeline/p1", "")
	mustError(t, call(t, s, http.MethodDelete, "/_ingest/pipeline/p1", ""), http.StatusNotFound, "resource_not_found_exception")
}

func TestBulkAutoCreateCanBeDisabled(t *testing.T) {
	s := New(Options{})
	must(t, s, http.StatusOK, http.MethodPut, "/_cluster/settings", `{"persistent":{"action.auto_create_index":"false"}}`)
	br := bulk(t, s, "/_bulk", `{"index":{"_index":"logs"}}`, `{"a":1}`)
	if _, it := br.item(t, 0); it.Status != 404 || it.Error == nil || it.Error.Type != "index_not_found_exception" {
		t.Fatalf("%+v", it)
	}
}

func TestBulkGzipBody(t *testing.T) {
	s := New(Options{})
	body := gzipped(t, "{\"index\":{\"_index\":\"z\"}}\n{\"a\":1}\n")
	res := callRaw(t, s, http.MethodPost, "/_bulk", body, map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"})
	if res.status != 200 || s.Stats().DocsStored != 1 {
		t.Fatalf("gzip bulk: %d %s", res.status, res.body)
	}
}

func TestSingleDocumentAPIs(t *testing.T) {
	s := New(Options{})
	res := must(t, s, http.StatusCreated, http.MethodPut, "/logs/_doc/1", `{"a":1}`)
	var w struct {
		Index   string `json:"_index"`
		ID      string `json:"_id"`
		Version int64  `json:"_version"`
		Result  string `json:"result"`
	}
	decode(t, res.body, &w)
	if w.Index != "logs" || w.ID != "1" || w.Version != 1 || w.Result != "created" {
		t.Fatalf("%s", res.body)
	}
	mustError(t, call(t, s, http.MethodPut, "/logs/_create/1", `{"a":2}`), http.StatusConflict, "version_conflict_engine_exception")
	get := must(t, s, http.StatusOK, http.MethodGet, "/logs/_doc/1", "")
	if !strings.Contains(string(get.body), `"found":true`) || !strings.Contains(string(get.body), `"_source":{"a":1}`) {
		t.Fatalf("get: %s", get.body)
	}
	must(t, s, http.StatusNotFound, http.MethodGet, "/logs/_doc/2", "")
	must(t, s, http.StatusOK, http.MethodPost, "/logs/_update/1", `{"doc":{"b":2}}`)
	get = must(t, s, http.StatusOK, http.MethodGet, "/logs/_doc/1", "")
	if !strings.Contains(string(get.body), `"_source":{"a":1,"b":2}`) {
		t.Fatalf("after update: %s", get.body)
	}
	must(t, s, http.StatusOK, http.MethodDelete, "/logs/_doc/1", "")
	must(t, s, http.StatusNotFound, http.MethodDelete, "/logs/_doc/1", "")
	auto := must(t, s, http.StatusCreated, http.MethodPost, "/logs/_doc", `{"a":3}`)
	decode(t, auto.body, &w)
	if len(w.ID) != 20 {
		t.Fatalf("auto id %q", w.ID)
	}
}

func TestParseActionLine(t *testing.T) {
	tests := []struct {
		name, line string
		ok         bool
		typ        opType
		index, id  string
	}{
		{"index_with_meta", `{"index":{"_index":"a","_id":"1"}}`, true, opIndex, "a", "1"},
		{"spaces_everywhere", ` { "create" : { "_index" : "a" , "_id" : "x\"y" } } `, true, opCreate, "a", `x"y`},
		{"numeric_id", `{"delete":{"_index":"a","_id":7}}`, true, opDelete, "a", "7"},
		{"null_id_means_auto", `{"index":{"_index":"a","_id":null}}`, true, opIndex, "a", ""},
		{"empty_meta", `{"update":{}}`, true, opUpdate, "", ""},
		{"dynamic_templates_object_skipped", `{"index":{"_index":"a","dynamic_templates":{"x":"y"}}}`, true, opIndex, "a", ""},
		{"op_type_create", `{"index":{"_index":"a","op_type":"create"}}`, true, opCreate, "a", ""},
		{"object_for_id", `{"index":{"_id":{"x":1}}}`, false, 0, "", ""},
		{"trailing_garbage", `{"index":{}} x`, false, 0, "", ""},
		{"two_actions", `{"index":{},"delete":{}}`, false, 0, "", ""},
		{"unterminated_string", `{"index":{"_id":"abc}}`, false, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var op bulkOp
			e := parseActionLine([]byte(tt.line), 1, false, &op)
			if (e == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", e, tt.ok)
			}
			if tt.ok && (op.typ != tt.typ || op.index != tt.index || op.id != tt.id) {
				t.Fatalf("got %v %q %q", op.typ, op.index, op.id)
			}
		})
	}
}

func TestHasTopLevelKey(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{`{"@timestamp":"2024-01-01","a":1}`, true},
		{`{"a":{"@timestamp":1},"b":[1,{"c":2}]}`, false},
		{`{"a":{"x":[1,2,{"y":"}"}]},"@timestamp":1}`, true},
		{`{}`, false},
		{`[]`, false},
	}
	for _, tt := range tests {
		if got := hasTopLevelKey([]byte(tt.src), "@timestamp"); got != tt.want {
			t.Errorf("hasTopLevelKey(%s) = %v, want %v", tt.src, got, tt.want)
		}
	}
}
