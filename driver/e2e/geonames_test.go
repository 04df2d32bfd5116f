package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/estarget"
	"rally/metrics"
	"rally/track"
)

// rallyTracks is the repository's copy of Elastic's rally-tracks (kept as
// the track loader's test material).
var rallyTracks = filepath.Join("..", "..", "track", "testdata", "rally-tracks")

// TestGeonamesInTestModeAgainstTheTestTarget loads the real geonames track
// in test mode with a synthetic 1000-document corpus and runs its default
// challenge end to end against the Elasticsearch test target.
func TestGeonamesInTestModeAgainstTheTestTarget(t *testing.T) {
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
	os.MkdirAll(filepath.Join(dataDir, tr.Corpora[0].Name), 0o755)
	os.WriteFile(filepath.Join(dataDir, tr.Corpora[0].Name, docs.DocumentFile), []byte(sb.String()), 0o644)

	es := httptest.NewServer(estarget.New(estarget.Options{}))
	defer es.Close()
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := driver.Run(ctx, driver.Plan{
		Track: tr, Challenge: ch, Targets: []driver.Target{{Scheme: "http", Host: strings.TrimPrefix(es.URL, "http://")}},
		OnError: driver.OnErrorContinue, TestMode: true, DataDir: dataDir, Epoch: epoch,
	}, func(d *metrics.Delta) { agg.Add(d) })
	for _, r := range res.Tasks {
		t.Logf("%-45s %-9s %4d requests %3d errors", r.Info.Task, r.Status, r.Requests, r.Errors)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Tasks {
		if r.Status != driver.StatusCompleted {
			t.Errorf("task %s: %s", r.Info.Task, r.Status)
		}
		// Only queries the test target does not implement may fail.
		if r.Errors > 0 && r.Info.OpType != "search" {
			t.Errorf("task %s (%s): %d errors", r.Info.Task, r.Info.OpType, r.Errors)
		}
	}
	// Every document of every client's slice arrived exactly once.
	c, _ := driver.NewFastClient(driver.Target{Scheme: "http", Host: strings.TrimPrefix(es.URL, "http://")}, driver.DefaultClientOptions())
	defer c.Close()
	var resp driver.Response
	if err := c.Do(ctx, &driver.Request{Method: "GET", Path: "/geonames/_search", Body: []byte(`{"size":0,"track_total_hits":true}`)}, &resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"total":{"value":1000,"relation":"eq"}`) {
		t.Fatalf("index holds: %.300s", resp.Body)
	}
	sum := agg.Summary(res.TaskInfos())
	for _, ts := range sum.Tasks {
		if ts.Requests == 0 {
			t.Errorf("task %s recorded no measured request", ts.Task)
		}
		if ts.Task == "index-append" && ts.ThroughputUnit != "docs/s" {
			t.Errorf("bulk unit %s", ts.ThroughputUnit)
		}
	}
}
