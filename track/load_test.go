package track

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixedNow pins the template global `now` so renders are reproducible.
var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var sharedTracks = []string{"geonames", "http_logs", "nested", "percolator", "so"}

func sharedTrackPath(name string) string { return filepath.Join("testdata", "rally-tracks", name) }

func mustLoad(t *testing.T, opts LoadOptions) *Track {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = fixedNow
	}
	tr, err := Load(opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", opts.Path, err)
	}
	return tr
}

func mustChallenge(t *testing.T, tr *Track, name string) *Challenge {
	t.Helper()
	c, err := tr.Challenge(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// findTask returns the task with this name in a challenge.
func findTask(t *testing.T, c *Challenge, name string) Task {
	t.Helper()
	for _, s := range c.Schedule {
		for _, task := range s.Tasks {
			if task.Name == name {
				return task
			}
		}
	}
	t.Fatalf("challenge %s has no task %q", c.Name, name)
	return Task{}
}

// writeTrack writes files (name -> content) into a new directory.
func writeTrack(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad_shared_tracks_render_for_every_challenge(t *testing.T) {
	for _, name := range sharedTracks {
		t.Run(name, func(t *testing.T) {
			tr := mustLoad(t, LoadOptions{Path: sharedTrackPath(name)})
			if tr.Name != name || tr.SchemaVersion != 2 || tr.Description == "" {
				t.Errorf("name %q version %d description %q", tr.Name, tr.SchemaVersion, tr.Description)
			}
			if !filepath.IsAbs(tr.Dir) || filepath.Base(tr.Dir) != name {
				t.Errorf("Dir = %q, want an absolute path ending in %s", tr.Dir, name)
			}
			if len(tr.Indices) == 0 || len(tr.Corpora) == 0 || len(tr.Operations) == 0 || len(tr.Challenges) == 0 {
				t.Fatalf("indices %d corpora %d operations %d challenges %d", len(tr.Indices), len(tr.Corpora), len(tr.Operations), len(tr.Challenges))
			}
			for _, idx := range tr.Indices {
				if len(idx.Body) == 0 || !strings.Contains(string(idx.Body), `"mappings"`) {
					t.Errorf("index %s: body %.60s", idx.Name, idx.Body)
				}
			}
			defaults := 0
			for _, c := range tr.Challenges {
				got := mustChallenge(t, tr, c.Name)
				if got.Name != c.Name || len(got.Schedule) == 0 {
					t.Errorf("challenge %s: %d steps", c.Name, len(got.Schedule))
				}
				if c.Default {
					defaults++
				}
				for _, s := range c.Schedule {
					for _, task := range s.Tasks {
						if task.Name == "" || task.Clients < 1 || task.Operation.Type == "" {
							t.Errorf("challenge %s: bad task %+v", c.Name, task)
						}
					}
				}
			}
			if defaults != 1 {
				t.Errorf("%d default challenges, want 1", defaults)
			}
			if len(tr.Warnings) != 0 {
				t.Errorf("warnings: %v", tr.Warnings)
			}
		})
	}
}

func TestLoad_http_logs(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("http_logs")})
	var names []string
	for _, idx := range tr.Indices {
		names = append(names, idx.Name)
	}
	want := []string{"logs-181998", "logs-191998", "logs-201998", "logs-211998", "logs-221998", "logs-231998", "logs-241998", "reindexed-logs"}
	if !slices.Equal(names, want) {
		t.Errorf("indices = %v, want %v", names, want)
	}
	if len(tr.Corpora) != 1 || tr.Corpora[0].Name != "http_logs" || len(tr.Corpora[0].Documents) != 7 {
		t.Fatalf("corpora = %+v", tr.Corpora)
	}
	d := tr.Corpora[0].Documents[0]
	if d.TargetIndex != "logs-181998" || d.SourceFile != "documents-181998.json.bz2" || d.DocumentFile != "documents-181998.json" ||
		d.DocumentArchive != "documents-181998.json.bz2" || d.DocumentCount != 2708746 || d.BaseURL != "https://rally-tracks.elastic.co/http_logs" {
		t.Errorf("first documents = %+v", d)
	}
	c := mustChallenge(t, tr, "")
	if c.Name != "append-no-conflicts" || !c.Default {
		t.Errorf("default challenge = %s", c.Name)
	}
	// The collected common/default-schedule.json is inlined relative to the
	// challenges directory.
	term := findTask(t, c, "term")
	if term.TargetThroughput != 50 || term.WarmupIterations != 500 || term.Iterations != 100 || !slices.Equal(term.Tags, []string{"search"}) {
		t.Errorf("term = %+v", term)
	}
	// days_ago(now) rendered with the pinned clock.
	rng := findTask(t, c, "range")
	body := rng.Operation.Params["body"].(map[string]any)
	gte := body["query"].(map[string]any)["range"].(map[string]any)["@timestamp"].(map[string]any)["gte"]
	if gte != "now-10093d/d" { // 1998-05-15 to 2026-01-01
		t.Errorf("range gte = %v", gte)
	}
	reindexChallenge := mustChallenge(t, tr, "append-no-conflicts-index-reindex-only")
	reqs := tr.CustomRequirements(reindexChallenge)
	if len(reqs) != 1 || reqs[0] != (Requirement{Task: "reindex", Operation: "reindex", Kind: "runner", Name: "reindex"}) {
		t.Errorf("requirements = %+v", reqs)
	}
	if r := tr.CustomRequirements(c); len(r) != 0 {
		t.Errorf("default challenge needs %v", r)
	}
	esql := findTask(t, mustChallenge(t, tr, "esql-queries"), "esql_term")
	if esql.Operation.CustomRunner || esql.Operation.Type != "esql" {
		t.Errorf("esql operation = %+v", esql.Operation)
	}
}

func TestLoad_nested(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested")})
	c := mustChallenge(t, tr, "")
	if c.Name != "nested-search-challenge" {
		t.Fatalf("default challenge = %s", c.Name)
	}
	q := findTask(t, c, "randomized-nested-queries")
	if q.Clients != 2 || q.TargetThroughput != 20 || q.TargetThroughputUnit != "ops/s" || q.WarmupIterations != 500 || q.Iterations != 1000 ||
		q.Schedule != ScheduleDeterministic || !q.IncludeInReporting {
		t.Errorf("randomized-nested-queries = %+v", q)
	}
	if q.Operation.ParamSource != "nested-query-source" || q.Operation.Type != "search" || q.Operation.CustomRunner {
		t.Errorf("operation = %+v", q.Operation)
	}
	bulk := findTask(t, c, "index-append")
	if bulk.Clients != 4 || bulk.WarmupTimePeriod != 120*time.Second || bulk.TimePeriod != time.Hour ||
		bulk.IgnoreResponseErrorLevel != "non-fatal" || bulk.Operation.Type != "bulk" {
		t.Errorf("index-append = %+v", bulk)
	}
	if got := bulk.Operation.Params["bulk-size"]; got != jsonNumber("5000") {
		t.Errorf("bulk-size = %#v", got)
	}
	wait := findTask(t, c, "wait-until-merges-finish")
	if wait.IncludeInReporting || wait.Operation.Type != "index-stats" {
		t.Errorf("wait-until-merges-finish: include-in-reporting %v (the inline operation says false)", wait.IncludeInReporting)
	}
	del := findTask(t, c, "delete-index")
	if del.IncludeInReporting || !del.Operation.Admin || del.Operation.Params != nil {
		t.Errorf("delete-index = %+v (admin operations are not reported by default)", del)
	}
	health := findTask(t, c, "check-cluster-health")
	rp := health.Operation.Params["request-params"].(map[string]any)
	if rp["wait_for_status"] != "green" || health.Operation.Params["retry-until-success"] != true {
		t.Errorf("cluster-health params = %v", health.Operation.Params)
	}
	var sources []string
	for _, r := range tr.CustomRequirements(c) {
		if r.Kind != "param-source" {
			t.Errorf("unexpected requirement %+v", r)
		}
		sources = append(sources, r.Task+"="+r.Name)
	}
	want := []string{
		"randomized-nested-queries=nested-query-source",
		"randomized-term-queries=term-query-source",
		"randomized-sorted-term-queries=sorted-term-query-source",
		"randomized-nested-queries-with-inner-hits_default=nested-query-source-with-inner-hits",
		"randomized-nested-queries-with-inner-hits_default_big_size=nested-query-source-with-inner-hits",
	}
	if !slices.Equal(sources, want) {
		t.Errorf("param sources = %v, want %v", sources, want)
	}
	d := tr.Corpora[0].Documents[0]
	if d.TargetIndex != "sonested" {
		t.Errorf("single-index track: target-index = %q, want the index", d.TargetIndex)
	}
}

func TestLoad_geonames_and_percolator_and_so(t *testing.T) {
	geo := mustLoad(t, LoadOptions{Path: sharedTrackPath("geonames")})
	var sources []string
	for _, r := range geo.CustomRequirements(mustChallenge(t, geo, "")) {
		sources = append(sources, r.Name)
	}
	if !slices.Equal(sources, []string{"pure-terms-query-source", "filtered-terms-query-source", "prohibited-terms-query-source"}) {
		t.Errorf("geonames param sources = %v", sources)
	}
	scroll := findTask(t, mustChallenge(t, geo, ""), "scroll")
	if scroll.TargetThroughput != 0.8 || scroll.Operation.Type != "search" {
		t.Errorf("scroll = %+v", scroll)
	}
	if geo.Corpora[0].Documents[0].TargetIndex != "geonames" {
		t.Errorf("geonames target-index = %q", geo.Corpora[0].Documents[0].TargetIndex)
	}

	perc := mustLoad(t, LoadOptions{Path: sharedTrackPath("percolator")})
	ignore := findTask(t, mustChallenge(t, perc, ""), "percolator_with_content_ignore_me")
	if ignore.TargetInterval != 12*time.Second || ignore.TargetThroughput != 1.0/12 || ignore.TargetThroughputUnit != "ops/s" {
		t.Errorf("target-interval 12: %+v", ignore)
	}

	so := mustLoad(t, LoadOptions{Path: sharedTrackPath("so")})
	for _, c := range so.Challenges {
		if r := so.CustomRequirements(&c); len(r) != 0 {
			t.Errorf("so/%s needs %v; transforms are built-in operation types", c.Name, r)
		}
	}
}

func TestLoad_track_params_change_the_track(t *testing.T) {
	t.Run("bulk_indexing_clients", func(t *testing.T) {
		tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), Params: map[string]any{"bulk_indexing_clients": int64(8)}})
		if got := findTask(t, mustChallenge(t, tr, ""), "index-append").Clients; got != 8 {
			t.Errorf("clients = %d, want 8", got)
		}
		if tr.Params["bulk_indexing_clients"] != int64(8) {
			t.Errorf("Params = %v", tr.Params)
		}
	})
	t.Run("runtime_fields switches corpus and index body", func(t *testing.T) {
		tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("http_logs"), Params: map[string]any{"runtime_fields": true}})
		if tr.Corpora[0].Name != "http_logs_unparsed" {
			t.Errorf("corpus = %s", tr.Corpora[0].Name)
		}
		if filepath.Base(tr.Indices[0].BodyFile) != "index-runtime-fields.json" {
			t.Errorf("body file = %s", tr.Indices[0].BodyFile)
		}
		c := mustChallenge(t, tr, "runtime-fields")
		if findTask(t, c, "term-from-source-using-grok").TargetThroughput != 0.01 {
			t.Error("runtime-field tasks missing")
		}
	})
	t.Run("index body params", func(t *testing.T) {
		tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), Params: map[string]any{"number_of_shards": int64(3), "source_enabled": false}})
		body := string(tr.Indices[0].Body)
		if !strings.Contains(body, `"index.number_of_shards":3`) || !strings.Contains(body, `"_source":{"enabled":false}`) {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("serverless build flavor drops settings", func(t *testing.T) {
		tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), BuildFlavor: "serverless"})
		if strings.Contains(string(tr.Indices[0].Body), "number_of_shards") {
			t.Errorf("body = %s", tr.Indices[0].Body)
		}
	})
}

func TestLoad_unused_params(t *testing.T) {
	t.Run("are an error naming the close match", func(t *testing.T) {
		_, err := Load(LoadOptions{Path: sharedTrackPath("nested"), Now: fixedNow, Params: map[string]any{"bulk_indexing_clientz": int64(8), "bulk_size": int64(10)}})
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{`"bulk_indexing_clientz" (did you mean "bulk_indexing_clients"?)`, "not used by track nested", "number_of_shards"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg, `"bulk_size"`) {
			t.Errorf("bulk_size is used but reported: %s", msg)
		}
	})
	t.Run("are a warning when allowed", func(t *testing.T) {
		tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), Params: map[string]any{"nope": true}, AllowUnusedParams: true})
		if len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], `"nope"`) {
			t.Errorf("warnings = %v", tr.Warnings)
		}
	})
	t.Run("params used only in an index body count as used", func(t *testing.T) {
		mustLoad(t, LoadOptions{Path: sharedTrackPath("nested"), Params: map[string]any{"store_type": "mmapfs"}})
	})
	t.Run("reserved names are rejected", func(t *testing.T) {
		_, err := Load(LoadOptions{Path: sharedTrackPath("nested"), Params: map[string]any{"now": int64(1)}})
		if err == nil || !strings.Contains(err.Error(), `"now"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestLoad_track_path(t *testing.T) {
	dir := writeTrack(t, map[string]string{"my-track.json": minimalTrack(`"schedule": [{"operation": "refresh"}]`)})
	tr := mustLoad(t, LoadOptions{Path: filepath.Join(dir, "my-track.json")})
	if tr.Name != "my-track" {
		t.Errorf("name = %q, want the file name without .json", tr.Name)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), dir, filepath.Join(dir, "my-track.json") + ".txt"} {
		if _, err := Load(LoadOptions{Path: bad}); err == nil {
			t.Errorf("Load(%s) succeeded", bad)
		}
	}
}

func TestTrack_Challenge(t *testing.T) {
	tr := mustLoad(t, LoadOptions{Path: sharedTrackPath("so")})
	if c := mustChallenge(t, tr, "transform"); c.Name != "transform" {
		t.Errorf("got %s", c.Name)
	}
	_, err := tr.Challenge("nope")
	if err == nil || !strings.Contains(err.Error(), "append-no-conflicts (default), transform, frequent-items") {
		t.Errorf("err = %v", err)
	}
}

func TestExampleTinyTrack(t *testing.T) {
	dir := filepath.Join("..", "examples", "tracks", "tiny")
	tr := mustLoad(t, LoadOptions{Path: dir})
	c := mustChallenge(t, tr, "")
	var ops []string
	for _, s := range c.Schedule {
		ops = append(ops, s.Tasks[0].Operation.Type)
	}
	if !slices.Equal(ops, []string{"delete-index", "create-index", "cluster-health", "bulk", "refresh", "search", "force-merge"}) {
		t.Errorf("schedule = %v", ops)
	}
	if s := findTask(t, c, "search-kitchen"); s.TargetThroughput != 50 || s.Clients != 2 {
		t.Errorf("search task = %+v", s)
	}
	if r := tr.CustomRequirements(c); len(r) != 0 {
		t.Errorf("requirements = %v", r)
	}
	d := tr.Corpora[0].Documents[0]
	data, err := os.ReadFile(filepath.Join(tr.Dir, d.DocumentFile))
	if err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	if int64(len(data)) != d.UncompressedBytes {
		t.Errorf("documents.json has %d bytes, track says %d", len(data), d.UncompressedBytes)
	}
	if lines := int64(strings.Count(string(data), "\n")); lines != d.DocumentCount {
		t.Errorf("documents.json has %d lines, track says %d documents", lines, d.DocumentCount)
	}
	if d.TargetIndex != "tiny" || d.DocumentArchive != "" {
		t.Errorf("documents = %+v", d)
	}
}

func TestLoad_concurrent_loads_do_not_interfere(t *testing.T) {
	done := make(chan error, 2*len(sharedTracks))
	for i := 0; i < 2; i++ {
		for _, name := range sharedTracks {
			go func() {
				tr, err := Load(LoadOptions{Path: sharedTrackPath(name), Now: fixedNow, Params: map[string]any{"bulk_indexing_clients": int64(3 + i)}})
				if err == nil {
					for _, task := range tr.Challenges[0].Schedule {
						if task.Tasks[0].Operation.Type == "bulk" && task.Tasks[0].Clients != 3+i {
							err = fmt.Errorf("%s: bulk clients %d, want %d", name, task.Tasks[0].Clients, 3+i)
						}
					}
				}
				done <- err
			}()
		}
	}
	for range 2 * len(sharedTracks) {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"nested", "http_logs"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(LoadOptions{Path: sharedTrackPath(name), Now: fixedNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
