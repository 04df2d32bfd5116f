package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/metrics"
	"rally/track"
)

// rallyTracks is the repository's copy of Elastic's rally-tracks (kept as
// the track loader's test material).
var rallyTracks = filepath.Join("..", "..", "track", "testdata", "rally-tracks")

// geonamesScripted are the searches of geonames' default challenge that
// score with a script: the integ-test archive has no script engine (no
// lang-painless, no lang-expression module), so the node refuses each of
// their requests with HTTP 400.
var geonamesScripted = []string{"expression", "painless_static", "painless_dynamic", "decay_geo_gauss_script_score", "field_value_script_score"}

// geonamesOn loads the real geonames track in test mode with a synthetic
// 1000-document corpus and runs its default challenge end to end against
// node: every task completes, every document arrives once, and every
// search the archive can serve is answered without an error, the scripted
// ones refused by the node.
func geonamesOn(t *testing.T, node driver.Target) {
	dir := filepath.Join(rallyTracks, "geonames")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("track material missing: %v", err)
	}
	tr, err := track.Load(track.LoadOptions{Path: dir, TestMode: true, Now: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var ch *track.Challenge
	for i := range tr.Challenges {
		if tr.Challenges[i].Default {
			ch = &tr.Challenges[i]
		}
	}
	// Three operations need geonames' track.py (parameter sources): they
	// are named by Validate and left out here, as --exclude-tasks would.
	err = driver.Validate(tr, ch)
	if err == nil || !strings.Contains(err.Error(), "pure-terms-query-source") {
		t.Fatalf("validate: %v, want the track.py parameter sources named", err)
	}
	var steps []track.Step
	for _, st := range ch.Schedule {
		if op := st.Tasks[0].Operation; len(st.Tasks) == 1 && (op.ParamSource != "" || op.CustomRunner) {
			continue
		}
		steps = append(steps, st)
	}
	ch.Schedule = steps
	if err := driver.Validate(tr, ch); err != nil {
		t.Fatal(err)
	}
	// The test-mode corpus, generated where Rally would have put it.
	dataDir := t.TempDir()
	docs := tr.Corpora[0].Documents[0]
	var sb strings.Builder
	for i := 0; i < int(docs.DocumentCount); i++ {
		fmt.Fprintf(&sb, `{"geonameid": %d, "name": "Place %d", "country_code": "AT", "population": %d, "location": [%d.5, 47.1]}`+"\n", i, i, i*10, i%90)
	}
	if err := os.MkdirAll(filepath.Join(dataDir, tr.Corpora[0].Name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, tr.Corpora[0].Name, docs.DocumentFile), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := driver.Run(ctx, driver.Plan{
		Track: tr, Challenge: ch, Targets: []driver.Target{node},
		OnError: driver.OnErrorContinue, TestMode: true, DataDir: dataDir, Epoch: epoch,
	}, func(d *metrics.Delta) { agg.Add(d) })
	for _, r := range res.Tasks {
		t.Logf("%-45s %-9s %4d requests %3d errors", r.Info.Task, r.Status, r.Requests, r.Errors)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Tasks {
		if r.Status != driver.StatusCompleted || r.Requests == 0 {
			t.Errorf("task %s: %s, %d requests", r.Info.Task, r.Status, r.Requests)
		}
		switch {
		case slices.Contains(geonamesScripted, r.Info.Task) && r.Errors != r.Requests:
			t.Errorf("task %s: %d errors of %d requests; the node has no script engine, so each must be refused", r.Info.Task, r.Errors, r.Requests)
		case !slices.Contains(geonamesScripted, r.Info.Task) && r.Errors != 0:
			t.Errorf("task %s (%s): %d errors", r.Info.Task, r.Info.OpType, r.Errors)
		}
	}
	sum := agg.Summary(res.TaskInfos())
	for _, ts := range sum.Tasks {
		if ts.Requests == 0 {
			t.Errorf("task %s recorded no measured request", ts.Task)
		}
		if ts.Task == "index-append" && ts.ThroughputUnit != "docs/s" {
			t.Errorf("bulk unit %s", ts.ThroughputUnit)
		}
		if slices.Contains(geonamesScripted, ts.Task) && ts.ErrorsByType["http-400"] != ts.Errors {
			t.Errorf("task %s: errors %v, want the node's HTTP 400", ts.Task, ts.ErrorsByType)
		}
	}
	// Every document of every client's slice arrived exactly once, and the
	// node finds them by their fields.
	if n := nodeCount(t, node, "geonames"); n != docs.DocumentCount {
		t.Errorf("the node counts %d documents, want %d", n, docs.DocumentCount)
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	nodeJSON(t, node, "POST", "/geonames/_search", `{"query":{"term":{"geonameid":42}}}`, &sr)
	if len(sr.Hits.Hits) != 1 || sr.Hits.Hits[0].Source["name"] != "Place 42" {
		t.Errorf("search for geonameid 42: %+v", sr.Hits.Hits)
	}
}
