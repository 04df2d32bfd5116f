package track

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func loadErr(t *testing.T, files map[string]string) (*Error, string) {
	t.Helper()
	dir := writeTrack(t, files)
	_, err := Load(LoadOptions{Path: dir, Now: fixedNow})
	if err == nil {
		t.Fatal("Load succeeded")
	}
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want a *track.Error", err, err)
	}
	return te, dir
}

func TestError_String(t *testing.T) {
	cases := []struct {
		err  Error
		want string
	}{
		{Error{File: "track.json", Line: 42, Col: 17, Path: "challenges[0].schedule[3].clients", Msg: `want a positive integer, got "four"`},
			`track.json:42:17: challenges[0].schedule[3].clients: want a positive integer, got "four"`},
		{Error{File: "ops.json", Line: 3, Msg: "template error: x"}, "ops.json:3: template error: x"},
		{Error{File: "track.json", Msg: "cannot read"}, "track.json: cannot read"},
		{Error{Msg: "bare"}, "bare"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}

func TestError_positions(t *testing.T) {
	t.Run("schema error points at the value in the rendered track", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{"track.json": `{
  "version": 2,
  "challenges": [
    {"name": "c", "schedule": [
      {"operation": "refresh"},
      {"operation": "refresh", "name": "b"},
      {"operation": "refresh", "name": "c"},
      {"operation": "refresh", "name": "d",
       "clients": "four"}
    ]}
  ]
}`})
		want := filepath.Join(dir, "track.json") + `:9:19: challenges[0].schedule[3].clients: want a positive integer, got "four"`
		if te.Error() != want {
			t.Errorf("got  %s\nwant %s", te.Error(), want)
		}
	})

	t.Run("JSON error gives line, column and the line", func(t *testing.T) {
		te, _ := loadErr(t, map[string]string{
			"track.json": `{% import "rally.helpers" as rally with context %}
{
  "version": 2,
  "operations": [
    {{ rally.collect(parts="operations/*.json") }}
  ],
  "schedule": [{"operation": "q"}]
}`,
			"operations/q.json": `{
  "name": "q",
  "operation-type": "search"
  "body": {}
}`,
		})
		// Rendered: the import line renders empty, operations/q.json starts
		// on line 5; its line 4 ("body") is rendered line 8.
		if te.Line != 8 || te.Col != 3 || !strings.HasSuffix(te.File, "track.json") {
			t.Errorf("position %s:%d:%d", te.File, te.Line, te.Col)
		}
		for _, want := range []string{`expecting ',' or '}' after the value of "operation-type", found '"'`, `8 |   "body": {}`, "^",
			"comes from " + filepath.Join("operations", "q.json") + ":4"} {
			if !strings.Contains(te.Msg, want) {
				t.Errorf("message lacks %q:\n%s", want, te.Msg)
			}
		}
	})

	t.Run("template syntax error names the collected file and its line", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{% import "rally.helpers" as rally with context %}
{
  "version": 2,
  "challenges": [
    {{ rally.collect(parts="challenges/*.json") }}
  ]
}`,
			"challenges/a.json": `{"name": "a", "default": true, "schedule": [{"operation": "refresh"}]}`,
			"challenges/b.json": `{
  "name": "b",
  "schedule": [
    {% if x %}
    {"operation": "refresh"}
  ]
}`,
		})
		if te.File != filepath.Join(dir, "challenges", "b.json") {
			t.Errorf("file = %s, want challenges/b.json", te.File)
		}
		if te.Line != 4 || te.Col != 5 || !strings.Contains(te.Msg, "{% if %} is never closed") || !strings.Contains(te.Msg, "endif") {
			t.Errorf("error = %v", te)
		}
	})

	t.Run("template syntax error with a column", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{"track.json": "{\n  \"version\": 2,\n  \"x\": {{ 1 + }}\n}"})
		if te.File != filepath.Join(dir, "track.json") || te.Line != 3 || te.Col != 15 {
			t.Errorf("error = %v, want track.json:3:15", te)
		}
	})

	t.Run("template runtime error names file and line", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{% import "rally.helpers" as rally with context %}
{
  "operations": [{{ rally.collect(parts="ops.json") }}],
  "schedule": [{"operation": "x"}]
}`,
			"ops.json": `{"name": "x",
 "operation-type": "search",
 "size": {{ size | no_such_filter }}}`,
		})
		if te.File != filepath.Join(dir, "ops.json") || te.Line != 3 || !strings.Contains(te.Msg, "no_such_filter") {
			t.Errorf("error = %v", te)
		}
	})

	t.Run("index body errors name the body file", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{"indices": [{"name": "a", "body": "index.json"}], "schedule": [{"operation": "refresh"}]}`,
			"index.json": "{\n  \"settings\": {\n    \"index.number_of_shards\": {{ shards | default(1) }},\n  }\n}",
		})
		if te.File != filepath.Join(dir, "index.json") || te.Line != 4 || te.Col != 3 || !strings.Contains(te.Msg, "trailing comma") {
			t.Errorf("error = %v", te)
		}
	})

	t.Run("collect of a missing directory is a warning", func(t *testing.T) {
		dir := writeTrack(t, map[string]string{"track.json": `{% import "rally.helpers" as rally with context %}
{"operations": [{{ rally.collect(parts="nothing/*.json") }}], "schedule": [{"operation": "refresh"}]}`})
		tr, err := Load(LoadOptions{Path: dir, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], `track.json:2:17: rally.collect(parts="nothing/*.json") matched no file`) {
			t.Errorf("warnings = %q", tr.Warnings)
		}
	})

	t.Run("a file collecting itself is stopped", func(t *testing.T) {
		te, _ := loadErr(t, map[string]string{"track.json": `{"x": [{{ rally.collect(parts="*.json") }}]}`})
		if !strings.Contains(te.Msg, "nested more than") {
			t.Errorf("error = %v", te)
		}
	})
}

func TestError_lexer_error_has_a_position(t *testing.T) {
	te, dir := loadErr(t, map[string]string{"track.json": "{\n  \"a\": 1{% set t = (x | d(v} %}\n}"})
	if te.File != filepath.Join(dir, "track.json") || te.Line != 2 || !strings.Contains(te.Msg, "Unbalanced delimiters") {
		t.Errorf("error = %v", te)
	}
}
