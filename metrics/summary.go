package metrics

import "time"

// Summary is the measured result of one race: what reports render, what
// race.json stores and what compare diffs. It is computed on the
// coordinator from merged per-task histograms and throughput buckets.
type Summary struct {
	Tasks []TaskSummary `json:"tasks"`
	// Cluster holds end-of-race figures read from the target's _stats and
	// _nodes/stats (zero values when the target did not report them).
	Cluster ClusterFigures `json:"cluster"`
}

// TaskSummary is one task's measured figures (measurement samples only;
// warmup samples are counted apart and excluded from every figure here).
// The percentiles and means of latency, service time and processing time
// are of the successful requests only; failed requests have their own
// count (Errors), service time (ErrorServiceTime) and times (ErrorTimes),
// so a dead target's instant refusals do not pass for fast answers.
type TaskSummary struct {
	Task      string `json:"task"`
	Operation string `json:"operation"`
	OpType    string `json:"operation-type"`
	// ThroughputUnit is "ops/s" or "docs/s" (bulk).
	ThroughputUnit string         `json:"throughput-unit"`
	Throughput     ThroughputStat `json:"throughput"`
	// Percentiles of each kind over the successful requests, keyed by the
	// percentile as Rally prints it ("50", "90", "99", "99.9", "99.99",
	// "100"), in milliseconds; nil when no request succeeded.
	Latency        map[string]float64 `json:"latency-ms"`
	ServiceTime    map[string]float64 `json:"service-time-ms"`
	ProcessingTime map[string]float64 `json:"processing-time-ms"`
	// Mean of each kind over the successful requests in milliseconds.
	LatencyMean        float64 `json:"latency-mean-ms"`
	ServiceTimeMean    float64 `json:"service-time-mean-ms"`
	ProcessingTimeMean float64 `json:"processing-time-mean-ms"`
	// ErrorServiceTime holds the service time percentiles of the failed
	// requests (keyed as the others), ErrorServiceTimeMean their mean; nil
	// and 0 when none failed.
	ErrorServiceTime     map[string]float64 `json:"error-service-time-ms,omitempty"`
	ErrorServiceTimeMean float64            `json:"error-service-time-mean-ms,omitempty"`
	// ScheduleLag holds the percentiles (keyed as the others) of how late
	// the load drivers started the throttled requests, successful or
	// failed, after their intended start, ScheduleLagMean its mean: time
	// the driver itself was late, which latency includes and service time
	// does not. Nil and 0 for an unthrottled task.
	ScheduleLag     map[string]float64 `json:"schedule-lag-ms,omitempty"`
	ScheduleLagMean float64            `json:"schedule-lag-mean-ms,omitempty"`

	Requests       int64            `json:"requests"`
	WarmupRequests int64            `json:"warmup-requests"`
	Errors         int64            `json:"errors"`
	ErrorRate      float64          `json:"error-rate"`               // 0..1
	ErrorsByType   map[string]int64 `json:"errors-by-type,omitempty"` // "http-429", "http-503", "timeout", "connection", "bulk-item", ...
	// ErrorTimes says, by the same error types, when the first and the
	// last failure of each type happened.
	ErrorTimes map[string]ErrorSpan `json:"error-times,omitempty"`
	// Duration is the measured period of the task (first to last sample):
	// from Start, the earliest request start, to End, the latest response
	// (or failure) of the measurement samples.
	Duration time.Duration `json:"duration-ns"`
	Start    time.Time     `json:"start,omitzero"`
	End      time.Time     `json:"end,omitzero"`
}

// ErrorSpan is when failures of one type happened: the End (response read
// or connection failed) of the first and of the last failed measurement
// sample.
type ErrorSpan struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// widen returns the span covering both s and o; a zero span covers nothing.
func (s ErrorSpan) widen(o ErrorSpan) ErrorSpan {
	if s.First.IsZero() || (!o.First.IsZero() && o.First.Before(s.First)) {
		s.First = o.First
	}
	if o.Last.After(s.Last) {
		s.Last = o.Last
	}
	return s
}

// ThroughputStat summarises 1-second throughput buckets.
type ThroughputStat struct {
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// ClusterFigures are Rally's cumulative cluster rows of the report.
type ClusterFigures struct {
	IndexingTime     time.Duration `json:"indexing-time-ns"`
	IndexingThrottle time.Duration `json:"indexing-throttle-time-ns"`
	MergeTime        time.Duration `json:"merge-time-ns"`
	MergeCount       int64         `json:"merge-count"`
	RefreshTime      time.Duration `json:"refresh-time-ns"`
	RefreshCount     int64         `json:"refresh-count"`
	FlushTime        time.Duration `json:"flush-time-ns"`
	FlushCount       int64         `json:"flush-count"`
	StoreSizeBytes   int64         `json:"store-size-bytes"`
	DocCount         int64         `json:"doc-count"`
	SegmentCount     int64         `json:"segment-count"`
	// Available is false when the target answered none of the stats calls.
	Available bool `json:"available"`
	// GCFigures are the nodes' garbage collection during the race; they
	// have availability flags of their own (read at the race's start and
	// end, not with the figures above).
	GCFigures
}

// GCFigures are Rally's JVM garbage collection rows: what the nodes'
// collectors did between the race's start and end, summed over nodes.
// Young and old are the generational collectors (G1, Parallel, CMS,
// Serial); ZGC reports cycles and pauses instead.
type GCFigures struct {
	YoungGCTime  time.Duration `json:"young-gc-time-ns"`
	YoungGCCount int64         `json:"young-gc-count"`
	OldGCTime    time.Duration `json:"old-gc-time-ns"`
	OldGCCount   int64         `json:"old-gc-count"`
	// GCAvailable is set when the young and old figures were read at both
	// ends of the race.
	GCAvailable bool `json:"gc-available"`

	ZGCCyclesTime  time.Duration `json:"zgc-cycles-time-ns"`
	ZGCCyclesCount int64         `json:"zgc-cycles-count"`
	ZGCPausesTime  time.Duration `json:"zgc-pauses-time-ns"`
	ZGCPausesCount int64         `json:"zgc-pauses-count"`
	// ZGCAvailable is set when the nodes ran ZGC and its figures were read
	// at both ends of the race.
	ZGCAvailable bool `json:"zgc-available"`
}

// Percentiles are the percentiles every report prints.
var Percentiles = []float64{50, 90, 99, 99.9, 99.99, 100}
