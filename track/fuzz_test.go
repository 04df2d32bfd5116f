package track

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad writes the input as track.json next to a small index body and an
// operations file, and loads it: whatever the input, Load must return a
// track or an error, never panic.
func FuzzLoad(f *testing.F) {
	for _, name := range sharedTracks {
		if b, err := os.ReadFile(filepath.Join(sharedTrackPath(name), "track.json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(parallelTrack))
	f.Add([]byte(minimalTrack(`"schedule": [{"operation": "query", "clients": "four"}]`)))
	f.Add([]byte(`{% import "rally.helpers" as rally with context %}{"operations": [{{ rally.collect(parts="operations/*.json") }}], "schedule": [{"operation": "q"}]}`))
	f.Add([]byte(`{"x": {{ rally.collect(parts="*.json") }}}`))
	f.Add([]byte(`{% if x %}{"a": 1`))
	f.Add([]byte(`{"indices": [{"name": "i", "body": "index.json"}], "schedule": [{"operation": "refresh", "target-throughput": "1 docs/s"}]}`))
	dir := fuzzDir(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoadOnce(t, dir, data)
	})
}

func fuzzDir(t testing.TB) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "operations"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"settings": {"n": {{ n | default(1) }}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "operations", "q.json"), []byte(`{"name": "q", "operation-type": "search", "size": {{ size | default(10) }}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fuzzLoadOnce(t *testing.T, dir string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, "track.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Load(LoadOptions{Path: dir, Now: fixedNow, Params: map[string]any{"n": int64(2)}, AllowUnusedParams: true, TestMode: len(data)%2 == 0})
	if err != nil {
		if err.Error() == "" {
			t.Error("empty error message")
		}
		return
	}
	for i := range tr.Challenges {
		c := &tr.Challenges[i]
		tr.CustomRequirements(c)
		for _, s := range c.Schedule {
			for _, task := range s.Tasks {
				if task.Clients < 1 {
					t.Errorf("task %s has %d clients", task.Name, task.Clients)
				}
			}
		}
		var buf bytes.Buffer
		if err := Describe(&buf, tr, c, checkWith(tr), len(data)%3 == 0); err != nil {
			t.Error(err)
		}
	}
}

// FuzzParseParams: never panic; a successful parse gives a map.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"", "a:1", "bulk_size:500,ratio:0.25,x:'y',z:none,t:TRUE", `{"a": {"b": [1, 2.5]}}`, "a:b:c", "{", "'", "a:'", "a:1_0", "a:1e999", "a:-inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if filepath.Ext(s) != "" && len(s) < 256 {
			if _, err := os.Stat(s); err == nil {
				return // do not read whatever file the fuzzer names
			}
		}
		m, err := ParseParams(s)
		if err == nil && m == nil {
			t.Errorf("ParseParams(%q) = nil, nil", s)
		}
	})
}

// FuzzParseJSON checks the position-keeping JSON parser against
// encoding/json: both accept the same inputs and decode the same values.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1, -2.5e3, "x\u00e9\n", true, null, {"a": [[]]}]`, `{"a": 1,}`, `[1 2]`, `"\ud800"`, "\"\xff\"", `01`, `{"a":1}{}`, ` `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseJSON(string(data))
		valid := json.Valid(data)
		if (err == nil) != valid {
			t.Fatalf("parseJSON error %v, json.Valid %v for %q", err, valid, data)
		}
		if err != nil {
			var se *jsonSyntaxError
			if !errors.As(err, &se) || se.off < 0 || se.off > len(data) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := n.value(); !reflect.DeepEqual(got, want) {
			t.Fatalf("parseJSON = %#v, encoding/json = %#v", got, want)
		}
	})
}
