package driver

import (
	"errors"
	"strings"
	"testing"
)

const stopTransform = "POST /_transform/logs-by-host/_stop?force=false&wait_for_checkpoint=true&wait_for_completion=false"

// wait-for-transform stops the transform once, reports progress when
// enough has happened, and ends the task when the transform has stopped,
// as esrally ends a task whose runner completes.
func TestWaitForTransformRunsUntilTheTransformStops(t *testing.T) {
	srv := newReplayES(t,
		ex(stopTransform, "", ok("transform/acknowledged.json")),
		ex("GET /_transform/logs-by-host/_stats", "",
			ok("transform/stats-indexing-1000.json"), ok("transform/stats-stopping-9000.json"), ok("transform/stats-stopped-20000.json")),
	)
	r := runTask(t, opsTrack(t), opTask(t, "wait", "wait-for-transform", `{"transform-id":"logs-by-host","poll-interval":0.01}`), srv.testES)
	if r.err != nil {
		t.Fatal(r.err)
	}
	// 1000 documents are too few to report; 9000 are a progress sample;
	// the stopped transform is the last one.
	if r.summary.Requests != 2 || r.summary.Errors != 0 || r.summary.ThroughputUnit != "docs/s" {
		t.Fatalf("summary: %d samples, %d errors, unit %s; want 2, 0, docs/s", r.summary.Requests, r.summary.Errors, r.summary.ThroughputUnit)
	}
	if n := srv.count(stopTransform); n != 1 {
		t.Fatalf("stopped %d times, want once", n)
	}
	if n := srv.count("GET /_transform/logs-by-host/_stats"); n != 3 {
		t.Fatalf("%d stats requests, want 3", n)
	}
}

func TestWaitForTransformWithoutWaitingForCompletion(t *testing.T) {
	srv := newReplayES(t,
		ex("POST /_transform/logs-by-host/_stop?force=true&timeout=5m&wait_for_checkpoint=false&wait_for_completion=false", "", ok("transform/acknowledged.json")),
		ex("GET /_transform/logs-by-host/_stats", "", ok("transform/stats-indexing-1000.json")),
	)
	params := `{"transform-id":"logs-by-host","force":true,"timeout":"5m","wait-for-checkpoint":false,"wait-for-completion":false}`
	r := runTask(t, opsTrack(t), opTask(t, "wait", "wait-for-transform", params), srv.testES)
	if r.err != nil || r.summary.Requests != 1 {
		t.Fatalf("err %v, %d samples; want one sample", r.err, r.summary.Requests)
	}
}

func TestWaitForTransformFailures(t *testing.T) {
	for _, tc := range []struct {
		name, params, stats, wantErr string
	}{
		{"failed transform", `{"transform-id":"logs-by-host","poll-interval":0.01}`, "transform/stats-failed.json",
			"transform [logs-by-host] failed with [task encountered irrecoverable failure: org.elasticsearch.index.IndexNotFoundException"},
		{"transform running too long", `{"transform-id":"logs-by-host","poll-interval":0.01,"transform-timeout":0.05}`, "transform/stats-indexing-1000.json",
			"transform [logs-by-host] timed out after [50ms]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayES(t,
				ex(stopTransform, "", ok("transform/acknowledged.json")),
				ex("GET /_transform/logs-by-host/_stats", "", ok(tc.stats)),
			)
			r := runTask(t, opsTrack(t), opTask(t, "wait", "wait-for-transform", tc.params), srv.testES)
			var te *TaskError
			if !errors.As(r.err, &te) || !strings.Contains(r.err.Error(), tc.wantErr) || r.res.Status != StatusAborted {
				t.Fatalf("err %v (status %s), want the task aborted with %q", r.err, r.res.Status, tc.wantErr)
			}
		})
	}
}
