package driver

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// stepPlan is a StepPlan of step against srv with the test defaults.
func stepPlan(t testing.TB, tr *track.Track, step *track.Step, srv *testES) StepPlan {
	return StepPlan{Track: tr, Step: step, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions(), DataDir: t.TempDir(), Epoch: time.Now()}
}

// hostRun is what one RunStep call returned.
type hostRun struct {
	results   []TaskResult
	err       error
	completed []string
}

// statuses renders results as "task=status" in order.
func statuses(results []TaskResult) []string {
	var out []string
	for _, r := range results {
		out = append(out, r.Info.Task+"="+string(r.Status))
	}
	return out
}

func TestRunStepSpreadOverTwoHosts(t *testing.T) {
	srv := newTestES(t, nil)
	long := *opTask(t, "long", "search", `{"index":"x"}`)
	long.Clients, long.TimePeriod, long.TargetThroughput = 2, 90*time.Second, 20
	short := *opTask(t, "short", "search", `{"index":"x"}`)
	short.Iterations, short.TargetThroughput = 20, 40 // about half a second
	step := &track.Step{Tasks: []track.Task{long, short}, Parallel: true, CompletedBy: "short"}

	// The coordinator's part: the first completion ends the block on every
	// host. Host b runs no client of the completing task, so only End can
	// end its share of the long one.
	end := make(chan struct{})
	var endOnce sync.Once
	shares := [][]StepShare{
		{{Task: 1}, {Task: 0, ClientIndexes: []int{0}}},
		{{Task: 0, ClientIndexes: []int{1}}},
	}
	runs := make([]hostRun, len(shares))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for h := range shares {
		sp := stepPlan(t, &track.Track{}, step, srv)
		sp.Shares, sp.End = shares[h], end
		sp.Completed = func(task string) {
			runs[h].completed = append(runs[h].completed, task)
			endOnce.Do(func() { close(end) })
		}
		wg.Go(func() { runs[h].results, runs[h].err = RunStep(ctx, sp, nil) })
	}
	wg.Wait()
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the block took %v: completed-by did not end it on both hosts", took)
	}
	for h, want := range [][]string{{"short=completed", "long=completed"}, {"long=completed"}} {
		r := runs[h]
		if r.err != nil {
			t.Fatalf("host %d: %v", h, r.err)
		}
		if got := statuses(r.results); !slices.Equal(got, want) {
			t.Fatalf("host %d: statuses %v, want %v", h, got, want)
		}
		longRes := r.results[len(r.results)-1]
		if longRes.Clients != 1 || longRes.Requests == 0 {
			t.Fatalf("host %d: long ran %d clients and %d requests, want 1 client that sent requests", h, longRes.Clients, longRes.Requests)
		}
	}
	if runs[0].results[0].Requests != 20 {
		t.Fatalf("short sent %d requests, want 20", runs[0].results[0].Requests)
	}
	if !slices.Equal(runs[0].completed, []string{"short"}) || len(runs[1].completed) != 0 {
		t.Fatalf("completions %v and %v, want short once on host 0 only", runs[0].completed, runs[1].completed)
	}
}

func TestRunStepEndsTheBlock(t *testing.T) {
	for _, tc := range []struct {
		name            string
		completedBy     string
		completesParent bool
	}{
		{name: "completed-by any ends it when the first task ends", completedBy: "any"},
		{name: "completes-parent ends it when that task ends", completesParent: true},
		{name: "completed-by names the task that ends it", completedBy: "short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestES(t, nil)
			long := *opTask(t, "long", "search", `{"index":"x"}`)
			long.TimePeriod, long.TargetThroughput = 90*time.Second, 10
			short := *opTask(t, "short", "sleep", `{"duration":0.2}`)
			short.CompletesParent = tc.completesParent
			sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{long, short}, Parallel: true, CompletedBy: tc.completedBy}, srv)
			var completed []string
			sp.Completed = func(task string) { completed = append(completed, task) }
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := RunStep(ctx, sp, nil)
			if err != nil {
				t.Fatalf("%v: the block did not end", err)
			}
			if got, want := statuses(res), []string{"long=completed", "short=completed"}; !slices.Equal(got, want) {
				t.Fatalf("statuses %v, want %v", got, want)
			}
			if !slices.Equal(completed, []string{"short"}) {
				t.Fatalf("completions %v, want short once", completed)
			}
		})
	}
}

func TestRunStepAbortStopsTheBlock(t *testing.T) {
	srv := newTestES(t, func(r recReq) (int, string) {
		if strings.HasPrefix(r.URI, "/fail") {
			return 500, `{}`
		}
		return 200, `{}`
	})
	long := *opTask(t, "long", "search", `{"index":"x"}`)
	long.TimePeriod, long.TargetThroughput = 90*time.Second, 10
	fail := *opTask(t, "fail", "raw-request", `{"path":"/fail"}`)
	sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{long, fail}, Parallel: true}, srv)
	sp.OnError = OnErrorAbort
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := RunStep(ctx, sp, nil)
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "fail" {
		t.Fatalf("err = %v, want the abort of task fail", err)
	}
	if got, want := statuses(res), []string{"long=cancelled", "fail=aborted"}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

func TestRunStepClientLimit(t *testing.T) {
	// Each request waits up to half a second for a second one to arrive,
	// so two clients that may run together are seen together.
	var mu sync.Mutex
	running, peak := 0, 0
	var together chan struct{}
	srv := newTestES(t, func(recReq) (int, string) {
		mu.Lock()
		running++
		peak = max(peak, running)
		both := together
		if running == 2 {
			close(together)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(500 * time.Millisecond):
		}
		mu.Lock()
		running--
		mu.Unlock()
		return 200, `{}`
	})
	a := *opTask(t, "a", "search", `{"index":"x"}`)
	b := *opTask(t, "b", "search", `{"index":"x"}`)
	for _, tc := range []struct {
		name        string
		stepClients int
		shares      []StepShare
		limit       int
		wantPeak    int
	}{
		{name: "the block's clients limit a single host", stepClients: 1, wantPeak: 1},
		{name: "a host's client limit runs its shares in turn", shares: []StepShare{{Task: 0}, {Task: 1}}, limit: 1, wantPeak: 1},
		{name: "shares without a client limit run together", stepClients: 1, shares: []StepShare{{Task: 0}, {Task: 1}}, wantPeak: 2},
		{name: "a block without clients runs all at once", wantPeak: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			running, peak, together = 0, 0, make(chan struct{})
			mu.Unlock()
			sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{a, b}, Parallel: true, Clients: tc.stepClients}, srv)
			sp.Shares, sp.ClientLimit = tc.shares, tc.limit
			res, err := RunStep(context.Background(), sp, nil)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if peak != tc.wantPeak || res[0].Requests != 1 || res[1].Requests != 1 {
				t.Fatalf("peak concurrency %d, requests %d and %d: want peak %d and one request per task", peak, res[0].Requests, res[1].Requests, tc.wantPeak)
			}
		})
	}
}

func TestClientScheduleIsTheSameOnEveryHost(t *testing.T) {
	type client struct {
		task  string
		index int
	}
	type schedule struct {
		delay time.Duration
		seed  uint64
	}
	layout := func(t *testing.T, sp StepPlan) map[client]schedule {
		t.Helper()
		tasks, err := sp.taskPlans()
		if err != nil {
			t.Fatal(err)
		}
		out := map[client]schedule{}
		for _, st := range tasks {
			tp := st.plan
			indexes := tp.ClientIndexes
			if indexes == nil {
				for i := range tp.TotalClients {
					indexes = append(indexes, i)
				}
			}
			for _, i := range indexes {
				d, s := tp.clientSchedule(tp.Task.RampUpTimePeriod, i, tp.TotalClients)
				out[client{tp.Task.Name, i}] = schedule{d, s}
			}
		}
		return out
	}
	a := *opTask(t, "a", "search", `{"index":"x"}`)
	a.Clients, a.RampUpTimePeriod = 3, time.Second
	b := *opTask(t, "b", "search", `{"index":"x"}`)
	b.Clients, b.RampUpTimePeriod = 2, time.Second
	for _, tc := range []struct {
		name        string
		stepClients int
		// want are the delays of a0 a1 a2 b0 b1: index / ramp total.
		want []time.Duration
	}{
		{name: "ramp-up spreads over the tasks' clients", want: []time.Duration{0, 200, 400, 600, 800}},
		{name: "ramp-up spreads over the block's clients", stepClients: 10, want: []time.Duration{0, 100, 200, 300, 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := &track.Step{Tasks: []track.Task{a, b}, Parallel: true, Clients: tc.stepClients}
			sp := StepPlan{Track: &track.Track{}, Step: step, Seed: 42}
			one := layout(t, sp)
			spread := map[client]schedule{}
			for _, shares := range [][]StepShare{
				{{Task: 0, ClientIndexes: []int{0, 2}}, {Task: 1, ClientIndexes: []int{1}}},
				{{Task: 1, ClientIndexes: []int{0}}, {Task: 0, ClientIndexes: []int{1}}},
			} {
				sp.Shares = shares
				maps.Copy(spread, layout(t, sp))
			}
			if !maps.Equal(one, spread) {
				t.Fatalf("one host %v, two hosts %v", one, spread)
			}
			seeds := map[uint64]bool{}
			for i, c := range []client{{"a", 0}, {"a", 1}, {"a", 2}, {"b", 0}, {"b", 1}} {
				if got := one[c].delay; got != tc.want[i]*time.Millisecond {
					t.Errorf("client %v waits %v, want %v", c, got, tc.want[i]*time.Millisecond)
				}
				seeds[one[c].seed] = true
			}
			if len(seeds) != 5 {
				t.Fatalf("seeds %v: want one per client", one)
			}
		})
	}
}

func TestRunStepStart(t *testing.T) {
	t.Run("clients wait for the start", func(t *testing.T) {
		var mu sync.Mutex
		var first time.Time
		srv := newTestES(t, func(recReq) (int, string) {
			mu.Lock()
			if first.IsZero() {
				first = time.Now()
			}
			mu.Unlock()
			return 200, `{}`
		})
		task := *opTask(t, "q", "search", `{"index":"x"}`)
		task.Clients = 2
		sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{task}}, srv)
		sp.Start = time.Now().Add(300 * time.Millisecond)
		res, err := RunStep(context.Background(), sp, nil)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if first.Before(sp.Start) || res[0].Started.Before(sp.Start) || res[0].Requests != 2 {
			t.Fatalf("first request at %v, task started %v, %d requests: want both at or after the start %v", first, res[0].Started, res[0].Requests, sp.Start)
		}
	})
	t.Run("an end before the start runs nothing", func(t *testing.T) {
		srv := newTestES(t, nil)
		sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{*opTask(t, "q", "search", `{"index":"x"}`)}}, srv)
		sp.Start = time.Now().Add(time.Hour)
		end := make(chan struct{})
		close(end)
		sp.End = end
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := RunStep(ctx, sp, nil)
		if err != nil || res[0].Requests != 0 || len(srv.requests()) != 0 {
			t.Fatalf("err %v, %d requests recorded, %d sent: want a prompt end with nothing run", err, res[0].Requests, len(srv.requests()))
		}
	})
	t.Run("cancellation ends the wait", func(t *testing.T) {
		srv := newTestES(t, nil)
		sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: []track.Task{*opTask(t, "q", "search", `{"index":"x"}`)}}, srv)
		sp.Start = time.Now().Add(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		res, err := RunStep(ctx, sp, nil)
		if !errors.Is(err, context.DeadlineExceeded) || res[0].Status != StatusCancelled || len(srv.requests()) != 0 {
			t.Fatalf("err %v, status %s, %d sent", err, res[0].Status, len(srv.requests()))
		}
	})
}

func TestRunStepSerialisesTheSink(t *testing.T) {
	srv := newTestES(t, nil)
	var tasks []track.Task
	for _, name := range []string{"a", "b", "c"} {
		task := *opTask(t, name, "search", `{"index":"x"}`)
		task.Clients, task.Iterations = 4, 50
		tasks = append(tasks, task)
	}
	sp := stepPlan(t, &track.Track{}, &track.Step{Tasks: tasks, Parallel: true}, srv)
	agg := metrics.NewAggregator(sp.Epoch)
	var inSink sync.Mutex
	_, err := RunStep(context.Background(), sp, func(d *metrics.Delta) {
		if !inSink.TryLock() {
			t.Error("sink called concurrently")
			return
		}
		defer inSink.Unlock()
		if err := agg.Add(d); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var infos []metrics.TaskInfo
	for i := range tasks {
		infos = append(infos, TaskInfoOf(sp.Track, &tasks[i]))
	}
	for _, ts := range agg.Summary(infos).Tasks {
		if ts.Requests != 200 {
			t.Fatalf("task %s: %d requests in the sink, want 200", ts.Task, ts.Requests)
		}
	}
}

func TestRunStepRejectsBadShares(t *testing.T) {
	srv := newTestES(t, nil)
	step := &track.Step{Tasks: []track.Task{*opTask(t, "q", "search", `{"index":"x"}`)}}
	for _, tc := range []struct {
		name string
		mod  func(*StepPlan)
		want string
	}{
		{"task index out of range", func(sp *StepPlan) { sp.Shares = []StepShare{{Task: 1}} }, "has 1 tasks"},
		{"a task shared twice", func(sp *StepPlan) { sp.Shares = []StepShare{{Task: 0}, {Task: 0}} }, "shared twice"},
		{"negative client limit", func(sp *StepPlan) { sp.ClientLimit = -1 }, "negative"},
		{"no step", func(sp *StepPlan) { sp.Step = nil }, "no track or step"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := stepPlan(t, &track.Track{}, step, srv)
			tc.mod(&sp)
			if _, err := RunStep(context.Background(), sp, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d requests sent for rejected plans", n)
	}
}

func TestStepBound(t *testing.T) {
	timed := func(name string, clients int, rampUp, warmup, period time.Duration) track.Task {
		return track.Task{Name: name, Clients: clients, RampUpTimePeriod: rampUp, WarmupTimePeriod: warmup, TimePeriod: period, Operation: track.Operation{Type: "search"}}
	}
	throttled := func(name string, clients, warmup, its int, tput float64) track.Task {
		return track.Task{Name: name, Clients: clients, WarmupIterations: warmup, Iterations: its, TargetThroughput: tput, Operation: track.Operation{Type: "search"}}
	}
	unthrottled := track.Task{Name: "free", Clients: 2, Iterations: 1000, Operation: track.Operation{Type: "search"}}
	corpus := track.Task{Name: "index", Clients: 8, TargetThroughput: 1000, TargetThroughputUnit: "docs/s", Operation: track.Operation{Type: "bulk"}}
	poisson := throttled("p", 1, 0, 100, 2)
	poisson.Schedule = track.SchedulePoisson
	parent := timed("parent", 1, 0, 0, 45*time.Second)
	parent.CompletesParent = true
	docsIts := throttled("docs", 1, 0, 10, 1000)
	docsIts.TargetThroughputUnit = "docs/s"
	warmupOnly := timed("warm", 1, 0, time.Minute, 0)
	warmupOnly.Operation.Type = "bulk"

	for _, tc := range []struct {
		name     string
		step     track.Step
		testMode bool
		want     time.Duration
		bounded  bool
	}{
		{name: "a timed task lasts its ramp-up, warmup and measurement", step: track.Step{Tasks: []track.Task{timed("t", 4, 10*time.Second, 30*time.Second, time.Minute)}}, want: 100 * time.Second, bounded: true},
		{name: "throttled iterations last iterations times clients over the target", step: track.Step{Tasks: []track.Task{throttled("i", 4, 10, 90, 8)}}, want: 50 * time.Second, bounded: true},
		{name: "a poisson schedule allows six deviations", step: track.Step{Tasks: []track.Task{poisson}}, want: 80 * time.Second, bounded: true},
		{name: "a block lasts its longest task", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, time.Minute), throttled("i", 4, 10, 90, 8)}, Parallel: true}, want: time.Minute, bounded: true},
		{name: "unthrottled iterations are unbounded", step: track.Step{Tasks: []track.Task{unthrottled}}},
		{name: "a bulk over its corpus is unbounded", step: track.Step{Tasks: []track.Task{corpus}}},
		{name: "iterations throttled in docs/s are unbounded", step: track.Step{Tasks: []track.Task{docsIts}}},
		{name: "a timed warmup without time period is unbounded", step: track.Step{Tasks: []track.Task{warmupOnly}}},
		{name: "one unbounded task makes the block unbounded", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, time.Minute), corpus}, Parallel: true}},
		{name: "completed-by a bounded task bounds the block", step: track.Step{Tasks: []track.Task{corpus, timed("t", 1, 0, 0, time.Minute)}, Parallel: true, CompletedBy: "t"}, want: time.Minute, bounded: true},
		{name: "completed-by any ends with the shortest task", step: track.Step{Tasks: []track.Task{corpus, timed("t", 1, 0, 0, time.Minute), timed("u", 1, 0, 0, 30*time.Second)}, Parallel: true, CompletedBy: "any"}, want: 30 * time.Second, bounded: true},
		{name: "completes-parent bounds the block", step: track.Step{Tasks: []track.Task{corpus, parent}, Parallel: true}, want: 45 * time.Second, bounded: true},
		{name: "a block's clients take turns", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, 10*time.Second), timed("u", 1, 0, 0, 10*time.Second)}, Parallel: true, Clients: 1}, want: 20 * time.Second, bounded: true},
		{name: "turns over several clients follow greedy scheduling", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, 10*time.Second), timed("u", 1, 0, 0, 10*time.Second), timed("v", 1, 0, 0, 10*time.Second)}, Parallel: true, Clients: 2}, want: 20 * time.Second, bounded: true},
		{name: "turns with an unbounded task are unbounded", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, 10*time.Second), corpus}, Parallel: true, Clients: 1, CompletedBy: "t"}},
		{name: "a block's clients above its tasks' change nothing", step: track.Step{Tasks: []track.Task{timed("t", 1, 0, 0, 10*time.Second)}, Parallel: true, Clients: 5}, want: 10 * time.Second, bounded: true},
		{name: "test mode caps a timed task at 10 s without warmup", step: track.Step{Tasks: []track.Task{timed("t", 1, 5*time.Second, time.Minute, 2*time.Minute)}}, testMode: true, want: 15 * time.Second, bounded: true},
		{name: "test mode unthrottles iterations", step: track.Step{Tasks: []track.Task{throttled("i", 4, 10, 90, 8)}}, testMode: true},
		{name: "an empty step is unbounded", step: track.Step{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := StepBound(&tc.step, tc.testMode)
			if ok != tc.bounded || (ok && got != tc.want) {
				t.Fatalf("StepBound = %v, %v; want %v, %v", got, ok, tc.want, tc.bounded)
			}
		})
	}
}

func TestTaskInfoOf(t *testing.T) {
	bulk := opTask(t, "index", "bulk", `{"bulk-size":10}`)
	search := opTask(t, "query", "search", `{"index":"x"}`)
	broken := opTask(t, "broken", "bulk", `{}`)
	for _, tc := range []struct {
		name string
		tr   *track.Track
		task *track.Task
		want metrics.TaskInfo
	}{
		{"bulk is measured in docs/s", bulkTrack(t, docLines(3), nil), bulk, metrics.TaskInfo{Task: "index", Operation: "index", OpType: "bulk", ThroughputUnit: "docs/s"}},
		{"search is measured in ops/s", &track.Track{}, search, metrics.TaskInfo{Task: "query", Operation: "query", OpType: "search", ThroughputUnit: "ops/s"}},
		{"a task that does not compile falls back to ops/s", &track.Track{}, broken, metrics.TaskInfo{Task: "broken", Operation: "broken", OpType: "bulk", ThroughputUnit: "ops/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TaskInfoOf(tc.tr, tc.task); got != tc.want {
				t.Fatalf("TaskInfoOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}
