package driver

import (
	"strings"
	"testing"

	"rally/track"
)

// Each type's parameters are checked at plan time, with errors naming the
// parameter.
func TestEsrallyOperationsRejectBadParameters(t *testing.T) {
	noDeclarations := func(tr *track.Track) { tr.Indices, tr.DataStreams = nil, nil }
	for _, tc := range []struct {
		opType, params string
		track          func(*track.Track)
		wantErr        string
	}{
		{"esql", `{}`, nil, `parameter "query" is mandatory`},
		{"esql", `{"query":"FROM x","body":"nope"}`, nil, `parameter "body": want an object`},
		{"sql", `{}`, nil, `parameter "body" is mandatory`},
		{"sql", `{"body":{"fetch_size":2}}`, nil, `parameter "body.query" is mandatory`},
		{"sql", `{"body":{"query":"SELECT 1"},"pages":0}`, nil, `parameter "pages": want >= 1`},
		{"field-caps", `{"fields":{"a":1}}`, nil, `parameter "fields": want a string, number or boolean`},
		{"downsample", `{}`, noDeclarations, `parameter "source-index" is mandatory`},
		{"create-snapshot-repository", `{"body":{}}`, nil, `parameter "repository" is mandatory`},
		{"create-snapshot-repository", `{"repository":"r"}`, nil, `parameter "body" is mandatory`},
		{"create-snapshot", `{"repository":"r","snapshot":"s","body":{},"wait-for-completion":"maybe"}`, nil, `parameter "wait-for-completion": want true or false`},
		{"restore-snapshot", `{"repository":"r"}`, nil, `parameter "snapshot" is mandatory`},
		{"wait-for-snapshot-create", `{"repository":"r","snapshot":"s","completion-recheck-wait-period":-1}`, nil, `parameter "completion-recheck-wait-period": want seconds >= 0`},
		{"wait-for-current-snapshots-create", `{}`, nil, `parameter "repository" is mandatory`},
		{"create-transform", `{"transform-id":"t"}`, nil, `parameter "body" is mandatory`},
		{"start-transform", `{}`, nil, `parameter "transform-id" is mandatory`},
		{"wait-for-transform", `{"transform-id":"t","poll-interval":"often"}`, nil, `parameter "poll-interval": want a number`},
		{"delete-transform", `{"transform-id":"t","force":"yes"}`, nil, `parameter "force": want true or false`},
		{"transform-stats", `{"transform-id":"t","condition":{"path":"state"}}`, nil, `want an "expected-value"`},
		{"create-ml-job", `{"body":{}}`, nil, `parameter "job-id" is mandatory`},
		{"create-ml-datafeed", `{"datafeed-id":"d"}`, nil, `parameter "body" is mandatory`},
		{"start-ml-datafeed", `{}`, nil, `parameter "datafeed-id" is mandatory`},
		{"close-ml-job", `{"job-id":"j","timeout":{"s":1}}`, nil, `parameter "timeout": want a string, number or boolean`},
		{"create-ilm-policy", `{"policy-name":"p","body":{"phases":{}}}`, nil, `has no top-level "policy" object`},
		{"create-ilm-policy", `{"body":{"policy":{"phases":{}}}}`, nil, `parameter "policy-name" is mandatory`},
		{"delete-ilm-policy", `{}`, nil, `parameter "policy-name" is mandatory`},
		{"shrink-index", `{"source-index":"a","target-index":"b"}`, nil, `parameter "target-body" is mandatory`},
		{"shrink-index", `{"target-index":"b","target-body":{}}`, nil, `parameter "source-index" is mandatory`},
		{"run-until", `{"path":"/","json-path":"a"}`, nil, `parameter "criterion" is mandatory`},
		{"run-until", `{"path":"/","json-path":"a","criterion":{"operator":"gt","value":1}}`, nil, `unsupported operator "gt"`},
		{"run-until", `{"path":"/","json-path":"a","criterion":{"operator":"gte"}}`, nil, `operator gte requires a "value"`},
		{"run-until", `{"path":"_cat","json-path":"a","criterion":{"operator":"exists"}}`, nil, `must begin with "/"`},
		{"run-until", `{"path":"/","criterion":{"operator":"exists"}}`, nil, `parameter "json-path" is mandatory`},
		{"composite-agg", `{"index":"x","pages":"some","body":{"aggs":{"a":{"composite":{}}}}}`, nil, `parameter "pages"`},
	} {
		t.Run(tc.opType+" "+tc.wantErr, func(t *testing.T) {
			tr := opsTrack(t)
			if tc.track != nil {
				tc.track(tr)
			}
			_, err := compileTask(tr, opTask(t, "op", tc.opType, tc.params))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// esrally wraps the administrative runners, run-until and
// get-async-search in its Retry; create-snapshot and restore-snapshot are
// not idempotent and run once, as do the searches and queries.
func TestEsrallyRetriesTheSameOperations(t *testing.T) {
	retried := map[string]string{
		"create-snapshot-repository":        `{"repository":"r","body":{}}`,
		"delete-snapshot-repository":        `{"repository":"r"}`,
		"wait-for-snapshot-create":          `{"repository":"r","snapshot":"s"}`,
		"wait-for-current-snapshots-create": `{"repository":"r"}`,
		"create-transform":                  `{"transform-id":"t","body":{}}`,
		"start-transform":                   `{"transform-id":"t"}`,
		"wait-for-transform":                `{"transform-id":"t"}`,
		"delete-transform":                  `{"transform-id":"t"}`,
		"transform-stats":                   `{"transform-id":"t"}`,
		"create-ml-datafeed":                `{"datafeed-id":"d","body":{}}`,
		"delete-ml-datafeed":                `{"datafeed-id":"d"}`,
		"start-ml-datafeed":                 `{"datafeed-id":"d"}`,
		"stop-ml-datafeed":                  `{"datafeed-id":"d"}`,
		"create-ml-job":                     `{"job-id":"j","body":{}}`,
		"delete-ml-job":                     `{"job-id":"j"}`,
		"open-ml-job":                       `{"job-id":"j"}`,
		"close-ml-job":                      `{"job-id":"j"}`,
		"create-ilm-policy":                 `{"policy-name":"p","body":{"policy":{"phases":{}}}}`,
		"delete-ilm-policy":                 `{"policy-name":"p"}`,
		"shrink-index":                      `{"source-index":"a","target-index":"b","target-body":{}}`,
		"run-until":                         `{"path":"/","json-path":"a","criterion":{"operator":"exists"}}`,
	}
	once := map[string]string{
		"create-snapshot":  `{"repository":"r","snapshot":"s","body":{}}`,
		"restore-snapshot": `{"repository":"r","snapshot":"s"}`,
		"downsample":       `{"source-index":"a"}`,
		"esql":             `{"query":"FROM a"}`,
		"sql":              `{"body":{"query":"SELECT 1"}}`,
		"field-caps":       ``,
		"composite":        `{"requests":[]}`,
		"composite-agg":    `{"index":"a","body":{"aggs":{"a":{"composite":{}}}}}`,
	}
	check := func(opType, params string, want bool) {
		t.Run(opType, func(t *testing.T) {
			spec, err := compileTask(opsTrack(t), opTask(t, "op", opType, params))
			if err != nil {
				t.Fatal(err)
			}
			r, err := spec.newRunner(clientSlot{total: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, got := r.(retrying); got != want {
				t.Fatalf("runner %T: retried %v, want %v", r, got, want)
			}
		})
	}
	for typ, p := range retried {
		check(typ, p, true)
	}
	for typ, p := range once {
		check(typ, p, false)
	}
	// Every built-in type of Rally's list runs here.
	for _, typ := range track.BuiltinOperationTypes {
		if operations[typ] == nil {
			t.Errorf("built-in operation type %s has no runner", typ)
		}
	}
}

// Rally's "file-reader" is its bulk parameter source registered by name: a
// bulk operation naming it runs as any bulk does; other types refuse it.
func TestFileReaderParamSource(t *testing.T) {
	tr := opsTrack(t)
	tr.Corpora = []track.Corpus{{Name: "c", Documents: []track.Documents{{SourceFile: "docs.json", DocumentFile: "docs.json", DocumentCount: 10, TargetIndex: "geonames"}}}}
	bulk := opTask(t, "b", "bulk", `{"bulk-size":5}`)
	bulk.Operation.ParamSource = "file-reader"
	spec, err := compileTask(tr, bulk)
	if err != nil {
		t.Fatal(err)
	}
	if spec.unit() != "docs/s" {
		t.Fatalf("unit %s", spec.unit())
	}
	if err := Validate(tr, &track.Challenge{Name: "c", Schedule: []track.Step{{Tasks: []track.Task{*bulk}}}}); err != nil {
		t.Fatal(err)
	}
	search := opTask(t, "s", "search", `{"index":"x"}`)
	search.Operation.ParamSource = "file-reader"
	if _, err := compileTask(tr, search); err == nil || !strings.Contains(err.Error(), `param-source "file-reader" is Rally's bulk parameter source: it feeds bulk operations, not search`) {
		t.Fatalf("error %v", err)
	}
}
