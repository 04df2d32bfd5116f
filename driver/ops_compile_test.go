package driver

import (
	"strings"
	"testing"

	"rally/track"
)

func TestOperationsRejectBadParameters(t *testing.T) {
	noDeclarations := func(tr *track.Track) {
		tr.Indices, tr.DataStreams = nil, nil
		tr.Templates, tr.ComposableTemplates, tr.ComponentTemplates = nil, nil, nil
	}
	for _, tc := range []struct {
		name    string
		opType  string
		params  string
		track   func(*track.Track)
		wantErr string
	}{
		{name: "request options are checked before anything else", opType: "delete-index",
			params: `{"headers":"x","only-if-exists":"maybe"}`, wantErr: `parameter "headers": want an object`},
		{name: "only-if-exists must be a boolean", opType: "delete-data-stream",
			params: `{"only-if-exists":"maybe"}`, wantErr: `parameter "only-if-exists": want true or false`},
		{name: "delete-index needs a name when the track has no indices", opType: "delete-index",
			track: noDeclarations, wantErr: `delete-index targets no index (the track has none and no "index" is given)`},
		{name: "delete-data-stream needs a name when the track has none", opType: "delete-data-stream",
			track: noDeclarations, wantErr: "delete-data-stream targets no data stream"},
		{name: "create-data-stream needs a name when the track has none", opType: "create-data-stream",
			track: noDeclarations, wantErr: `no data stream to create`},
		{name: "create-data-stream filter matching nothing declared", opType: "create-data-stream",
			params: `{"data-stream":"nope"}`, wantErr: `no data stream to create`},
		{name: "create-index without track indices needs a name", opType: "create-index",
			track: noDeclarations, wantErr: `the track has no indices: give parameter "index"`},
		{name: "delete template without track templates needs a name", opType: "delete-composable-template",
			track: noDeclarations, wantErr: `give "template" or declare templates in the track`},
		{name: "create template names an unknown track template", opType: "create-index-template",
			params: `{"template":"nope"}`, wantErr: `unknown template "nope"; available: legacy`},
		{name: "put-settings needs a body", opType: "put-settings", wantErr: `parameter "body" is mandatory`},
		{name: "put-pipeline needs a body", opType: "put-pipeline", params: `{"id":"p"}`, wantErr: `parameter "body" is mandatory`},
		{name: "delete-pipeline needs an id", opType: "delete-pipeline", wantErr: `parameter "id" is mandatory`},
		{name: "wait-for-recovery needs an index", opType: "wait-for-recovery", wantErr: `parameter "index" is mandatory`},
		{name: "cluster-health status must be a health", opType: "cluster-health",
			params: `{"request-params":{"wait_for_status":"blue"}}`, wantErr: `wait_for_status "blue" is not green, yellow or red`},
		{name: "administrative operations check the retry policy", opType: "refresh",
			params: `{"retries":-1}`, wantErr: `parameter "retries": want >= 0`},
		{name: "force-merge mode", opType: "force-merge", params: `{"mode":"sometimes"}`, wantErr: `"sometimes" is not blocking or polling`},
		{name: "raw-request path", opType: "raw-request", params: `{"path":"_cat"}`, wantErr: `must begin with "/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
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

// Administrative operations run in Rally's retry policy; raw-request,
// force-merge and sleep run once per iteration, as in Rally.
func TestOnlyAdministrativeOperationsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		opType  string
		params  string
		retried bool
	}{
		{"create-index", "", true},
		{"delete-index", "", true},
		{"create-data-stream", "", true},
		{"delete-data-stream", "", true},
		{"create-index-template", "", true},
		{"delete-index-template", "", true},
		{"create-composable-template", "", true},
		{"delete-composable-template", "", true},
		{"create-component-template", "", true},
		{"delete-component-template", "", true},
		{"cluster-health", "", true},
		{"refresh", "", true},
		{"index-stats", "", true},
		{"node-stats", "", true},
		{"put-settings", `{"body":{}}`, true},
		{"put-pipeline", `{"id":"p","body":{}}`, true},
		{"delete-pipeline", `{"id":"p"}`, true},
		{"wait-for-recovery", `{"index":"i"}`, true},
		{"force-merge", "", false},
		{"raw-request", `{"path":"/"}`, false},
		{"sleep", `{"duration":0}`, false},
	} {
		t.Run(tc.opType, func(t *testing.T) {
			spec, err := compileTask(opsTrack(t), opTask(t, "op", tc.opType, tc.params))
			if err != nil {
				t.Fatal(err)
			}
			c, ok := spec.(constantOp)
			if !ok {
				t.Fatalf("spec is %T, want a constantOp", spec)
			}
			if _, retried := c.runner.(retrying); retried != tc.retried {
				t.Fatalf("runner %T: retried %v, want %v", c.runner, retried, tc.retried)
			}
		})
	}
}
