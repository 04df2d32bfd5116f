package race

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rally/actor"
	"rally/estarget"
	"rally/metrics"
	"rally/report"
)

// writeTrack writes a track of one index whose last schedule step is
// block (a JSON schedule entry) after creating the index.
func writeTrack(t *testing.T, block string) string {
	t.Helper()
	dir := t.TempDir()
	doc := fmt.Sprintf(`{"version": 2, "indices": [{"name": "idx"}],
  "operations": [{"name": "q", "operation-type": "search", "index": "idx", "body": {"query": {"match_all": {}}}}],
  "schedule": [
    {"operation": {"operation-type": "delete-index"}},
    {"operation": {"operation-type": "create-index"}},
    %s
  ]}`, block)
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// raceOn runs a race on in-process members named names; during is called
// once the race runs (to kill a member, say) with the Local.
func raceOn(t *testing.T, req Request, names []string, during func(*Local, *Conductor)) (*report.Race, error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := startLocal(ctx, "test", actor.HostFacts{}, MemberConfig{DataDir: t.TempDir()}, names...)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plan, err := Check(req)
	if err != nil {
		t.Fatal(err)
	}
	c := NewConductor(Config{System: l.System, Store: report.Store{Dir: t.TempDir()}, DrainTimeout: 2 * time.Second})
	if during != nil {
		go during(l, c)
	}
	start := time.Now()
	r, err := c.Run(ctx, plan, names)
	return r, err, time.Since(start)
}

// TestBlockCompletionAcrossMembers: a parallel block whose short task
// completes it ends on every member, even on one that runs only the long
// task; by a named completed-by task, by "any", and by completes-parent.
func TestBlockCompletionAcrossMembers(t *testing.T) {
	long := `{"name": "long", "operation": "q", "clients": 2, "time-period": 90, "target-throughput": 20}`
	short := `{"name": "short", "operation": "q", "clients": 1, "iterations": 10, "target-throughput": 10}`
	for _, tc := range []struct{ name, block string }{
		{"completed-by names the short task (the loader marks it completes-parent)", `{"parallel": {"completed-by": "short", "tasks": [` + long + `,` + short + `]}}`},
		{"completed-by any", `{"parallel": {"completed-by": "any", "tasks": [` + long + `,` + short + `]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := startTarget(t, estarget.Faults{})
			// Three members: the short task's one client runs on h3 only
			// (the rotation gives h1 and h2 the long task's two clients).
			r, err, took := raceOn(t, Request{TrackPath: writeTrack(t, tc.block), TargetHosts: addr}, []string{"h1", "h2", "h3"}, nil)
			if err != nil {
				t.Fatalf("race: %v", err)
			}
			if took > 30*time.Second {
				t.Errorf("the block ran %s: the short task's end did not end the long task everywhere", took.Round(time.Second))
			}
			if r.Status != report.StatusCompleted {
				t.Errorf("status %s (%s)", r.Status, r.Error)
			}
			for _, h := range []string{"h1", "h2"} {
				if r.HostRequests["long"][h] == 0 {
					t.Errorf("long on %s: no requests (%v)", h, r.HostRequests)
				}
			}
			if r.HostRequests["short"]["h3"] != 10 {
				t.Errorf("short on h3: %d requests, want 10 (%v)", r.HostRequests["short"]["h3"], r.HostRequests)
			}
		})
	}
}

// TestClientLimitOnMembers: a block whose "clients" is below its tasks'
// runs them all, its limit spread over the members.
func TestClientLimitOnMembers(t *testing.T) {
	addr := startTarget(t, estarget.Faults{})
	task := func(n string) string {
		return fmt.Sprintf(`{"name": %q, "operation": "q", "clients": 1, "iterations": 5, "target-throughput": 50}`, n)
	}
	block := `{"parallel": {"clients": 2, "tasks": [` + task("a") + "," + task("b") + "," + task("c") + "," + task("d") + `]}}`
	r, err, _ := raceOn(t, Request{TrackPath: writeTrack(t, block), TargetHosts: addr}, []string{"h1", "h2"}, nil)
	if err != nil || r.Status != report.StatusCompleted {
		t.Fatalf("race: %v (%+v)", err, r)
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		var sum int64
		for _, v := range r.HostRequests[n] {
			sum += v
		}
		if sum != 5 {
			t.Errorf("task %s: %d requests, want 5 (%v)", n, sum, r.HostRequests)
		}
	}
}

// TestLostMember: a member killed mid-step. With --on-error continue the
// race goes on with the others and keeps what the lost one measured; with
// abort it stops, saved as aborted with what every member measured.
func TestLostMember(t *testing.T) {
	block := `{"operation": "q", "clients": 3, "time-period": 6, "target-throughput": 60}`
	for _, policy := range []string{"continue", "abort"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			addr := startTarget(t, estarget.Faults{})
			r, err, took := raceOn(t, Request{TrackPath: writeTrack(t, block), TargetHosts: addr, OnError: policy},
				[]string{"h1", "h2", "h3"}, func(l *Local, c *Conductor) {
					// Kill h3 once it has shipped a delta or two.
					for range 200 {
						time.Sleep(50 * time.Millisecond)
						c.mu.Lock()
						n := int64(0)
						if c.cur != nil {
							n = c.cur.perHost["q"]["h3"]
						}
						c.mu.Unlock()
						if n > 20 {
							break
						}
					}
					l.kill("h3")
				})
			if len(r.LostHosts) != 1 || r.LostHosts[0].Host != "h3" || len(r.LostHosts[0].Clients["q"]) != 1 {
				t.Fatalf("lost hosts %+v; status %s (%s), err %v", r.LostHosts, r.Status, r.Error, err)
			}
			if r.LostHosts[0].LastDelta["q"] == 0 {
				t.Errorf("no last delta recorded for h3: %+v", r.LostHosts[0])
			}
			if r.HostRequests["q"]["h3"] == 0 {
				t.Errorf("what h3 measured before it was lost is gone: %v", r.HostRequests)
			}
			var ts *metrics.TaskSummary
			for i := range r.Summary.Tasks {
				if r.Summary.Tasks[i].Task == "q" {
					ts = &r.Summary.Tasks[i]
				}
			}
			if ts == nil || ts.Requests == 0 {
				t.Fatalf("summary lacks the running step's task: %+v", r.Summary.Tasks)
			}
			switch policy {
			case "continue":
				if err != nil || r.Status != report.StatusCompleted {
					t.Errorf("status %s, err %v", r.Status, err)
				}
				for _, h := range []string{"h1", "h2"} {
					if r.HostRequests["q"][h] < r.HostRequests["q"]["h3"] {
						t.Errorf("%s measured less than the lost h3: %v", h, r.HostRequests)
					}
				}
			case "abort":
				if err == nil || r.Status != report.StatusAborted {
					t.Errorf("status %s, err %v", r.Status, err)
				}
				if took > 5*time.Second {
					t.Errorf("abort took %s after a loss", took.Round(100*time.Millisecond))
				}
			}
		})
	}
}

// TestDeltaSequence: a duplicated delta is merged once; a missing one is
// named as a gap once the member's StepDone says how many it sent.
func TestDeltaSequence(t *testing.T) {
	sys := actor.NewSystem(actor.Options{})
	defer sys.Close()
	c := NewConductor(Config{System: sys, Store: report.Store{Dir: t.TempDir()}})
	now := time.Now()
	cur := newRun("r1", now)
	cur.step = 0
	c.cur = cur
	delta := func(n int) json.RawMessage {
		rec := metrics.NewRecorder("q", now)
		for range n {
			rec.Record(metrics.Sample{End: now.Add(time.Second), ServiceTime: time.Millisecond, Latency: time.Millisecond})
		}
		b, err := json.Marshal(Metrics{RaceID: "r1", Seq: 0, Delta: rec.Flush()})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	send := func(seq uint64, n int) {
		var m map[string]any
		_ = json.Unmarshal(delta(n), &m)
		m["seq"] = seq
		b, _ := json.Marshal(m)
		c.onMetrics("h1", b)
	}
	send(1, 10)
	send(2, 10)
	send(2, 10) // duplicated
	send(4, 10) // 3 never came
	done, _ := json.Marshal(StepDone{RaceID: "r1", Index: 0, LastSeq: map[string]uint64{"q": 5}})
	c.onStepDone("h1", done)
	if got := cur.agg.Live("q").Requests; got != 30 {
		t.Errorf("merged %d requests, want 30 (the duplicate once, nothing of the gaps)", got)
	}
	if cur.duplicates != 1 {
		t.Errorf("duplicates %d, want 1", cur.duplicates)
	}
	gaps := cur.gapListLocked()
	if len(gaps) != 1 || gaps[0].Host != "h1" || gaps[0].Task != "q" || !slices.Equal(gaps[0].Missing, []uint64{3, 5}) {
		t.Errorf("gaps %+v, want h1/q missing 3 and 5", gaps)
	}
}
