package track

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestRender_matches_jinja2 renders the shared tracks with several
// parameter sets and compares the decoded JSON with what Python's Jinja2
// renders from the same sources (testdata/jinja2, made by
// render_reference.py): gonja must behave like Jinja2 on real tracks.
func TestRender_matches_jinja2(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "jinja2", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]struct {
		Track       string          `json:"track"`
		Params      json.RawMessage `json:"params"`
		BuildFlavor string          `json:"build_flavor"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(cases) {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			params, err := ParseParams(string(tc.Params))
			if err != nil {
				t.Fatal(err)
			}
			tr := mustLoad(t, LoadOptions{Path: sharedTrackPath(tc.Track), Params: params, BuildFlavor: tc.BuildFlavor, AllowUnusedParams: true})
			ref, err := os.ReadFile(filepath.Join("testdata", "jinja2", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Track  any            `json:"track"`
				Bodies map[string]any `json:"bodies"`
			}
			if err := json.Unmarshal(ref, &want); err != nil {
				t.Fatal(err)
			}
			var got any
			if err := json.Unmarshal([]byte(tr.Rendered), &got); err != nil {
				t.Fatal(err)
			}
			if path, g, w := firstDifference("", got, want.Track); path != "" {
				t.Errorf("rendered track.json differs from Jinja2's at %s: got %v, want %v", path, g, w)
			}
			bodies := map[string]any{}
			for _, idx := range tr.Indices {
				var b any
				if err := json.Unmarshal(idx.Body, &b); err != nil {
					t.Fatal(err)
				}
				bodies[idx.Name] = b
			}
			if path, g, w := firstDifference("", any(bodies), any(want.Bodies)); path != "" {
				t.Errorf("index bodies differ from Jinja2's at %s: got %v, want %v", path, g, w)
			}
		})
	}
}

// firstDifference returns the path of the first difference between two
// decoded JSON values ("" when equal).
func firstDifference(path string, got, want any) (string, any, any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return orRoot(path), got, want
		}
		for _, k := range sortedKeys(w) {
			if p, a, b := firstDifference(path+"."+k, g[k], w[k]); p != "" {
				return p, a, b
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return path + "." + k, g[k], nil
			}
		}
		return "", nil, nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return orRoot(path), got, want
		}
		for i := range w {
			if p, a, b := firstDifference(path+"["+strconv.Itoa(i)+"]", g[i], w[i]); p != "" {
				return p, a, b
			}
		}
		return "", nil, nil
	default:
		if !reflect.DeepEqual(got, want) {
			return orRoot(path), got, want
		}
		return "", nil, nil
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func TestRender_helpers_and_filters(t *testing.T) {
	cases := []struct {
		name, template string
		params         map[string]any
		want           string
	}{
		{"exists_set_param with a defined value", `{"a": 1 {{ rally.exists_set_param("b", b) }} }`, map[string]any{"b": map[string]any{"x": int64(1)}}, `{"a":1,"b":{"x":1}}`},
		{"exists_set_param without the value", `{"a": 1 {{ rally.exists_set_param("b", b) }} }`, nil, `{"a":1}`},
		{"exists_set_param with a default and no comma", `{ {{ rally.exists_set_param("b", b, default_value=5, comma=False) }} }`, nil, `{"b":5}`},
		{"is defined on params", `{"x": {% if p is defined %}"yes"{% else %}"no"{% endif %}, "y": {% if not q is defined %}true{% else %}false{% endif %}}`, map[string]any{"p": int64(0)}, `{"x":"yes","y":true}`},
		{"default, tojson, int", `{"a": {{ missing | default({"k": [1, 2]}) | tojson }}, "b": {{ "42" | int }}, "c": {{ s | tojson }}}`, map[string]any{"s": "it's <b>"}, `{"a":{"k":[1,2]},"b":42,"c":"it's \u003cb\u003e"}`},
		{"days_ago with now", `{"d": {{ "25-12-2025" | days_ago(now) }}, "e": {{ "2025-12-30" | days_ago(now, "%Y-%m-%d") }}}`, nil, `{"d":7,"e":2}`},
		{"get_start_date and get_end_date", `{"s": "{{ now | get_start_date }}", "e": "{{ now | get_end_date(3, "%Y/%m/%d") }}"}`, nil, `{"e":"2026/01/04","s":"2026-01-01"}`},
		{"set, for and loop", `{% set xs = [1, 2, 3] %}[{% for x in xs %}{{ x * n }}{% if not loop.last %},{% endif %}{% endfor %}]`, map[string]any{"n": int64(2)}, `[2,4,6]`},
		{"build flavor global", `{"f": "{{ build_flavor }}", "s": {{ serverless_operator | tojson }}}`, nil, `{"f":"default","s":false}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := `{% import "rally.helpers" as rally with context %}` + "\n" + tc.template
			// Render through a throw-away track so the whole path is used.
			dir := writeTrack(t, map[string]string{"track.json": `{"indices": [{"name": "i", "body": "body.json"}], "schedule": [{"operation": "refresh"}]}`, "body.json": src})
			tr, err := Load(LoadOptions{Path: dir, Params: tc.params, Now: fixedNow, AllowUnusedParams: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tr.Indices[0].Body); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDates(t *testing.T) {
	for _, tc := range []struct {
		value, format string
		want          time.Time
	}{
		{"15-05-1998", "%d-%m-%Y", time.Date(1998, 5, 15, 0, 0, 0, 0, time.UTC)},
		{"5-1-1998", "%d-%m-%Y", time.Date(1998, 1, 5, 0, 0, 0, 0, time.UTC)},
		{"1998-05-15T13:04:05.25Z", "%Y-%m-%dT%H:%M:%S.%f%z", time.Date(1998, 5, 15, 13, 4, 5, 250000000, time.UTC)},
		{"Mar 3 99 01:00 PM", "%b %d %y %I:%M %p", time.Date(1999, 3, 3, 13, 0, 0, 0, time.UTC)},
		{"2020-10-01+0200", "%Y-%m-%d%z", time.Date(2020, 10, 1, 0, 0, 0, 0, time.FixedZone("", 7200))},
	} {
		got, err := strptime(tc.value, tc.format)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("strptime(%q, %q) = %v, %v; want %v", tc.value, tc.format, got, err, tc.want)
		}
	}
	for _, bad := range [][2]string{{"31-02-2020", "%d-%m-%Y"}, {"2020", "%Y-%m"}, {"2020-01x", "%Y-%m"}, {"1", "%Q"}, {"+01", "%z"}} {
		if _, err := strptime(bad[0], bad[1]); err == nil {
			t.Errorf("strptime(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	s, err := strftime(time.Date(2024, 2, 9, 7, 5, 3, 0, time.UTC), "%Y%m%d %H:%M:%S %a %B %j %I%p %%")
	if err != nil || s != "20240209 07:05:03 Fri February 040 07AM %" {
		t.Errorf("strftime = %q, %v", s, err)
	}
	if d := daysBetween(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)); d != -1 {
		t.Errorf("daysBetween rounds toward -inf like Python's timedelta.days: got %d", d)
	}
}

func TestRender_collect_macro_fallback(t *testing.T) {
	// Single quotes do not match Rally's inlining expression; the
	// rally.collect macro (glob + include) renders the parts instead, with
	// paths relative to the track directory, as in Rally.
	tr := mustLoadString(t, `{% import "rally.helpers" as rally with context %}
{% set size = 7 %}
{"operations": [{{ rally.collect(parts='ops/*.json') }}], "schedule": [{"operation": "a"}, {"operation": "b"}]}`,
		"ops/a.json", `{"name": "a", "operation-type": "search", "size": {{ size }}}`,
		"ops/b.json", `{"name": "b", "operation-type": "search"}`)
	if len(tr.Operations) != 2 || tr.Operations[0].Params["size"] != jsonNumber("7") {
		t.Errorf("operations = %+v", tr.Operations)
	}
}
