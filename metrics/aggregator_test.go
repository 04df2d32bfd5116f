package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var bulkInfo = []TaskInfo{{Task: "index-append", Operation: "index-append", OpType: "bulk", ThroughputUnit: "docs/s"}}

// randomSamples returns n measurement samples spread over about secs
// seconds, with a mix of errors and warmup samples.
func randomSamples(seed uint64, n, secs int) []Sample {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]Sample, n)
	for i := range out {
		st := time.Duration(rng.ExpFloat64() * float64(5*time.Millisecond))
		s := Sample{
			End:            at(0, time.Duration(rng.Int64N(int64(secs)*int64(time.Second)))),
			ServiceTime:    st,
			Latency:        st + time.Duration(rng.Int64N(int64(time.Millisecond))),
			ProcessingTime: st + time.Duration(rng.Int64N(int64(100*time.Microsecond))),
			Weight:         1 + rng.Int64N(1000),
			Warmup:         i < n/20,
			Throttled:      true,
			ScheduleLag:    time.Duration(rng.ExpFloat64() * float64(200*time.Microsecond)),
		}
		switch rng.IntN(50) {
		case 0:
			s.Err = HTTPError(429)
		case 1:
			s.Err = ErrTimeout
		}
		out[i] = s
	}
	return out
}

// viaWire encodes and decodes d, as the worker-to-coordinator link does.
func viaWire(t *testing.T, d *Delta) *Delta {
	t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("marshal delta: %v", err)
	}
	got, err := DecodeDelta(data)
	if err != nil {
		t.Fatalf("decode delta: %v\n%s", err, data)
	}
	return got
}

func TestMergedDeltasEqualOneRecorder(t *testing.T) {
	samples := randomSamples(7, 20000, 10)

	one := NewRecorder("index-append", testEpoch)
	for _, s := range samples {
		one.Record(s)
	}
	want := NewAggregator(testEpoch)
	if err := want.Add(one.Flush()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		add  func(t *testing.T, a *Aggregator, d1, d2 *Delta)
	}{
		{"added_separately", func(t *testing.T, a *Aggregator, d1, d2 *Delta) {
			for _, d := range []*Delta{d1, d2} {
				if err := a.Add(d); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"added_separately_over_the_wire", func(t *testing.T, a *Aggregator, d1, d2 *Delta) {
			for _, d := range []*Delta{d1, d2} {
				if err := a.Add(viaWire(t, d)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"merged_on_the_worker_then_sent", func(t *testing.T, a *Aggregator, d1, d2 *Delta) {
			if err := d1.Merge(d2); err != nil {
				t.Fatal(err)
			}
			if err := a.Add(viaWire(t, d1)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, r2 := NewRecorder("index-append", testEpoch), NewRecorder("index-append", testEpoch)
			var flushed []*Delta
			for i, s := range samples {
				if i%2 == 0 {
					r1.Record(s)
				} else {
					r2.Record(s)
				}
				if i == len(samples)/3 { // a mid-race flush of one client
					flushed = append(flushed, r1.Flush())
				}
			}
			d1 := r1.Flush()
			if err := d1.Merge(flushed[0]); err != nil {
				t.Fatal(err)
			}
			got := NewAggregator(testEpoch)
			tt.add(t, got, d1, r2.Flush())

			gs, ws := got.Summary(bulkInfo), want.Summary(bulkInfo)
			if !reflect.DeepEqual(gs, ws) {
				g, _ := json.MarshalIndent(gs, "", " ")
				w, _ := json.MarshalIndent(ws, "", " ")
				t.Fatalf("merged summary differs from one recorder's:\ngot  %s\nwant %s", g, w)
			}
			if ws.Tasks[0].Requests == 0 || ws.Tasks[0].Errors == 0 || ws.Tasks[0].Latency["99"] == 0 {
				t.Fatalf("test data too thin: %+v", ws.Tasks[0])
			}
		})
	}
}

func TestThroughputBucketsAlignAcrossRecorders(t *testing.T) {
	r1, r2 := NewRecorder("search", testEpoch), NewRecorder("search", testEpoch)
	// Both clients finish requests in seconds 0..4; r2's land late in each
	// second, r1's early, so a bucket keyed by anything but the shared
	// epoch would split them differently.
	for sec := range 5 {
		for i := range 10 {
			r1.Record(Sample{End: at(sec, time.Duration(i)*time.Millisecond), Weight: 1})
			r2.Record(Sample{End: at(sec, 990*time.Millisecond+time.Duration(i)*time.Millisecond/2), Weight: 2})
		}
	}
	d1, d2 := r1.Flush(), r2.Flush()
	for i := range 5 {
		if d1.Throughput[i].Second != int64(i) || d2.Throughput[i].Second != int64(i) {
			t.Fatalf("bucket %d: seconds %d and %d, want both %d", i, d1.Throughput[i].Second, d2.Throughput[i].Second, i)
		}
	}
	a := NewAggregator(testEpoch)
	for _, d := range []*Delta{d1, d2} {
		if err := a.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	got := a.Summary([]TaskInfo{{Task: "search", ThroughputUnit: "ops/s"}}).Tasks[0].Throughput
	want := ThroughputStat{Min: 30, Mean: 30, Median: 30, Max: 30}
	if got != want {
		t.Fatalf("throughput %+v, want %+v", got, want)
	}
}

func TestKnownSequenceGivesKnownPercentiles(t *testing.T) {
	r := NewRecorder("search", testEpoch)
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		r.Record(Sample{End: at(0, 0), ServiceTime: d, Latency: 2 * d, ProcessingTime: d + time.Millisecond, Weight: 1})
	}
	a := NewAggregator(testEpoch)
	if err := a.Add(r.Flush()); err != nil {
		t.Fatal(err)
	}
	ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]
	want := map[string]float64{"50": 500, "90": 900, "99": 990, "99.9": 999, "99.99": 1000, "100": 1000}
	for p, w := range want {
		// 3 significant digits: every value within 0.1% of the true one.
		checkClose(t, "service time p"+p, ts.ServiceTime[p], w, 1e-3)
		checkClose(t, "latency p"+p, ts.Latency[p], 2*w, 1e-3)
		checkClose(t, "processing time p"+p, ts.ProcessingTime[p], w+1, 1e-3)
	}
	checkClose(t, "service time mean", ts.ServiceTimeMean, 500.5, 1e-3)
	checkClose(t, "latency mean", ts.LatencyMean, 1001, 1e-3)
	if ts.Requests != 1000 || len(ts.Latency) != len(Percentiles) {
		t.Fatalf("requests %d, %d latency percentiles; want 1000 and %d", ts.Requests, len(ts.Latency), len(Percentiles))
	}
}

func checkClose(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*want {
		t.Errorf("%s = %v, want %v (±%.2g%%)", what, got, want, rel*100)
	}
}

func TestWarmupSamplesAreCountedButExcluded(t *testing.T) {
	r := NewRecorder("search", testEpoch)
	for i := range 100 {
		r.Record(Sample{End: at(3, 0), ServiceTime: time.Minute, Latency: time.Minute, ProcessingTime: time.Minute, Weight: 1000, Warmup: true, Err: ErrTimeout})
		r.Record(Sample{End: at(1+i%5, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, ProcessingTime: time.Millisecond, Weight: 1})
	}
	a := NewAggregator(testEpoch)
	if err := a.Add(r.Flush()); err != nil {
		t.Fatal(err)
	}
	ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]
	if ts.WarmupRequests != 100 || ts.Requests != 100 || ts.Errors != 0 || ts.ErrorRate != 0 {
		t.Fatalf("warmup %d, requests %d, errors %d, rate %v; want 100, 100, 0, 0", ts.WarmupRequests, ts.Requests, ts.Errors, ts.ErrorRate)
	}
	for _, m := range []map[string]float64{ts.Latency, ts.ServiceTime, ts.ProcessingTime} {
		checkClose(t, "p100", m["100"], 1, 1e-3)
	}
	// Seconds 1..5 hold 20 measurement samples of weight 1 each; the
	// warmup samples' weight of 100000 in second 3 must not appear.
	if want := (ThroughputStat{20, 20, 20, 20}); ts.Throughput != want {
		t.Fatalf("throughput %+v, want %+v (warmup excluded)", ts.Throughput, want)
	}
	if l := a.Live("search"); l.WarmupRequests != 100 || l.Errors != 100 {
		t.Fatalf("live %+v, want 100 warmup requests and 100 errors", l)
	}
}

func TestErrorRateAndErrorsByType(t *testing.T) {
	r := NewRecorder("bulk", testEpoch)
	var want = map[string]int64{}
	for i := range 200 {
		s := Sample{End: at(0, 0), Latency: time.Millisecond, Weight: 1}
		if i%4 == 0 { // 50 errors over 12 types: more than the recorder's slots
			s.Err = HTTPError(500 + i%12)
			want[string(s.Err)]++
		}
		r.Record(s)
	}
	a := NewAggregator(testEpoch)
	if err := a.Add(viaWire(t, r.Flush())); err != nil {
		t.Fatal(err)
	}
	ts := a.Summary([]TaskInfo{{Task: "bulk"}}).Tasks[0]
	if ts.Errors != 50 || ts.ErrorRate != 0.25 {
		t.Fatalf("errors %d, rate %v; want 50, 0.25", ts.Errors, ts.ErrorRate)
	}
	if !reflect.DeepEqual(ts.ErrorsByType, want) {
		t.Fatalf("errors by type %v, want %v", ts.ErrorsByType, want)
	}
}

func TestThroughputStat(t *testing.T) {
	tests := []struct {
		name    string
		buckets map[int64]int64
		want    ThroughputStat
	}{
		{"no_buckets_give_zeros", nil, ThroughputStat{}},
		{"one_second_is_used_whole", map[int64]int64{4: 10}, ThroughputStat{10, 10, 10, 10}},
		{"two_seconds_are_both_used", map[int64]int64{4: 10, 5: 30}, ThroughputStat{10, 20, 20, 30}},
		{"first_and_last_partial_seconds_are_dropped_from_three",
			map[int64]int64{0: 1, 1: 100, 2: 5}, ThroughputStat{100, 100, 100, 100}},
		{"median_of_an_even_count_is_the_middle_mean",
			map[int64]int64{0: 1, 1: 10, 2: 20, 3: 40, 4: 80, 5: 1}, ThroughputStat{10, 37.5, 30, 80}},
		{"empty_seconds_inside_count_as_zero",
			map[int64]int64{0: 1, 1: 10, 3: 30, 4: 1}, ThroughputStat{0, 40.0 / 3, 10, 30}},
		{"only_empty_seconds_remain", map[int64]int64{0: 5, 4: 5}, ThroughputStat{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := throughputStat(tt.buckets); got != tt.want {
				t.Fatalf("throughputStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	t.Run("tasks_come_in_the_order_asked_with_their_info", func(t *testing.T) {
		a := NewAggregator(testEpoch)
		r := NewRecorder("b", testEpoch)
		r.Record(Sample{End: at(0, 100*time.Millisecond), ServiceTime: 100 * time.Millisecond, Latency: time.Millisecond, Weight: 1})
		r.Record(Sample{End: at(2, 0), ServiceTime: time.Millisecond, Latency: time.Millisecond, Weight: 1})
		if err := a.Add(r.Flush()); err != nil {
			t.Fatal(err)
		}
		s := a.Summary([]TaskInfo{{Task: "a", Operation: "op-a", OpType: "search", ThroughputUnit: "ops/s"}, {Task: "b", Operation: "op-b", OpType: "bulk", ThroughputUnit: "docs/s"}})
		if len(s.Tasks) != 2 || s.Tasks[0].Task != "a" || s.Tasks[1].Task != "b" || s.Tasks[1].OpType != "bulk" || s.Tasks[1].ThroughputUnit != "docs/s" {
			t.Fatalf("tasks %+v", s.Tasks)
		}
		if s.Tasks[0].Requests != 0 || s.Tasks[0].Latency != nil {
			t.Fatalf("task without samples has figures: %+v", s.Tasks[0])
		}
		// From the first request's start (0.0 s) to the last End (2.0 s).
		if s.Tasks[1].Duration != 2*time.Second {
			t.Fatalf("duration %v, want 2s", s.Tasks[1].Duration)
		}
	})
	t.Run("delta_of_another_epoch_is_rejected", func(t *testing.T) {
		a := NewAggregator(testEpoch)
		r := NewRecorder("x", testEpoch.Add(time.Second))
		r.Record(Sample{End: at(0, 0), Weight: 1})
		if err := a.Add(r.Flush()); err == nil {
			t.Fatal("Add accepted a delta of another epoch")
		}
	})
}

func TestLive(t *testing.T) {
	a := NewAggregator(testEpoch)
	if l := a.Live("none"); l != (Live{Task: "none"}) {
		t.Fatalf("live of an unknown task %+v", l)
	}
	r := NewRecorder("search", testEpoch)
	for i := range 10 {
		r.Record(Sample{End: at(0, 0), Latency: 10 * time.Millisecond, ServiceTime: 2 * time.Millisecond, Weight: 1, Warmup: true})
		r.Record(Sample{End: at(1, 0), Latency: time.Duration(i+1) * time.Millisecond, ServiceTime: time.Millisecond, Weight: 3})
		r.Record(Sample{End: at(1, 0), Latency: time.Minute, ServiceTime: time.Minute, Weight: 0, Err: ErrTimeout})
		r.Record(Sample{End: at(2, 0), Latency: time.Millisecond, ServiceTime: time.Millisecond, Weight: 1000}) // still filling
	}
	if err := a.Add(r.Flush()); err != nil {
		t.Fatal(err)
	}
	l := a.Live("search")
	if l.Requests != 30 || l.WarmupRequests != 10 || l.Errors != 10 || l.Throughput != 30 {
		t.Fatalf("live %+v; want 30 requests, 10 warmup, 10 errors, throughput 30 (second 1)", l)
	}
	// Successful measurement samples only: latencies 1..10 ms and ten of
	// 1 ms; the failures' minute is in none.
	checkClose(t, "latency p50", l.LatencyP50.Seconds(), 0.001, 1e-3)
	checkClose(t, "latency p99", l.LatencyP99.Seconds(), 0.010, 1e-3)
	checkClose(t, "service time p50", l.ServiceTimeP50.Seconds(), 0.001, 1e-3)
	checkClose(t, "service time p99", l.ServiceTimeP99.Seconds(), 0.001, 1e-3)
}

func BenchmarkAggregatorAdd(b *testing.B) {
	r := NewRecorder("search", testEpoch)
	for _, s := range randomSamples(1, 5000, 1) {
		r.Record(s)
	}
	d := r.Flush()
	a := NewAggregator(testEpoch)
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Add(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestErrorTimes: each error type keeps the End of its first and last
// failure, merged by min and max whichever way the deltas travel and in
// whatever order they arrive.
func TestErrorTimes(t *testing.T) {
	// Host 1 sees connection errors from second 4 to 6; host 2 from second
	// 3.5 to 5 and one timeout at second 2. Successes around them do not
	// move the times.
	h1, h2 := NewRecorder("search", testEpoch), NewRecorder("search", testEpoch)
	h1.Record(Sample{End: at(1, 0), ServiceTime: time.Millisecond, Weight: 1})
	h1.Record(Sample{End: at(4, 0), Weight: 1, Err: ErrConnection})
	early := h1.Flush() // a mid-race flush: the second delta has the later error
	h1.Record(Sample{End: at(6, 0), Weight: 1, Err: ErrConnection})
	h1.Record(Sample{End: at(5, 0), Weight: 1, Err: ErrConnection})
	h1.Record(Sample{End: at(7, 0), ServiceTime: time.Millisecond, Weight: 1})
	late := h1.Flush()
	h2.Record(Sample{End: at(5, 0), Weight: 1, Err: ErrConnection})
	h2.Record(Sample{End: at(3, 500*time.Millisecond), Weight: 1, Err: ErrConnection})
	h2.Record(Sample{End: at(2, 0), Weight: 1, Err: ErrTimeout})
	other := h2.Flush()
	want := map[string]ErrorSpan{
		"connection": {First: at(3, 500*time.Millisecond), Last: at(6, 0)},
		"timeout":    {First: at(2, 0), Last: at(2, 0)},
	}
	for _, tt := range []struct {
		name   string
		deltas func() []*Delta
	}{
		{"added_in_order", func() []*Delta { return []*Delta{early, late, other} }},
		{"added_out_of_order_over_the_wire", func() []*Delta {
			return []*Delta{viaWire(t, other), viaWire(t, late), viaWire(t, early)}
		}},
		{"merged_on_the_worker_then_sent", func() []*Delta {
			m := &Delta{Task: "search", Epoch: testEpoch}
			for _, d := range []*Delta{late, other, early} {
				if err := m.Merge(d); err != nil {
					t.Fatal(err)
				}
			}
			return []*Delta{viaWire(t, m)}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAggregator(testEpoch)
			for _, d := range tt.deltas() {
				if err := a.Add(d); err != nil {
					t.Fatal(err)
				}
			}
			ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]
			if !reflect.DeepEqual(ts.ErrorTimes, want) {
				t.Fatalf("error times %v, want %v", ts.ErrorTimes, want)
			}
			if ts.ErrorsByType["connection"] != 5 || ts.ErrorsByType["timeout"] != 1 {
				t.Fatalf("errors by type %v", ts.ErrorsByType)
			}
		})
	}
	t.Run("a_task_without_errors_has_none", func(t *testing.T) {
		r := NewRecorder("search", testEpoch)
		r.Record(Sample{End: at(1, 0), ServiceTime: time.Millisecond, Weight: 1})
		a := NewAggregator(testEpoch)
		if err := a.Add(viaWire(t, r.Flush())); err != nil {
			t.Fatal(err)
		}
		if ts := a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]; ts.ErrorTimes != nil || ts.ErrorServiceTime != nil {
			t.Fatalf("error times %v, error service time %v, want none", ts.ErrorTimes, ts.ErrorServiceTime)
		}
	})
}

// TestFailedRequestsStandApart: latency, service time and processing time
// are of successful requests; failed ones are counted, in the throughput,
// and in a service time of their own (as Gatling's ok and ko).
func TestFailedRequestsStandApart(t *testing.T) {
	summary := func(t *testing.T, samples []Sample) TaskSummary {
		t.Helper()
		r := NewRecorder("search", testEpoch)
		for _, s := range samples {
			r.Record(s)
		}
		a := NewAggregator(testEpoch)
		if err := a.Add(viaWire(t, r.Flush())); err != nil {
			t.Fatal(err)
		}
		return a.Summary([]TaskInfo{{Task: "search"}}).Tasks[0]
	}
	ok := func(sec int) Sample {
		return Sample{End: at(sec, 0), ServiceTime: 10 * time.Millisecond, Latency: 12 * time.Millisecond, ProcessingTime: 11 * time.Millisecond, Weight: 1}
	}
	ko := func(sec int) Sample {
		return Sample{End: at(sec, 0), ServiceTime: 100 * time.Microsecond, Latency: 100 * time.Microsecond, ProcessingTime: 150 * time.Microsecond, Weight: 1, Err: ErrConnection}
	}
	t.Run("a_fast_failure_does_not_pull_the_percentiles_down", func(t *testing.T) {
		var samples []Sample
		for i := range 100 { // 40 successes, then 60 refusals
			if i < 40 {
				samples = append(samples, ok(i/10))
			} else {
				samples = append(samples, ko(4+(i-40)/10))
			}
		}
		ts := summary(t, samples)
		if ts.Requests != 100 || ts.Errors != 60 || ts.ErrorRate != 0.6 {
			t.Fatalf("requests %d, errors %d, rate %v; want 100, 60, 0.6", ts.Requests, ts.Errors, ts.ErrorRate)
		}
		for _, p := range []string{"50", "100"} {
			checkClose(t, "latency p"+p, ts.Latency[p], 12, 1e-3)
			checkClose(t, "service time p"+p, ts.ServiceTime[p], 10, 1e-3)
			checkClose(t, "processing time p"+p, ts.ProcessingTime[p], 11, 1e-3)
			checkClose(t, "error service time p"+p, ts.ErrorServiceTime[p], 0.1, 1e-3)
		}
		checkClose(t, "service time mean", ts.ServiceTimeMean, 10, 1e-3)
		checkClose(t, "error service time mean", ts.ErrorServiceTimeMean, 0.1, 1e-3)
		// Throughput counts both: 10 a second over seconds 1..8.
		if want := (ThroughputStat{10, 10, 10, 10}); ts.Throughput != want {
			t.Fatalf("throughput %+v, want %+v", ts.Throughput, want)
		}
	})
	t.Run("a_task_where_all_failed_has_no_success_percentiles", func(t *testing.T) {
		ts := summary(t, []Sample{ko(0), ko(1), ko(2)})
		if ts.Latency != nil || ts.ServiceTime != nil || ts.ProcessingTime != nil || ts.ServiceTimeMean != 0 {
			t.Fatalf("success figures of failures only: %+v", ts)
		}
		if ts.Errors != 3 || ts.ErrorRate != 1 || ts.ErrorServiceTime == nil || ts.Duration == 0 {
			t.Fatalf("errors %d, rate %v, error service time %v, duration %v", ts.Errors, ts.ErrorRate, ts.ErrorServiceTime, ts.Duration)
		}
	})
}
