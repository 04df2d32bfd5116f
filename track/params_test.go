package track

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	cases := []struct {
		name, in string
		want     map[string]any
	}{
		{"empty", "  ", map[string]any{}},
		{"integers and floats", "bulk_size:500,ratio:0.25,exp:1e3,neg:-7,under:1_000,lead:007",
			map[string]any{"bulk_size": int64(500), "ratio": 0.25, "exp": 1000.0, "neg": int64(-7), "under": int64(1000), "lead": int64(7)}},
		{"booleans in any case", "a:true,b:False,c:TRUE", map[string]any{"a": true, "b": false, "c": true}},
		{"none is nil", "x:none,y:None", map[string]any{"x": nil, "y": nil}},
		{"single quotes force a string", "n:'500',s:'append',e:''", map[string]any{"n": "500", "s": "append", "e": ""}},
		{"anything else is a string", `mode:append,q:"x",path:/tmp/x`, map[string]any{"mode": "append", "q": `"x"`, "path": "/tmp/x"}},
		{"blanks around keys and values are trimmed", " a : 1 , b:  two ", map[string]any{"a": int64(1), "b": "two"}},
		{"an empty value is an empty string", "a:", map[string]any{"a": ""}},
		{"inline JSON", `{"index_settings": {"index.refresh_interval": "5s"}, "n": 3, "f": 1.5}`,
			map[string]any{"index_settings": map[string]any{"index.refresh_interval": "5s"}, "n": int64(3), "f": 1.5}},
		{"a huge integer becomes a float", "big:123456789012345678901234", map[string]any{"big": 1.2345678901234568e23}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseParams(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseParams(%q) = %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}

	inf, err := ParseParams("x:inf,y:nan")
	if err != nil || !math.IsInf(inf["x"].(float64), 1) || !math.IsNaN(inf["y"].(float64)) {
		t.Errorf("inf/nan (Python's float() accepts them) = %v, %v", inf, err)
	}

	for _, bad := range []string{"a:b:c", "novalue", "a:1,,b:2", ":1", "[1,2]", "5", `{"a": 1} x`} {
		if got, err := ParseParams(bad); err == nil {
			t.Errorf("ParseParams(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseParams_files(t *testing.T) {
	dir := writeTrack(t, map[string]string{
		"p.json":   `{"bulk_size": 100, "nested": {"a": [1, 2.5, "x"]}}`,
		"p.yaml":   "bulk_size: 100\nnested:\n  a: [1, 2.5, x]\n",
		"bad.json": `[1]`,
		"bad.yml":  "- 1\n",
	})
	want := map[string]any{"bulk_size": int64(100), "nested": map[string]any{"a": []any{int64(1), 2.5, "x"}}}
	for _, f := range []string{"p.json", "p.yaml"} {
		got, err := ParseParams(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v\nwant %#v", f, got, want)
		}
	}
	for _, f := range []string{"bad.json", "bad.yml", "missing.json"} {
		if _, err := ParseParams(filepath.Join(dir, f)); err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: err = %v", f, err)
		}
	}
}

func TestParseParams_feed_the_templates(t *testing.T) {
	p, err := ParseParams("bulk_indexing_clients:3,cluster_health:'yellow',source_enabled:false")
	if err != nil {
		t.Fatal(err)
	}
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), Params: p})
	c := mustChallenge(t, tr, "")
	if got := findTask(t, c, "index-append").Clients; got != 3 {
		t.Errorf("clients = %d", got)
	}
	rp := findTask(t, c, "check-cluster-health").Operation.Params["request-params"].(map[string]any)
	if rp["wait_for_status"] != "yellow" {
		t.Errorf("wait_for_status = %v", rp["wait_for_status"])
	}
	if !strings.Contains(string(tr.Indices[0].Body), `"enabled":false`) {
		t.Errorf("body = %s", tr.Indices[0].Body)
	}
}
