package track

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s", path, got)
	}
}

// parallelTrack exercises the parts of Describe the shared tracks do not:
// parallel blocks, templates, data streams, poisson schedules, custom
// runners.
const parallelTrack = `{
  "description": "Parallel blocks and templates",
  "data-streams": [{"name": "logs-app"}],
  "composable-templates": [{"name": "logs", "index-pattern": "logs-*", "template": "tpl.json"}],
  "component-templates": [{"name": "base", "template": "tpl.json"}],
  "corpora": [{"name": "logs", "documents": [
    {"source-file": "logs.json.zst", "document-count": 1234567, "compressed-bytes": 1048576},
    {"source-file": "more.json", "document-count": 100, "includes-action-and-meta-data": true}
  ]}],
  "operations": [
    {"name": "ingest", "operation-type": "bulk", "bulk-size": 1000},
    {"name": "query", "operation-type": "search", "param-source": "random-queries"}
  ],
  "challenges": [{
    "name": "mixed", "description": "Index and search at once.", "user-info": "Needs a track.py.",
    "schedule": [
      {"operation": {"operation-type": "create-data-stream", "data-stream": "logs-app"}},
      {"parallel": {"completed-by": "ingest", "warmup-time-period": 30, "ramp-up-time-period": 10, "tasks": [
        {"operation": "ingest", "clients": 8, "target-throughput": "5000 docs/s"},
        {"name": "searches", "operation": "query", "clients": 4, "target-throughput": 40, "schedule": "poisson", "time-period": 600},
        {"name": "custom", "operation": {"operation-type": "my-runner"}}
      ]}},
      {"parallel": {"clients": 2, "tasks": [{"name": "q1", "operation": "query", "iterations": 10}, {"name": "q2", "operation": "query", "target-interval": 4}]}}
    ]
  }]
}`

func loadParallelTrack(t *testing.T) *Track {
	dir := writeTrack(t, map[string]string{"parallel/track.json": parallelTrack, "parallel/tpl.json": `{"template": {}}`})
	return mustLoad(t, LoadOptions{Path: filepath.Join(dir, "parallel")})
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		name, golden string
		load         func(t *testing.T) *Track
		challenge    string
		asJSON       bool
	}{
		{"nested default challenge", "describe-nested.golden", func(t *testing.T) *Track {
			return mustLoad(t, LoadOptions{Path: sharedTrackPath("nested")})
		}, "", false},
		{"nested as JSON", "describe-nested.json.golden", func(t *testing.T) *Track {
			return mustLoad(t, LoadOptions{Path: sharedTrackPath("nested")})
		}, "", true},
		{"percolator in test mode with params", "describe-percolator-testmode.golden", func(t *testing.T) *Track {
			return mustLoad(t, LoadOptions{Path: sharedTrackPath("percolator"), TestMode: true,
				Params: map[string]any{"bulk_indexing_clients": int64(2), "cluster_health": "yellow"}})
		}, "append-no-conflicts", false},
		{"parallel blocks", "describe-parallel.golden", func(t *testing.T) *Track {
			return loadParallelTrack(t)
		}, "", false},
		{"parallel blocks as JSON", "describe-parallel.json.golden", func(t *testing.T) *Track {
			return loadParallelTrack(t)
		}, "", true},
		{"the tiny example", "describe-tiny.golden", func(t *testing.T) *Track {
			return mustLoad(t, LoadOptions{Path: filepath.Join("..", "examples", "tracks", "tiny")})
		}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.load(t)
			c := mustChallenge(t, tr, tc.challenge)
			var buf bytes.Buffer
			if err := Describe(&buf, tr, c, checkWith(tr), tc.asJSON); err != nil {
				t.Fatal(err)
			}
			// The golden files must not depend on where the track lies.
			out := strings.ReplaceAll(buf.String(), tr.Dir, "/tracks/"+tr.Name)
			golden(t, tc.golden, []byte(out))
		})
	}
}

func TestDescribe_all_challenges_and_requirements(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("http_logs")})
	var buf bytes.Buffer
	if err := Describe(&buf, tr, nil, checkWith(tr), false); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(strings.Fields(buf.String()), " ") // alignment aside
	if n := strings.Count(out, " Challenge "); n != len(tr.Challenges) {
		t.Errorf("%d challenges described, want %d", n, len(tr.Challenges))
	}
	for _, want := range []string{"Challenge append-no-conflicts (default)", "logs-181998 body index.json", "needs track.py runner: reindex",
		"documents-181998.json.bz2 2,708,746 13.2 MB 346.7 MB -> logs-181998"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	buf.Reset()
	if err := Describe(&buf, tr, nil, checkWith(tr), true); err != nil {
		t.Fatal(err)
	}
	var d DescribeJSON
	if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Challenges) != len(tr.Challenges) || len(d.Indices) != 8 || d.Documents != 247249096 {
		t.Errorf("JSON: %d challenges, %d indices, %d documents", len(d.Challenges), len(d.Indices), d.Documents)
	}
	var needs []Requirement
	for _, c := range d.Challenges {
		needs = append(needs, c.Requirements...)
	}
	if len(needs) != 1 || needs[0].Name != "reindex" {
		t.Errorf("requirements = %v", needs)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestDescribe_reports_write_errors(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("so")})
	for _, asJSON := range []bool{false, true} {
		if err := Describe(failingWriter{}, tr, nil, checkWith(tr), asJSON); err == nil {
			t.Errorf("asJSON=%v: no error", asJSON)
		}
	}
}
