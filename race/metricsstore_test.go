package race

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"rally/actor"
	"rally/estarget"
	"rally/report"
)

// publishRecorder is a MetricsStore that notes what it got and whether
// the race was saved by then.
type publishRecorder struct {
	store report.Store
	mu    sync.Mutex
	got   []*report.Race
	saved []bool
}

func (p *publishRecorder) Publish(ctx context.Context, r *report.Race) {
	_, err := os.Stat(filepath.Join(p.store.Dir, r.ID, "race.json"))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got, p.saved = append(p.got, r), append(p.saved, err == nil)
}

// TestMetricsStoreGetsTheSavedRace: the conductor hands the metrics store
// the race once race.json is written, with each task's throughput second
// by second, which race.json keeps too.
func TestMetricsStoreGetsTheSavedRace(t *testing.T) {
	addr := startTarget(t, estarget.Faults{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	local, err := StartLocal(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	plan, err := Check(Request{TrackPath: "../examples/tracks/tiny", TargetHosts: addr,
		TrackParams: map[string]any{"search_target_throughput": 200}})
	if err != nil {
		t.Fatal(err)
	}
	store := report.Store{Dir: t.TempDir()}
	rec := &publishRecorder{store: store}
	c := NewConductor(Config{System: local.System, Store: store, MetricsStore: rec})
	r, err := c.Run(ctx, plan, []string{LocalMember})
	if err != nil {
		t.Fatalf("race: %v", err)
	}
	if len(rec.got) != 1 || rec.got[0] != r || !rec.saved[0] {
		t.Fatalf("published %d races (saved first: %v), want this race once, after its save", len(rec.got), rec.saved)
	}
	saved, err := store.Load(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range saved.Summary.Tasks {
		if ts.Requests == 0 {
			continue
		}
		secs := saved.PerSecond[ts.Task]
		var sum int64
		for _, b := range secs.Measured {
			sum += b.Weight
		}
		if len(secs.Measured) == 0 || sum <= 0 {
			t.Errorf("task %s: %d requests but throughput per second %+v in race.json", ts.Task, ts.Requests, secs)
		}
	}
}
