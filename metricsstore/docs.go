package metricsstore

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"rally/metrics"
	"rally/report"
)

// Index families, as esrally names them; a race's documents go to the
// family's index of the race's month (IndexName).
const (
	RacesIndex   = "rally-races"
	ResultsIndex = "rally-results"
	MetricsIndex = "rally-metrics"
)

// Sample types of metrics documents, as esrally writes them.
const (
	sampleNormal = "normal"
	sampleWarmup = "warmup"
)

// raceTimestamp is esrally's race-timestamp format (basic_date_time_no_millis).
const raceTimestamp = "20060102T150405Z"

// Document is one document to index: where, under which id, and its body.
type Document struct {
	Index string
	ID    string
	Body  map[string]any
}

// IndexName returns the index of a family for a race created at t:
// "rally-results-2026-11".
func IndexName(family string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%s-%04d-%02d", family, t.Year(), int(t.Month()))
}

// Documents returns every document of race r: the race document, the
// results documents, then the metrics documents. environment is esrally's
// env.name, stored in each. It is a pure function of its inputs.
func Documents(r *report.Race, environment string) []Document {
	docs := []Document{{Index: IndexName(RacesIndex, r.Created), ID: r.ID, Body: raceDoc(r, environment)}}
	for i, body := range resultDocs(r, environment) {
		docs = append(docs, Document{Index: IndexName(ResultsIndex, r.Created), ID: r.ID + "-r" + strconv.Itoa(i), Body: body})
	}
	for i, body := range metricDocs(r, environment) {
		docs = append(docs, Document{Index: IndexName(MetricsIndex, r.Created), ID: r.ID + "-m" + strconv.Itoa(i), Body: body})
	}
	return docs
}

// raceDoc is esrally's race document (Race.as_dict) with rally's own
// fields added: status, error, test-mode, incomplete, the target's and the
// load drivers' hosts, the telemetry devices, and each node's figures
// ("nodes", as race.json keeps them), so that a race read back compares
// as its race.json does.
func raceDoc(r *report.Race, environment string) map[string]any {
	d := common(r, environment)
	d["rally-version"] = r.RallyVersion
	d["pipeline"] = r.Pipeline
	d["cluster"] = clusterDoc(r)
	d["results"] = resultsDoc(r)
	d["status"] = r.Status
	d["test-mode"] = r.TestMode
	if r.Error != "" {
		d["error"] = r.Error
	}
	if r.Incomplete {
		d["incomplete"] = true
	}
	if len(r.TargetHosts) > 0 {
		d["target-hosts"] = r.TargetHosts
	}
	if len(r.Hosts) > 0 {
		d["load-driver-hosts"] = r.Hosts
	}
	if len(r.Nodes) > 0 {
		d["nodes"] = r.Nodes
	}
	if len(r.Telemetry) > 0 {
		d["telemetry"] = r.Telemetry
	}
	return d
}

// common are the fields every document of a race carries.
func common(r *report.Race, environment string) map[string]any {
	d := map[string]any{
		"race-id":        r.ID,
		"race-timestamp": r.Created.UTC().Format(raceTimestamp),
		"environment":    environment,
		"track":          r.Track,
		"challenge":      r.Challenge,
	}
	switch {
	case r.Car != "":
		d["car"] = r.Car
	case r.Pipeline == "benchmark-only":
		d["car"] = "external" // esrally's car of a cluster it did not start
	}
	if len(r.UserTags) > 0 {
		d["user-tags"] = r.UserTags
	}
	if len(r.TrackParams) > 0 {
		d["track-params"] = r.TrackParams
	}
	return d
}

func clusterDoc(r *report.Race) map[string]any {
	c := map[string]any{"distribution-version": r.DistributionVersion}
	if r.Distribution != "" {
		c["distribution"] = r.Distribution
	}
	return c
}

// resultsDoc is esrally's GlobalStats.as_dict: op_metrics per task and the
// cluster-wide figures. Each op_metrics entry also carries rally's request
// and error counts ("requests", "errors"): which percentiles a report
// shows depends on them.
func resultsDoc(r *report.Race) map[string]any {
	ops := make([]map[string]any, 0, len(r.Summary.Tasks))
	for _, t := range r.Summary.Tasks {
		op := map[string]any{"task": t.Task, "operation": t.Operation, "requests": t.Requests, "errors": t.Errors}
		for _, m := range taskMetrics(t) {
			op[m.name] = m.value
		}
		op["duration"] = ms(t.Duration)
		ops = append(ops, op)
	}
	res := map[string]any{"op_metrics": ops}
	for _, f := range clusterMetrics(r.Summary.Cluster) {
		res[f.name] = f.value
	}
	return res
}

// resultDocs are esrally's results documents (Race.to_result_dicts): one
// per task and metric, then one per cluster-wide figure.
func resultDocs(r *report.Race, environment string) []map[string]any {
	var docs []map[string]any
	base := func() map[string]any {
		d := common(r, environment)
		d["rally-version"] = r.RallyVersion
		d["distribution-version"] = r.DistributionVersion
		if major, ok := majorVersion(r.DistributionVersion); ok {
			d["distribution-major-version"] = major
		}
		if r.Distribution != "" {
			d["distribution"] = r.Distribution
		}
		d["active"] = true
		return d
	}
	for _, t := range r.Summary.Tasks {
		for _, m := range taskMetrics(t) {
			d := base()
			d["task"], d["operation"], d["name"] = t.Task, t.Operation, m.name
			if v, ok := m.value.(float64); ok {
				d["value"] = map[string]any{"single": v}
			} else {
				d["value"] = m.value
			}
			docs = append(docs, d)
		}
	}
	for _, f := range clusterMetrics(r.Summary.Cluster) {
		d := base()
		d["name"] = f.name
		d["value"] = map[string]any{"single": f.value}
		docs = append(docs, d)
	}
	return docs
}

// metric is one named result: a float64 (a single value) or a map of
// statistics.
type metric struct {
	name  string
	value any
}

// taskMetrics are a task's results as esrally names them: throughput
// statistics, latency, service time and processing time percentiles (keys
// "50_0", "99_9", ..., with "mean" and "unit"), and error_rate. A task
// without measured requests has only its error rate.
func taskMetrics(t metrics.TaskSummary) []metric {
	var out []metric
	if t.Requests > 0 {
		out = append(out, metric{"throughput", map[string]any{
			"min": t.Throughput.Min, "mean": t.Throughput.Mean, "median": t.Throughput.Median, "max": t.Throughput.Max,
			"unit": t.ThroughputUnit,
		}})
	}
	for _, k := range timingKinds {
		pcts := *k.pcts(&t)
		if len(pcts) == 0 {
			continue
		}
		v := map[string]any{"mean": *k.mean(&t), "unit": "ms"}
		for p, x := range pcts {
			v[percentileKey(p)] = x
		}
		out = append(out, metric{k.name, v})
	}
	return append(out, metric{"error_rate", t.ErrorRate})
}

// timingKinds are a task's timings under esrally's names, with where a
// TaskSummary keeps them: what the writer writes and the reader reads back.
var timingKinds = []struct {
	name string
	pcts func(*metrics.TaskSummary) *map[string]float64
	mean func(*metrics.TaskSummary) *float64
}{
	{"latency", func(t *metrics.TaskSummary) *map[string]float64 { return &t.Latency },
		func(t *metrics.TaskSummary) *float64 { return &t.LatencyMean }},
	{"service_time", func(t *metrics.TaskSummary) *map[string]float64 { return &t.ServiceTime },
		func(t *metrics.TaskSummary) *float64 { return &t.ServiceTimeMean }},
	{"processing_time", func(t *metrics.TaskSummary) *map[string]float64 { return &t.ProcessingTime },
		func(t *metrics.TaskSummary) *float64 { return &t.ProcessingTimeMean }},
}

// percentileKey encodes a percentile as esrally does, without dots in field
// names: "50" -> "50_0", "99.9" -> "99_9".
func percentileKey(p string) string {
	f, err := strconv.ParseFloat(p, 64)
	if err != nil {
		return strings.ReplaceAll(p, ".", "_")
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return strings.ReplaceAll(s, ".", "_")
}

// clusterMetrics are the cluster-wide figures under esrally's names and
// units (times in ms, sizes in bytes), those the target reported.
func clusterMetrics(c metrics.ClusterFigures) []metric {
	var out []metric
	for _, g := range clusterGroups {
		if !*g.available(&c) {
			continue
		}
		for _, f := range g.fields {
			if f.time != nil {
				out = append(out, metric{f.name, ms(*f.time(&c))})
			} else {
				out = append(out, metric{f.name, float64(*f.count(&c))})
			}
		}
	}
	return out
}

// clusterField is one cluster-wide figure: its esrally name, and where
// ClusterFigures keeps it, a time (stored in ms) or a count or size.
type clusterField struct {
	name  string
	time  func(*metrics.ClusterFigures) *time.Duration
	count func(*metrics.ClusterFigures) *int64
}

func timeField(name string, f func(*metrics.ClusterFigures) *time.Duration) clusterField {
	return clusterField{name: name, time: f}
}

func countField(name string, f func(*metrics.ClusterFigures) *int64) clusterField {
	return clusterField{name: name, count: f}
}

// clusterGroups are the cluster-wide figures in the groups that are read
// apart (the index figures, the generational GC, ZGC), each with its flag
// of availability: what the writer writes and the reader reads back. A
// group the target did not report is left out, not written as zeros.
var clusterGroups = []struct {
	available func(*metrics.ClusterFigures) *bool
	fields    []clusterField
}{
	{func(c *metrics.ClusterFigures) *bool { return &c.Available }, []clusterField{
		timeField("total_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.IndexingTime }),
		timeField("indexing_throttle_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.IndexingThrottle }),
		timeField("merge_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.MergeTime }),
		countField("merge_count", func(c *metrics.ClusterFigures) *int64 { return &c.MergeCount }),
		timeField("refresh_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.RefreshTime }),
		countField("refresh_count", func(c *metrics.ClusterFigures) *int64 { return &c.RefreshCount }),
		timeField("flush_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.FlushTime }),
		countField("flush_count", func(c *metrics.ClusterFigures) *int64 { return &c.FlushCount }),
		countField("store_size", func(c *metrics.ClusterFigures) *int64 { return &c.StoreSizeBytes }),
		countField("segment_count", func(c *metrics.ClusterFigures) *int64 { return &c.SegmentCount }),
	}},
	{func(c *metrics.ClusterFigures) *bool { return &c.GCAvailable }, []clusterField{
		timeField("young_gc_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.YoungGCTime }),
		countField("young_gc_count", func(c *metrics.ClusterFigures) *int64 { return &c.YoungGCCount }),
		timeField("old_gc_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.OldGCTime }),
		countField("old_gc_count", func(c *metrics.ClusterFigures) *int64 { return &c.OldGCCount }),
	}},
	{func(c *metrics.ClusterFigures) *bool { return &c.ZGCAvailable }, []clusterField{
		timeField("zgc_cycles_gc_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.ZGCCyclesTime }),
		countField("zgc_cycles_gc_count", func(c *metrics.ClusterFigures) *int64 { return &c.ZGCCyclesCount }),
		timeField("zgc_pauses_gc_time", func(c *metrics.ClusterFigures) *time.Duration { return &c.ZGCPausesTime }),
		countField("zgc_pauses_gc_count", func(c *metrics.ClusterFigures) *int64 { return &c.ZGCPausesCount }),
	}},
}

// metricDocs are the per-task samples rally has: the throughput of each
// second, then each percentile of latency, service and processing time.
func metricDocs(r *report.Race, environment string) []map[string]any {
	var docs []map[string]any
	meta := map[string]any{}
	if r.DistributionVersion != "" {
		meta["distribution_version"] = r.DistributionVersion
	}
	if r.Distribution != "" {
		meta["distribution"] = r.Distribution
	}
	for k, v := range r.UserTags {
		meta["tag_"+k] = v // esrally's prefix for user tags in meta
	}
	sample := func(t metrics.TaskSummary, name string, value float64, unit, sampleType string, at time.Duration) map[string]any {
		d := common(r, environment)
		delete(d, "user-tags") // esrally carries them in meta here
		d["@timestamp"] = r.Created.Add(at).UnixMilli()
		d["relative-time"] = float64(at) / float64(time.Millisecond)
		d["name"], d["value"], d["unit"], d["sample-type"] = name, value, unit, sampleType
		d["task"], d["operation"], d["operation-type"] = t.Task, t.Operation, t.OpType
		if len(meta) > 0 {
			d["meta"] = maps.Clone(meta)
		}
		return d
	}
	for _, t := range r.Summary.Tasks {
		secs := r.PerSecond[t.Task]
		for _, s := range []struct {
			typ     string
			buckets []metrics.Bucket
		}{{sampleWarmup, secs.Warmup}, {sampleNormal, secs.Measured}} {
			for _, b := range s.buckets {
				docs = append(docs, sample(t, "throughput", float64(b.Weight), t.ThroughputUnit, s.typ, time.Duration(b.Second)*time.Second))
			}
		}
		// Percentiles are dated at the end of the task's last measured
		// second (the race's start when it has none).
		var end time.Duration
		if n := len(secs.Measured); n > 0 {
			end = time.Duration(secs.Measured[n-1].Second+1) * time.Second
		}
		for _, k := range []struct {
			name string
			pcts map[string]float64
		}{{"latency", t.Latency}, {"service_time", t.ServiceTime}, {"processing_time", t.ProcessingTime}} {
			for _, p := range byPercentile(k.pcts) {
				d := sample(t, k.name, k.pcts[p], "ms", sampleNormal, end)
				if f, err := strconv.ParseFloat(p, 64); err == nil {
					d["percentile"] = f
				}
				docs = append(docs, d)
			}
		}
	}
	return docs
}

// majorVersion is the leading number of a version ("8.15.0" -> 8).
func majorVersion(v string) (int, bool) {
	head, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(head)
	return n, err == nil
}

// ms is a duration in milliseconds, esrally's unit of times.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// byPercentile returns the keys of pcts ("50", "99.9", "100") in numeric
// order.
func byPercentile(pcts map[string]float64) []string {
	keys := slices.Collect(maps.Keys(pcts))
	slices.SortFunc(keys, func(a, b string) int {
		fa, _ := strconv.ParseFloat(a, 64)
		fb, _ := strconv.ParseFloat(b, 64)
		if c := cmp.Compare(fa, fb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}
