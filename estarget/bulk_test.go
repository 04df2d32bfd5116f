package estarget

import (
	"slices"
	"strings"
	"testing"
)

func TestParseBulk(t *testing.T) {
	tests := []struct {
		name, body, defaultIndex string
		want                     []bulkAction
		err                      string
	}{
		{name: "index_create_update_delete",
			body: `{"index":{"_index":"a"}}` + "\n{\"x\":1}\n" + `{"create":{"_index":"b","_id":"1","routing":"r"}}` + "\n{}\n" +
				`{"update":{"_id":"2"}}` + "\n" + `{"doc":{}}` + "\n" + `{"delete":{"_index":"a","_id":"3"}}` + "\n",
			defaultIndex: "d",
			want:         []bulkAction{{"index", "a", "", 7}, {"create", "b", "1", 2}, {"update", "d", "2", 10}, {"delete", "a", "3", 0}}},
		{name: "blank_lines_are_skipped", body: "\n" + `{"index":{"_index":"a"}}` + "\n{}\n\n",
			want: []bulkAction{{"index", "a", "", 2}}},
		{name: "an_action_without_its_source_at_the_end_is_dropped", body: `{"index":{"_index":"a"}}` + "\n{}\n" + `{"index":{"_index":"a"}}` + "\n",
			want: []bulkAction{{"index", "a", "", 2}}},
		{name: "legacy_type_is_accepted", body: `{"index":{"_index":"a","_type":"_doc"}}` + "\n{}\n", want: []bulkAction{{"index", "a", "", 2}}},
		{name: "empty_body", body: "", err: "request body is required"},
		{name: "no_final_newline", body: `{"index":{"_index":"a"}}` + "\n{}", err: "terminated by a newline"},
		{name: "unknown_action", body: `{"upsert":{"_index":"a"}}` + "\n{}\n", err: "line [1], expected one of [create, delete, index, update] but found [upsert]"},
		{name: "not_an_object", body: "{}\n" + `["index"]` + "\n", err: "line [1], expected FIELD_NAME but found [END_OBJECT]"},
		{name: "array_line", body: `["index"]` + "\n", err: "line [1], expected START_OBJECT but found [START_ARRAY]"},
		{name: "two_actions_on_a_line", body: `{"index":{},"delete":{}}` + "\n{}\n", defaultIndex: "a", err: "line [1], expected END_OBJECT"},
		{name: "metadata_not_an_object", body: `{"index":"a"}` + "\n{}\n", err: "line [1], the metadata of [index] is not an object"},
		{name: "index_missing", body: `{"index":{}}` + "\n{}\n", err: "index is missing"},
		{name: "id_missing_for_delete", body: `{"delete":{"_index":"a"}}` + "\n", err: "id is missing for the delete on line 1"},
		{name: "error_names_the_line", body: `{"index":{"_index":"a"}}` + "\n{}\n" + `{"index":{"_index":"a"}} x` + "\n{}\n", err: "line [3]"},
		{name: "only_blank_lines", body: "\n\n", err: "request body is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e := parseBulk([]byte(tt.body), tt.defaultIndex)
			if tt.err != "" {
				if e == nil || !strings.Contains(e.reason, tt.err) || e.status != 400 {
					t.Fatalf("error %+v, want a 400 with %q", e, tt.err)
				}
				return
			}
			if e != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v %v, want %+v", got, e, tt.want)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{"a": `"a"`, `q"b\`: `"q\"b\\"`, "\n\x01": `"\u000a\u0001"`, "é€": `"é€"`, "\xff": "\"\uFFFD\""} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}
