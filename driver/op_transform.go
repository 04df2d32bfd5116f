package driver

import (
	"context"
	"fmt"
	"time"

	"rally/track"
)

// waitForTransformSpec is esrally's wait-for-transform: the first call of
// a client stops the transform without waiting (wait_for_checkpoint as
// given, default true), then every call polls the transform's stats every
// poll-interval (0.5 s) until it has stopped (or at once with
// wait-for-completion false), returning early with a progress sample when
// more than 5000 documents and 500 ms of processing time have passed since
// the last one. The task ends once the transform has stopped, as esrally
// ends a task whose runner says it is complete. Weight is the documents
// processed (docs/s). A failed transform or one running longer than
// transform-timeout (3600 s) is fatal.
type waitForTransformSpec struct {
	id                string
	stopPath          string
	statsPath         string
	waitForCompletion bool
	timeout           time.Duration
	poll              time.Duration
	retry             retryPolicy
	ro                requestOptions
}

func compileWaitForTransform(_ *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	id, err := p.requiredStr("transform-id")
	if err != nil {
		return nil, err
	}
	force, err := p.bool("force", false)
	if err != nil {
		return nil, err
	}
	checkpoint, err := p.bool("wait-for-checkpoint", true)
	if err != nil {
		return nil, err
	}
	q := map[string]any{"force": force, "wait_for_checkpoint": checkpoint, "wait_for_completion": false}
	if v, ok := p.value("timeout"); ok {
		q["timeout"] = v
	}
	qs, err := queryString(q)
	if err != nil {
		return nil, err
	}
	w := waitForTransformSpec{id: id, stopPath: "/_transform/" + id + "/_stop" + qs, statsPath: "/_transform/" + id + "/_stats", ro: ro}
	if w.waitForCompletion, err = p.bool("wait-for-completion", true); err != nil {
		return nil, err
	}
	if w.timeout, err = p.seconds("transform-timeout", time.Hour); err != nil {
		return nil, err
	}
	if w.poll, err = p.seconds("poll-interval", 500*time.Millisecond); err != nil {
		return nil, err
	}
	if w.retry, err = p.retryPolicy(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w waitForTransformSpec) newRunner(clientSlot) (runner, error) {
	return retrying{inner: &waitForTransform{spec: &w}, policy: w.retry}, nil
}
func (waitForTransformSpec) unit() string { return "docs/s" }
func (waitForTransformSpec) finite() bool { return true }

// waitForTransform is one client's wait: it remembers when it stopped the
// transform and what it reported last.
type waitForTransform struct {
	spec      *waitForTransformSpec
	started   time.Time
	completed bool
	lastDocs  float64
	lastTime  float64
}

// transformStats is the part of a transform stats answer the wait reads.
type transformStats struct {
	Transforms []struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
		Stats  struct {
			DocumentsProcessed float64 `json:"documents_processed"`
			SearchTimeInMs     float64 `json:"search_time_in_ms"`
			ProcessingTimeInMs float64 `json:"processing_time_in_ms"`
			IndexTimeInMs      float64 `json:"index_time_in_ms"`
		} `json:"stats"`
	} `json:"transforms"`
}

func (w *waitForTransform) run(ctx context.Context, s *session) outcome {
	sp := w.spec
	if w.completed {
		return outcome{exhausted: true}
	}
	if w.started.IsZero() {
		w.started = time.Now()
		if _, out := s.call(ctx, "POST", sp.stopPath, nil, &sp.ro); out.err != nil {
			return out
		}
	}
	for {
		var r transformStats
		if out, ok := getJSON(ctx, s, sp.statsPath, &sp.ro, &r, "transform stats"); !ok {
			return out
		}
		if len(r.Transforms) == 0 {
			return outcome{fatal: true, err: fmt.Errorf("GET %s: no transform [%s] in the answer", sp.statsPath, sp.id)}
		}
		if time.Since(w.started) > sp.timeout {
			return outcome{fatal: true, err: fmt.Errorf("transform [%s] timed out after [%v]; consider increasing transform-timeout in the track", sp.id, sp.timeout)}
		}
		t := r.Transforms[0]
		if t.State == "failed" {
			reason := t.Reason
			if reason == "" {
				reason = "unknown"
			}
			return outcome{fatal: true, err: fmt.Errorf("transform [%s] failed with [%s]", sp.id, reason)}
		}
		if t.State == "stopped" || !sp.waitForCompletion {
			w.completed = true
		}
		docs := t.Stats.DocumentsProcessed
		spent := t.Stats.SearchTimeInMs + t.Stats.ProcessingTimeInMs + t.Stats.IndexTimeInMs
		if w.completed || (docs-w.lastDocs > 5000 && spent-w.lastTime > 500) {
			w.lastDocs, w.lastTime = docs, spent
			return outcome{weight: int64(docs)}
		}
		if !sleepCtx(ctx, sp.poll) {
			return outcome{weight: 1}
		}
	}
}

// buildTransformStats is esrally's transform-stats: GET
// /_transform/{transform-id}/_stats with its request-params, and the
// optional condition checked against the first transform of the answer.
func buildTransformStats(_ *track.Track, p params, ro requestOptions) (runner, error) {
	id, err := p.requiredStr("transform-id")
	if err != nil {
		return nil, err
	}
	cond, err := p.condition()
	if err != nil {
		return nil, err
	}
	if cond != nil {
		cond.root = []string{"transforms", "0"}
	}
	return statsCall{path: "/_transform/" + id + "/_stats" + ro.query, cond: cond, ro: ro}, nil
}
