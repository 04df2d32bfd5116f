package e2e

import (
	"context"
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

// TestRunnersBeyondTheArchivesOnTheCannedTarget runs the ops-engines
// challenges whose APIs the minimal integ-test archives lack (ES|QL, SQL,
// ML, transforms, ILM, async search, downsample, ingest and enrich
// processors, scripts; data streams, which
// Elasticsearch 7's archive lacks) against estarget's canned mode, so that
// those runners are exercised end to end where no engine serves them: every
// task completes without an error, and the target saw each API.
func TestRunnersBeyondTheArchivesOnTheCannedTarget(t *testing.T) {
	target := estarget.New(estarget.Options{})
	srv := httptest.NewServer(target)
	defer srv.Close()
	// The challenges read the index the engine tests' earlier challenges
	// leave behind.
	rec := httptest.NewRecorder()
	target.ServeHTTP(rec, httptest.NewRequest("PUT", "/ops", nil))
	if rec.Code != 200 {
		t.Fatalf("PUT /ops: %d %s", rec.Code, rec.Body)
	}
	trackDir := filepath.Join(t.TempDir(), "ops-engines")
	if err := os.CopyFS(trackDir, os.DirFS(opsTrack)); err != nil {
		t.Fatal(err)
	}
	for _, challenge := range []string{"beyond-the-archives", "data-streams"} {
		t.Run(challenge, func(t *testing.T) {
			tr, err := track.Load(track.LoadOptions{Path: trackDir, TestMode: true, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			epoch := time.Now()
			agg := metrics.NewAggregator(epoch)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := driver.Run(ctx, driver.Plan{
				Track: tr, Challenge: challengeOf(t, tr, challenge), Targets: []driver.Target{{Scheme: "http", Host: strings.TrimPrefix(srv.URL, "http://")}},
				OnError: driver.OnErrorAbort, TestMode: true, DataDir: t.TempDir(), Epoch: epoch,
			}, func(d *metrics.Delta) { agg.Add(d) })
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Tasks {
				if r.Status != driver.StatusCompleted || r.Requests == 0 || r.Errors != 0 {
					t.Errorf("task %s (%s): %s, %d requests, %d errors %s", r.Info.Task, r.Info.OpType, r.Status, r.Requests, r.Errors, r.Error)
				}
			}
			for _, ts := range agg.Summary(res.TaskInfos()).Tasks {
				if ts.Errors != 0 {
					t.Errorf("task %s: %d errors %v", ts.Task, ts.Errors, ts.ErrorsByType)
				}
			}
		})
	}
	st := target.Stats()
	for _, api := range []string{"query", "sql", "ml", "transform", "ilm", "async_search", "downsample", "data_stream", "index_template", "doc"} {
		if st.Requests[api] == 0 {
			t.Errorf("the target saw no %s request: %v", api, st.Requests)
		}
	}
}
