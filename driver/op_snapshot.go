package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"rally/track"
)

// waitForSnapshotCreate is esrally's wait-for-snapshot-create: it polls
// until the snapshot is no longer among the repository's current ones and
// its status is SUCCESS, sleeping completion-recheck-wait-period (1 s)
// between rounds. A FAILED snapshot, or a status without it, is fatal.
// Weight is the snapshot's total size, so throughput is in byte/s.
type waitForSnapshotCreate struct {
	snapshot    string
	currentPath string
	statusPath  string
	wait        time.Duration
	ro          requestOptions
}

func buildWaitForSnapshotCreate(_ *track.Track, p params, ro requestOptions) (runner, error) {
	repo, err := p.requiredStr("repository")
	if err != nil {
		return nil, err
	}
	snapshot, err := p.requiredStr("snapshot")
	if err != nil {
		return nil, err
	}
	wait, err := p.seconds("completion-recheck-wait-period", time.Second)
	if err != nil {
		return nil, err
	}
	return waitForSnapshotCreate{
		snapshot:    snapshot,
		currentPath: "/_snapshot/" + repo + "/_current?verbose=false",
		statusPath:  "/_snapshot/" + repo + "/" + snapshot + "/_status?ignore_unavailable=true",
		wait:        wait,
		ro:          ro,
	}, nil
}

// snapshotStatus is the part of a snapshot status answer esrally reads.
type snapshotStatus struct {
	// Snapshots is nil when the answer has no "snapshots" at all.
	Snapshots *[]struct {
		State string `json:"state"`
		Stats struct {
			Total struct {
				SizeInBytes int64 `json:"size_in_bytes"`
			} `json:"total"`
		} `json:"stats"`
	} `json:"snapshots"`
}

func (w waitForSnapshotCreate) run(ctx context.Context, s *session) outcome {
	for {
		var current struct {
			Snapshots []struct {
				Snapshot string `json:"snapshot"`
			} `json:"snapshots"`
		}
		if out, ok := getJSON(ctx, s, w.currentPath, &w.ro, &current, "a snapshot list"); !ok {
			return out
		}
		running := false
		for _, c := range current.Snapshots {
			running = running || c.Snapshot == w.snapshot
		}
		if !running {
			var st snapshotStatus
			if out, ok := getJSON(ctx, s, w.statusPath, &w.ro, &st, "a snapshot status"); !ok {
				return out
			}
			if st.Snapshots != nil {
				if len(*st.Snapshots) == 0 {
					return outcome{fatal: true, err: fmt.Errorf("GET %s: snapshot [%s] is not in the repository", w.statusPath, w.snapshot)}
				}
				first := (*st.Snapshots)[0]
				switch first.State {
				case "FAILED":
					return outcome{fatal: true, err: fmt.Errorf("GET %s: snapshot [%s] failed: %s", w.statusPath, w.snapshot, snippet(s.resp.Body))}
				case "SUCCESS":
					return outcome{weight: first.Stats.Total.SizeInBytes}
				}
			}
		}
		if !sleepCtx(ctx, w.wait) {
			return outcome{weight: 1}
		}
	}
}

// waitForCurrentSnapshots is esrally's wait-for-current-snapshots-create:
// it polls the repository's current snapshots until their total is 0,
// sleeping completion-recheck-wait-period (1 s) between rounds, with the
// query the node's engine takes (Engine.currentSnapshotsQuery). esrally
// asks GET / for the version; the session's engine is asked once, outside
// the measured requests, and also where GET / is not served (Elasticsearch
// 8 and 9 without the rest-root module).
type waitForCurrentSnapshots struct {
	path string
	wait time.Duration
	ro   requestOptions
}

func buildWaitForCurrentSnapshots(_ *track.Track, p params, ro requestOptions) (runner, error) {
	repo, err := p.requiredStr("repository")
	if err != nil {
		return nil, err
	}
	wait, err := p.seconds("completion-recheck-wait-period", time.Second)
	if err != nil {
		return nil, err
	}
	return waitForCurrentSnapshots{path: "/_snapshot/" + repo + "/_current?verbose=false", wait: wait, ro: ro}, nil
}

func (w waitForCurrentSnapshots) run(ctx context.Context, s *session) outcome {
	engine, err := s.engineOf(ctx)
	if err != nil {
		return outcome{fatal: true, err: fmt.Errorf("wait-for-current-snapshots-create: %w", err)}
	}
	path := w.path + engine.currentSnapshotsQuery()
	for {
		var r struct {
			Total *json.Number `json:"total"`
		}
		if out, ok := getJSON(ctx, s, path, &w.ro, &r, "a snapshot list"); !ok {
			return out
		}
		if r.Total == nil {
			return outcome{fatal: true, err: fmt.Errorf("GET %s: the answer has no total: %s does not report current snapshots as esrally's runner expects (OpenSearch, and Elasticsearch before 7.16, do not)", path, engine)}
		}
		if n, err := r.Total.Int64(); err == nil && n == 0 {
			return outcome{weight: 1}
		}
		if !sleepCtx(ctx, w.wait) {
			return outcome{weight: 1}
		}
	}
}
