package metrics

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TaskInfo names a task of the summary and how to present it.
type TaskInfo struct {
	Task      string
	Operation string
	OpType    string
	// ThroughputUnit is "ops/s" or "docs/s" (bulk).
	ThroughputUnit string
}

// Live is a task's progress so far, for progress lines and the TUI.
type Live struct {
	Task string
	// Requests counts measurement samples, WarmupRequests warmup samples.
	Requests, WarmupRequests int64
	// Errors counts failed requests of both kinds.
	Errors int64
	// Throughput is the weight per second (warmup and measurement samples)
	// of the last full second: the second before the latest one any delta
	// reported, which may still be filling.
	Throughput float64
	// Percentiles of the successful measurement samples so far (zero
	// before any).
	LatencyP50, LatencyP99         time.Duration
	ServiceTimeP50, ServiceTimeP99 time.Duration
}

// Aggregator merges the deltas of all clients on all hosts into per-task
// totals. It is safe for concurrent use.
type Aggregator struct {
	epoch time.Time

	mu    sync.Mutex
	tasks map[string]*taskTotals
}

// taskTotals is everything merged for one task.
type taskTotals struct {
	service, latency, processing, errService *hdr.Histogram
	// lag is the schedule lag of throttled requests; nil until a delta
	// brings one.
	lag *hdr.Histogram

	requests, warmupRequests int64
	errors, warmupErrors     int64
	dropped                  int64
	errorsByType             map[ErrorType]int64
	errorTimes               map[ErrorType]ErrorSpan

	throughput, warmupThroughput map[int64]int64
	maxSecond                    int64
	seenSecond                   bool

	first, last time.Time
}

// NewAggregator returns an empty aggregator for a race whose throughput
// seconds count from epoch.
func NewAggregator(epoch time.Time) *Aggregator {
	return &Aggregator{epoch: epoch, tasks: make(map[string]*taskTotals)}
}

// Add merges d into the totals of its task. A delta of another epoch is
// rejected: its seconds would not line up with the others'.
func (a *Aggregator) Add(d *Delta) error {
	if d == nil {
		return nil
	}
	if d.Task == "" {
		return fmt.Errorf("add delta: task is empty")
	}
	if !d.Epoch.Equal(a.epoch) {
		return fmt.Errorf("add delta of task %q: epoch %s differs from the race's %s", d.Task, d.Epoch.Format(time.RFC3339Nano), a.epoch.Format(time.RFC3339Nano))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tasks[d.Task]
	if t == nil {
		t = &taskTotals{
			service: newDense(), latency: newDense(), processing: newDense(), errService: newDense(),
			errorsByType: make(map[ErrorType]int64), errorTimes: make(map[ErrorType]ErrorSpan),
			throughput: make(map[int64]int64), warmupThroughput: make(map[int64]int64),
		}
		a.tasks[d.Task] = t
	}
	t.requests += d.Requests
	t.warmupRequests += d.WarmupRequests
	t.errors += d.Errors
	t.warmupErrors += d.WarmupErrors
	t.dropped += d.ThroughputDropped
	for k, n := range d.ErrorsByType {
		t.errorsByType[k] += n
	}
	// Deltas from several hosts arrive in any order: the earliest first and
	// the latest last win.
	for k, sp := range d.ErrorTimes {
		t.errorTimes[k] = t.errorTimes[k].widen(sp)
	}
	t.addBuckets(t.throughput, d.Throughput)
	t.addBuckets(t.warmupThroughput, d.WarmupThroughput)
	if !d.First.IsZero() && (t.first.IsZero() || d.First.Before(t.first)) {
		t.first = d.First
	}
	if d.Last.After(t.last) {
		t.last = d.Last
	}
	for _, h := range []struct {
		dst *hdr.Histogram
		src *hdr.PackedHistogram
	}{{t.service, d.ServiceTime}, {t.latency, d.Latency}, {t.processing, d.ProcessingTime}, {t.errService, d.ErrorServiceTime}} {
		if h.src != nil {
			h.src.MergeInto(h.dst)
		}
	}
	if d.ScheduleLag != nil {
		if t.lag == nil {
			t.lag = newDense()
		}
		d.ScheduleLag.MergeInto(t.lag)
	}
	return nil
}

func (t *taskTotals) addBuckets(dst map[int64]int64, bs []Bucket) {
	for _, b := range bs {
		dst[b.Second] += b.Weight
		if !t.seenSecond || b.Second > t.maxSecond {
			t.maxSecond, t.seenSecond = b.Second, true
		}
	}
}

// Live returns the progress of task so far (zero figures for a task no
// delta has reported yet).
func (a *Aggregator) Live(task string) Live {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := Live{Task: task}
	t := a.tasks[task]
	if t == nil {
		return l
	}
	l.Requests, l.WarmupRequests = t.requests, t.warmupRequests
	l.Errors = t.errors + t.warmupErrors
	if t.seenSecond {
		s := t.maxSecond - 1
		l.Throughput = float64(t.throughput[s] + t.warmupThroughput[s])
	}
	if t.requests > t.errors {
		l.LatencyP50 = usDuration(t.latency.ValueAtPercentile(50))
		l.LatencyP99 = usDuration(t.latency.ValueAtPercentile(99))
		l.ServiceTimeP50 = usDuration(t.service.ValueAtPercentile(50))
		l.ServiceTimeP99 = usDuration(t.service.ValueAtPercentile(99))
	}
	return l
}

func usDuration(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// Summary computes the figures of each task in tasks, in that order. A task
// without measurement samples gets zero figures and nil percentile maps;
// the timing figures are of successful requests, and failed ones have
// their own service time (nil when none failed, as the success figures are
// when all failed). Schedule lag covers the throttled requests, failed or
// not (nil for an unthrottled task). Cluster figures are left for the caller to fill in.
//
// Throughput is computed over the 1-second buckets of measurement samples,
// all clients summed, from the first to the last second that saw a sample;
// seconds in between without any completed request count as 0. When there
// are at least 3 such seconds, the first and the last are dropped: they are
// partial (the task started or ended within them) and would pull the
// minimum down. With 1 or 2 seconds all are used.
func (a *Aggregator) Summary(tasks []TaskInfo) Summary {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Summary{Tasks: make([]TaskSummary, 0, len(tasks))}
	for _, info := range tasks {
		ts := TaskSummary{
			Task:           info.Task,
			Operation:      info.Operation,
			OpType:         info.OpType,
			ThroughputUnit: info.ThroughputUnit,
		}
		if t := a.tasks[info.Task]; t != nil {
			t.fill(&ts)
		}
		s.Tasks = append(s.Tasks, ts)
	}
	return s
}

func (t *taskTotals) fill(ts *TaskSummary) {
	ts.Requests = t.requests
	ts.WarmupRequests = t.warmupRequests
	ts.Errors = t.errors
	if len(t.errorsByType) > 0 {
		ts.ErrorsByType = make(map[string]int64, len(t.errorsByType))
		for k, n := range t.errorsByType {
			ts.ErrorsByType[string(k)] = n
		}
	}
	if len(t.errorTimes) > 0 {
		ts.ErrorTimes = make(map[string]ErrorSpan, len(t.errorTimes))
		for k, sp := range t.errorTimes {
			ts.ErrorTimes[string(k)] = sp
		}
	}
	if t.requests == 0 {
		return
	}
	ts.ErrorRate = float64(t.errors) / float64(t.requests)
	ts.Duration = t.last.Sub(t.first)
	ts.Start, ts.End = t.first, t.last
	ts.Throughput = throughputStat(t.throughput)
	if t.errors > 0 {
		ts.ErrorServiceTime = percentiles(t.errService)
		ts.ErrorServiceTimeMean = ms(t.errService.Mean())
	}
	if t.lag != nil && t.lag.TotalCount() > 0 {
		ts.ScheduleLag = percentiles(t.lag)
		ts.ScheduleLagMean = ms(t.lag.Mean())
	}
	if t.requests == t.errors {
		return
	}
	ts.Latency = percentiles(t.latency)
	ts.ServiceTime = percentiles(t.service)
	ts.ProcessingTime = percentiles(t.processing)
	ts.LatencyMean = ms(t.latency.Mean())
	ts.ServiceTimeMean = ms(t.service.Mean())
	ts.ProcessingTimeMean = ms(t.processing.Mean())
}

// PercentileKey is how a percentile is keyed in TaskSummary's maps and
// printed in reports: "50", "99.9", "100".
func PercentileKey(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func percentiles(h *hdr.Histogram) map[string]float64 {
	vs := h.ValueAtPercentilesSlice(Percentiles)
	m := make(map[string]float64, len(Percentiles))
	for i, p := range Percentiles {
		m[PercentileKey(p)] = ms(float64(vs[i]))
	}
	return m
}

// throughputStat applies the rule documented on Summary to per-second
// weights. Empty seconds are counted, not materialised, so a long race with
// a sparse task costs only its non-empty seconds.
func throughputStat(buckets map[int64]int64) ThroughputStat {
	if len(buckets) == 0 {
		return ThroughputStat{}
	}
	secs := make([]int64, 0, len(buckets))
	for s := range buckets {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	lo, hi := secs[0], secs[len(secs)-1]
	if hi-lo+1 >= 3 {
		secs = secs[1 : len(secs)-1]
		lo, hi = lo+1, hi-1
	}
	span := hi - lo + 1
	vals := make([]float64, 0, len(secs))
	var sum float64
	for _, s := range secs {
		v := float64(buckets[s])
		vals = append(vals, v)
		sum += v
	}
	slices.Sort(vals)
	zeros := span - int64(len(vals)) // empty seconds inside the span
	at := func(i int64) float64 {    // i-th smallest of zeros followed by vals
		if i < zeros {
			return 0
		}
		return vals[i-zeros]
	}
	st := ThroughputStat{Mean: sum / float64(span), Max: 0}
	if len(vals) > 0 {
		st.Max = vals[len(vals)-1]
	}
	st.Min = at(0)
	if span%2 == 1 {
		st.Median = at(span / 2)
	} else {
		st.Median = (at(span/2-1) + at(span/2)) / 2
	}
	return st
}
