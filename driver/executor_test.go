package driver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

func TestLatencyIncludesWaitingForAStalledTarget(t *testing.T) {
	// The server freezes for the first 300 ms of every second. A driver that
	// measured from the actual send (coordinated omission) would report the
	// requests queued behind the stall as fast.
	start := time.Now()
	srv := newTestES(t, func(recReq) (int, string) {
		if phase := time.Since(start) % time.Second; phase < 300*time.Millisecond {
			time.Sleep(300*time.Millisecond - phase)
		}
		return 200, `{}`
	})
	task := opTask(t, "q", "search", `{"index":"x","body":{}}`)
	task.TargetThroughput = 50
	task.TimePeriod = 3 * time.Second
	r := runTask(t, &track.Track{}, task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	s := r.summary
	t.Logf("requests %d, latency p50 %.1f p90 %.1f p99 %.1f ms, service p50 %.1f p90 %.1f p99 %.1f ms", s.Requests, s.Latency["50"], s.Latency["90"], s.Latency["99"], s.ServiceTime["50"], s.ServiceTime["90"], s.ServiceTime["99"])
	if s.Latency["99"] < 250 {
		t.Errorf("latency p99 %.1f ms, want >= 250 ms: waiting behind the stall is not counted", s.Latency["99"])
	}
	if s.ServiceTime["50"] > 50 {
		t.Errorf("service time p50 %.1f ms, want it low: most requests are fast", s.ServiceTime["50"])
	}
	// About 15 requests fall due during each stall and go out late: a
	// quarter of all requests wait, while only the stalled one is slow.
	if s.Latency["90"] < 50 || s.ServiceTime["90"] > 20 {
		t.Errorf("latency p90 %.1f ms, service p90 %.1f ms: want the queued requests' wait in latency only", s.Latency["90"], s.ServiceTime["90"])
	}
	if s.Latency["50"] < s.ServiceTime["50"] {
		t.Errorf("latency p50 %.1f below service time p50 %.1f", s.Latency["50"], s.ServiceTime["50"])
	}
	if s.Requests < 120 {
		t.Errorf("%d requests, want about 150: the client should catch up after each stall", s.Requests)
	}
}

func TestThroughputFollowsTheTarget(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x","body":{}}`)
	task.TargetThroughput = 100
	task.Clients = 2
	task.TimePeriod = 3 * time.Second
	r := runTask(t, &track.Track{}, task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	mean := float64(r.summary.Requests) / 3
	t.Logf("requests %d (%.1f/s), throughput stat %+v", r.summary.Requests, mean, r.summary.Throughput)
	if math.Abs(mean-100)/100 > 0.03 {
		t.Fatalf("mean throughput %.1f ops/s, want 100 ±3%%", mean)
	}
	if math.Abs(r.summary.Throughput.Mean-100)/100 > 0.05 {
		t.Fatalf("per-second throughput mean %.1f, want about 100", r.summary.Throughput.Mean)
	}
}

func TestUnthrottledLatencyIsServiceTime(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x","body":{}}`)
	task.Iterations = 20
	r := runTask(t, &track.Track{}, task, srv)
	if r.err != nil || r.summary.Requests != 20 {
		t.Fatalf("err %v, %d requests", r.err, r.summary.Requests)
	}
	if r.summary.LatencyMean != r.summary.ServiceTimeMean {
		t.Fatalf("latency mean %.3f != service time mean %.3f", r.summary.LatencyMean, r.summary.ServiceTimeMean)
	}
	if r.summary.ProcessingTimeMean < r.summary.ServiceTimeMean {
		t.Fatalf("processing time %.3f below service time %.3f", r.summary.ProcessingTimeMean, r.summary.ServiceTimeMean)
	}
}

func TestIterationsAndWarmup(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		opType, params       string
		clients, warmup, its int
		warmupTime, period   time.Duration
		wantReq, wantWarmup  int64
	}{
		{name: "admin operation runs once per client", opType: "refresh", clients: 3, wantReq: 3},
		{name: "search without iterations runs once", opType: "search", params: `{"index":"x"}`, clients: 1, wantReq: 1},
		{name: "warmup and measurement iterations per client", opType: "search", params: `{"index":"x"}`, clients: 2, warmup: 2, its: 5, wantReq: 10, wantWarmup: 4},
		{name: "warmup iterations alone add one measured iteration", opType: "search", params: `{"index":"x"}`, clients: 1, warmup: 3, wantReq: 1, wantWarmup: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestES(t, nil)
			task := opTask(t, "t", tc.opType, tc.params)
			task.Clients, task.WarmupIterations, task.Iterations = tc.clients, tc.warmup, tc.its
			r := runTask(t, &track.Track{}, task, srv)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.summary.Requests != tc.wantReq || r.summary.WarmupRequests != tc.wantWarmup {
				t.Fatalf("%d requests and %d warmup, want %d and %d", r.summary.Requests, r.summary.WarmupRequests, tc.wantReq, tc.wantWarmup)
			}
		})
	}
}

func TestWarmupTimePeriodFlagsSamples(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x"}`)
	task.TargetThroughput = 50
	task.WarmupTimePeriod = 300 * time.Millisecond
	task.TimePeriod = 300 * time.Millisecond
	r := runTask(t, &track.Track{}, task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	w, m := r.summary.WarmupRequests, r.summary.Requests
	if w < 12 || w > 17 || m < 12 || m > 17 {
		t.Fatalf("%d warmup and %d measured requests, want about 15 each", w, m)
	}
}

func TestOnError(t *testing.T) {
	failing := func() func(recReq) (int, string) {
		var n atomic.Int32
		return func(recReq) (int, string) {
			if n.Add(1)%3 == 0 {
				return 500, `{"error":{"reason":"shard failure"}}`
			}
			return 200, `{}`
		}
	}
	t.Run("continue counts errors and finishes", func(t *testing.T) {
		srv := newTestES(t, failing())
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Iterations = 9
		r := runTask(t, &track.Track{}, task, srv, func(tp *TaskPlan) { tp.OnError = OnErrorContinue })
		if r.err != nil || r.res.Status != StatusCompleted || r.summary.Requests != 9 || r.summary.Errors != 3 {
			t.Fatalf("err %v, status %s, %d requests, %d errors", r.err, r.res.Status, r.summary.Requests, r.summary.Errors)
		}
	})
	t.Run("abort stops at the first error", func(t *testing.T) {
		srv := newTestES(t, failing())
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Iterations = 9
		r := runTask(t, &track.Track{}, task, srv, func(tp *TaskPlan) { tp.OnError = OnErrorAbort })
		var te *TaskError
		var re *RequestError
		if !errors.As(r.err, &te) || !errors.As(r.err, &re) || re.Status != 500 || !strings.Contains(r.err.Error(), "shard failure") {
			t.Fatalf("err = %v, want a TaskError with the HTTP 500 and its reason", r.err)
		}
		if r.res.Status != StatusAborted || len(srv.requests()) != 3 || r.summary.Errors != 1 {
			t.Fatalf("status %s, %d requests sent, %d errors: want abort at the third", r.res.Status, len(srv.requests()), r.summary.Errors)
		}
	})
	t.Run("abort ignores response errors of a non-fatal task", func(t *testing.T) {
		srv := newTestES(t, failing())
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Iterations = 9
		task.IgnoreResponseErrorLevel = "non-fatal"
		r := runTask(t, &track.Track{}, task, srv, func(tp *TaskPlan) { tp.OnError = OnErrorAbort })
		if r.err != nil || r.summary.Errors != 3 {
			t.Fatalf("err %v, %d errors", r.err, r.summary.Errors)
		}
	})
	t.Run("abort still stops a non-fatal task on a connection error", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close() // nothing listens: connection refused
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Iterations = 5
		task.IgnoreResponseErrorLevel = "non-fatal"
		srv := newTestES(t, nil)
		r := runTask(t, &track.Track{}, task, srv, func(tp *TaskPlan) {
			tp.OnError = OnErrorAbort
			tp.Targets = []Target{{Scheme: "http", Host: addr}}
		})
		if r.err == nil || r.summary.ErrorsByType[string(metrics.ErrConnection)] != 1 {
			t.Fatalf("err %v, errors %v", r.err, r.summary.ErrorsByType)
		}
	})
}

// clientStarts runs task (4 clients, one request each) against a test
// server and checks that its requests arrive at the offsets want (ms,
// from the first), within [-early, +late].
func clientStarts(t *testing.T, task *track.Task, want []time.Duration, early, late time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var arrivals []time.Duration
	start := time.Now()
	srv := newTestES(t, func(recReq) (int, string) {
		mu.Lock()
		arrivals = append(arrivals, time.Since(start))
		mu.Unlock()
		return 200, `{}`
	})
	start = time.Now()
	if r := runTask(t, &track.Track{}, task, srv); r.err != nil {
		t.Fatal(r.err)
	}
	slices.Sort(arrivals)
	if len(arrivals) != len(want) {
		t.Fatalf("%d requests, want %d", len(arrivals), len(want))
	}
	for i, w := range want {
		got := arrivals[i] - arrivals[0]
		if d := got - w*time.Millisecond; d < -early || d > late {
			t.Fatalf("requests at %v, want offsets %v ms", arrivals, want)
		}
	}
}

func TestRampUpStaggersClientStarts(t *testing.T) {
	task := opTask(t, "r", "raw-request", `{"path":"/"}`)
	task.Clients = 4
	task.RampUpTimePeriod = 400 * time.Millisecond
	clientStarts(t, task, []time.Duration{0, 100, 200, 300}, 20*time.Millisecond, 80*time.Millisecond)
}

// A throttled task's clients send at an even rate together: 4 clients at 5
// ops/s each (20 ops/s in all) start 50 ms apart, not all at once.
func TestThrottledClientsSpreadOverTheInterval(t *testing.T) {
	task := opTask(t, "r", "raw-request", `{"path":"/"}`)
	task.Clients = 4
	task.Iterations = 1
	task.TargetThroughput = 20
	clientStarts(t, task, []time.Duration{0, 50, 100, 150}, 10*time.Millisecond, 40*time.Millisecond)
}

func TestCancellationStopsInFlightRequests(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newTestES(t, func(recReq) (int, string) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return 200, `{}`
	})
	task := opTask(t, "q", "search", `{"index":"x"}`)
	task.Clients = 2
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	agg := metrics.NewAggregator(time.Now())
	start := time.Now()
	res, err := RunTask(ctx, TaskPlan{Track: &track.Track{}, Task: task, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions()}, func(d *metrics.Delta) { agg.Add(d) })
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || res.Status != StatusCancelled || res.Requests != 0 {
		t.Fatalf("err %v, status %s, %d samples: a cancelled request is no sample", err, res.Status, res.Requests)
	}
}

func TestRunStepsParallelBlocksAndAbort(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv := newTestES(t, func(r recReq) (int, string) {
		mu.Lock()
		order = append(order, r.Method+" "+r.URI)
		mu.Unlock()
		if strings.HasPrefix(r.URI, "/fail") {
			return 500, `{}`
		}
		return 200, `{"status":"green","relocating_shards":0}`
	})
	long := *opTask(t, "long-search", "search", `{"index":"x"}`)
	long.TimePeriod = 20 * time.Second
	long.TargetThroughput = 20
	short := *opTask(t, "nap", "sleep", `{"duration":0.2}`)
	admin := *opTask(t, "health", "cluster-health", "")
	admin.IncludeInReporting = false
	ch := &track.Challenge{Name: "c", Schedule: []track.Step{
		{Tasks: []track.Task{admin}},
		{Tasks: []track.Task{long, short}, Parallel: true, CompletedBy: "nap"},
		{Tasks: []track.Task{*opTask(t, "fail", "raw-request", `{"path":"/fail"}`)}},
		{Tasks: []track.Task{*opTask(t, "never", "refresh", "")}},
	}}
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	var sinkCalls atomic.Int32
	var inSink atomic.Int32
	start := time.Now()
	res, err := Run(context.Background(), Plan{Track: &track.Track{}, Challenge: ch, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions(), OnError: OnErrorAbort, Epoch: epoch}, func(d *metrics.Delta) {
		if inSink.Add(1) > 1 {
			t.Error("sink called concurrently")
		}
		defer inSink.Add(-1)
		sinkCalls.Add(1)
		agg.Add(d)
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("completed-by did not end the parallel block: took %v", took)
	}
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "fail" {
		t.Fatalf("err = %v, want the abort of task fail", err)
	}
	var statuses []string
	for _, tr := range res.Tasks {
		statuses = append(statuses, tr.Info.Task+"="+string(tr.Status))
	}
	want := []string{"health=completed", "long-search=completed", "nap=completed", "fail=aborted", "never=not-run"}
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	if order[0] != "GET /_cluster/health" {
		t.Fatalf("first request %s: steps out of order", order[0])
	}
	infos := res.TaskInfos()
	if len(infos) != 4 || infos[0].Task != "long-search" {
		t.Fatalf("reported tasks %+v: admin task must be left out", infos)
	}
	sum := agg.Summary(infos)
	if sum.Tasks[0].Requests < 2 || sum.Tasks[1].Requests != 1 || sinkCalls.Load() == 0 {
		t.Fatalf("summary %+v", sum.Tasks)
	}
}

func TestRunTaskRejectsBadPlans(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x"}`)
	for _, tc := range []struct {
		name string
		mod  func(*TaskPlan)
		want string
	}{
		{"client index out of range", func(tp *TaskPlan) { tp.ClientIndexes, tp.TotalClients = []int{2}, 2 }, "not in [0, 2)"},
		{"no targets", func(tp *TaskPlan) { tp.Targets = nil }, "no target hosts"},
		{"bad on-error", func(tp *TaskPlan) { tp.OnError = "explode" }, "on-error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runTask(t, &track.Track{}, task, srv, tc.mod)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || r.res.Status != StatusFailed {
				t.Fatalf("err %v status %s", r.err, r.res.Status)
			}
		})
	}
}

func TestTestModeShortensTasks(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x"}`)
	task.WarmupIterations, task.Iterations, task.TargetThroughput = 100, 1000, 1
	start := time.Now()
	r := runTask(t, &track.Track{}, task, srv, func(tp *TaskPlan) { tp.TestMode = true })
	if r.err != nil || r.summary.Requests != 1 || r.summary.WarmupRequests != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v: %d + %d warmup requests in %v", r.err, r.summary.Requests, r.summary.WarmupRequests, time.Since(start))
	}
}

func TestParallelBlockCompletedByAnyAndClientLimit(t *testing.T) {
	var mu sync.Mutex
	running, peak := 0, 0
	srv := newTestES(t, func(recReq) (int, string) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return 200, `{}`
	})
	t.Run("any ends the block when the first task ends", func(t *testing.T) {
		long := *opTask(t, "long", "search", `{"index":"x"}`)
		long.TimePeriod, long.TargetThroughput = 20*time.Second, 10
		short := *opTask(t, "short", "sleep", `{"duration":0.1}`)
		ch := &track.Challenge{Schedule: []track.Step{{Tasks: []track.Task{long, short}, Parallel: true, CompletedBy: "any"}}}
		start := time.Now()
		if _, err := Run(context.Background(), Plan{Track: &track.Track{}, Challenge: ch, Targets: []Target{srv.target()}}, nil); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("block took %v", took)
		}
	})
	t.Run("a block's clients limit how many run at once", func(t *testing.T) {
		var tasks []track.Task
		for i := 0; i < 4; i++ {
			task := *opTask(t, fmt.Sprintf("t%d", i), "search", `{"index":"x"}`)
			task.Iterations = 3
			tasks = append(tasks, task)
		}
		mu.Lock()
		peak = 0
		mu.Unlock()
		ch := &track.Challenge{Schedule: []track.Step{{Tasks: tasks, Parallel: true, Clients: 2}}}
		res, err := Run(context.Background(), Plan{Track: &track.Track{}, Challenge: ch, Targets: []Target{srv.target()}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, r := range res.Tasks {
			total += r.Requests
		}
		mu.Lock() // a request of the block before may still be in its handler
		p := peak
		mu.Unlock()
		if p != 2 || total != 12 {
			t.Fatalf("peak concurrency %d, %d requests: want 2 at a time and all 12", p, total)
		}
	})
}

func TestBulkThrottledInDocumentsPerSecond(t *testing.T) {
	srv := newTestES(t, bulkOK)
	task := opTask(t, "index", "bulk", `{"bulk-size":10}`)
	task.TargetThroughput, task.TargetThroughputUnit = 200, "docs/s" // 20 bulks/s
	task.TimePeriod = 500 * time.Millisecond
	r := runTask(t, bulkTrack(t, docLines(1000), nil), task, srv)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := len(bodies(srv)); n < 8 || n > 12 {
		t.Fatalf("%d bulks in 500 ms, want about 10 at 200 docs/s with 10 docs per bulk", n)
	}
	bad := opTask(t, "q", "search", `{"index":"x"}`)
	bad.TargetThroughput, bad.TargetThroughputUnit = 10, "docs/s"
	if err := Validate(&track.Track{}, &track.Challenge{Schedule: []track.Step{{Tasks: []track.Task{*bad}}}}); err == nil || !strings.Contains(err.Error(), "docs/s") {
		t.Fatalf("search throttled in docs/s accepted: %v", err)
	}
}

func TestTestModeIsNotAppliedTwice(t *testing.T) {
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x"}`)
	task.Clients, task.Iterations = 2, 2 // what the loader leaves: capped at the clients
	r := runTask(t, &track.Track{TestMode: true}, task, srv, func(tp *TaskPlan) { tp.TestMode = true })
	if r.err != nil || r.summary.Requests != 4 {
		t.Fatalf("err %v, %d requests: want the loader's test-mode schedule as is", r.err, r.summary.Requests)
	}
}

func TestScheduleLagOfThrottledRequests(t *testing.T) {
	// run runs task against srv and returns its summary and the requests
	// and lag values its deltas carried, as the coordinator merges them.
	run := func(t *testing.T, task *track.Task, srv *testES) (s metrics.TaskSummary, requests, lags int64) {
		epoch := time.Now()
		agg := metrics.NewAggregator(epoch)
		tp := TaskPlan{Track: &track.Track{}, Task: task, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions(), Epoch: epoch, FlushInterval: 100 * time.Millisecond}
		res, err := RunTask(context.Background(), tp, func(d *metrics.Delta) {
			requests += d.Requests
			if d.ScheduleLag != nil {
				lags += d.ScheduleLag.TotalCount()
			}
			if err := agg.Add(d); err != nil {
				t.Errorf("add delta: %v", err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return agg.Summary([]metrics.TaskInfo{res.Info}).Tasks[0], requests, lags
	}
	throttled := func() *track.Task {
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Clients = 3
		task.TargetThroughput = 120
		task.TimePeriod = 500 * time.Millisecond
		return task
	}
	t.Run("every_throttled_request_has_one_failed_or_not", func(t *testing.T) {
		var n atomic.Int32
		srv := newTestES(t, func(recReq) (int, string) {
			if n.Add(1)%4 == 0 {
				return 503, `{}`
			}
			return 200, `{}`
		})
		s, requests, lags := run(t, throttled(), srv)
		if s.Errors == 0 || requests == 0 || lags != requests || s.ScheduleLag == nil {
			t.Fatalf("%d lags for %d requests (%d failed), summary lag %v: want one per request", lags, requests, s.Errors, s.ScheduleLag)
		}
	})
	t.Run("latency_holds_the_lag", func(t *testing.T) {
		// Latency counts from the intended start and the request was sent
		// after it started, so no request can have been later to start
		// than to finish.
		s, _, _ := run(t, throttled(), newTestES(t, nil))
		if s.ScheduleLag == nil || s.ScheduleLag["100"] > s.Latency["100"] {
			t.Fatalf("schedule lag max %v ms above latency max %v ms", s.ScheduleLag["100"], s.Latency["100"])
		}
	})
	t.Run("unthrottled_requests_have_none", func(t *testing.T) {
		srv := newTestES(t, nil)
		task := opTask(t, "q", "search", `{"index":"x"}`)
		task.Iterations = 20
		r := runTask(t, &track.Track{}, task, srv)
		if r.err != nil || r.summary.Requests != 20 {
			t.Fatalf("err %v, %d requests", r.err, r.summary.Requests)
		}
		if r.summary.ScheduleLag != nil {
			t.Fatalf("unthrottled task has schedule lag %v", r.summary.ScheduleLag)
		}
	})
}

func TestClientsOfATaskShareOneRecorder(t *testing.T) {
	// 40 clients, one request each, and no flush before the end: one
	// delta carries them all, as one recorder per task and host makes.
	srv := newTestES(t, nil)
	task := opTask(t, "q", "search", `{"index":"x"}`)
	task.Clients = 40
	task.Iterations = 1
	var deltas []*metrics.Delta
	tp := TaskPlan{Track: &track.Track{}, Task: task, Targets: []Target{srv.target()}, ClientOptions: DefaultClientOptions(), FlushInterval: time.Hour}
	res, err := RunTask(context.Background(), tp, func(d *metrics.Delta) { deltas = append(deltas, d) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Clients != 40 || len(deltas) != 1 || deltas[0].Requests != 40 {
		var n []int64
		for _, d := range deltas {
			n = append(n, d.Requests)
		}
		t.Fatalf("%d clients gave %d deltas of %v requests, want one delta of 40", res.Clients, len(deltas), n)
	}
}
