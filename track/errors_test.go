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

	t.Run("JSON error in an included file names that file, its line and column", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
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
		// Rendered, operations/q.json's line 4 is line 8 of the track.
		if te.File != filepath.Join(dir, "operations", "q.json") || te.Line != 4 || te.Col != 3 {
			t.Errorf("position %s:%d:%d, want operations/q.json:4:3", te.File, te.Line, te.Col)
		}
		want := "invalid JSON: expecting ',' or '}' after the value of \"operation-type\", found '\"'\n" +
			"  4 |   \"body\": {}\n" +
			"    |   ^"
		if te.Msg != want {
			t.Errorf("message:\n%s\nwant:\n%s", te.Msg, want)
		}
	})

	t.Run("JSON error in templated text shows the rendered line too", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{% import "rally.helpers" as rally with context %}
{"operations": [{{ rally.collect(parts="ops/*.json") }}], "schedule": [{"operation": "q"}]}`,
			"ops/q.json": `{% set fields = ["a", "b"] %}
{
  "name": "q",
  "operation-type": "search",
  "fields": [{% for f in fields %}"{{ f }}" {% endfor %}]
}`,
		})
		if te.File != filepath.Join(dir, "ops", "q.json") || te.Line != 5 || te.Col != 35 {
			t.Errorf("position %s:%d:%d, want ops/q.json:5:35 (the quote the loop writes)", te.File, te.Line, te.Col)
		}
		for _, want := range []string{"rendered by the template as:", `"fields": ["a" "b" ]`} {
			if !strings.Contains(te.Msg, want) {
				t.Errorf("message lacks %q:\n%s", want, te.Msg)
			}
		}
	})

	t.Run("bad value in an included file names that file and the value", func(t *testing.T) {
		dir := writeTrack(t, map[string]string{
			"track.json": `{% import "rally.helpers" as rally with context %}
{
  "version": 2,
  "operations": [
    {{ rally.collect(parts="operations/*.json") }}
  ],
  "challenges": [
    {{ rally.collect(parts="challenges/*.json") }}
  ]
}`,
			"operations/q.json": `{
  "name": "q",
  "operation-type": "search",
  "include-in-reporting": "yes"
}`,
			"challenges/c.json": `{
  "name": "c",
  "schedule": [
    {"operation": "q", "clients": {{ clients | default("four") | tojson }}}
  ]
}`,
		})
		_, err := Load(LoadOptions{Path: dir, Now: fixedNow})
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 2 {
			t.Fatalf("err = %v, want two errors", err)
		}
		want := []string{
			filepath.Join(dir, "operations", "q.json") + `:4:27: operations[0].include-in-reporting: want true or false, got "yes"`,
			filepath.Join(dir, "challenges", "c.json") + `:4:35: challenges[0].schedule[0].clients: want a positive integer, got "four"`,
		}
		for i, e := range list {
			if e.Error() != want[i] {
				t.Errorf("error %d:\n got %s\nwant %s", i, e, want[i])
			}
		}
	})

	t.Run("a value made by a macro is found in the macro", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{% macro task(name, clients) -%}
  {"operation": "{{ name }}",
   "clients": {{ clients }}}
{%- endmacro %}
{"schedule": [
  {{ task("refresh", 1) }},
  {{ task("refresh", 0) }}
]}`,
		})
		if te.File != filepath.Join(dir, "track.json") || te.Line != 3 || te.Col != 15 || te.Path != "schedule[1].clients" {
			t.Errorf("error = %v, want track.json:3:15 (the macro's {{ clients }})", te)
		}
	})

	t.Run("text captured by a set block still gets positions", func(t *testing.T) {
		te, dir := loadErr(t, map[string]string{
			"track.json": `{% set kind %}refresh{% endset %}
{"schedule": [
  {% if kind == "refresh" %}{"operation": "refresh", "clients": -1}{% endif %}
]}`,
		})
		if te.File != filepath.Join(dir, "track.json") || te.Line != 3 || te.Col != 65 {
			t.Errorf("error = %v, want track.json:3:65", te)
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
