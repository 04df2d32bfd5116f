// Package metricsstore publishes saved races to an Elasticsearch or
// OpenSearch cluster, in the indices and document shapes esrally writes
// with its metrics store, so that the dashboards and queries esrally users
// keep read rally's races too:
//
//   - rally-races-YYYY-MM: one document per race (id: the race id): what
//     ran, against what, how it ended, and its results (esrally's race
//     document with "results.op_metrics").
//   - rally-results-YYYY-MM: one document per task and metric (throughput,
//     latency, service_time, processing_time, error_rate), and one per
//     cluster-wide figure (total_time, merge_count, young_gc_time, ...):
//     esrally's results documents, "value" an object of "single" or of
//     statistics.
//   - rally-metrics-YYYY-MM: per-task samples as esrally's metrics
//     documents ({"name": "throughput", "value": ..., "task": ...,
//     "sample-type": "normal", "race-id": ..., "@timestamp": ...}).
//
// The month is the race's creation month (UTC). Esrally writes one metrics
// document per request; rally keeps HdrHistograms, not samples, so it
// writes what it has: one "throughput" document per task and second (the
// per-second throughput, warmup seconds with "sample-type": "warmup"), and
// one "latency", "service_time" and "processing_time" document per
// percentile of each task (the percentile in "percentile"), dated at the
// task's last second. Aggregations over rally-metrics therefore give the
// throughput as esrally's do, but a percentile of the percentile documents
// is not a percentile of the requests: read percentiles from rally-results
// or from those documents one by one.
//
// Documents are written with _bulk, with ids derived from the race id so
// that writing a race again replaces its documents instead of doubling
// them; esrally's legacy index templates (_template: Elasticsearch 7.17 and
// 8, OpenSearch 2) are put once per Writer before the first race. Publish
// works in the background; Wait returns what failed. A store that is down
// or refuses loses nothing: the race's race.json keeps everything, and the
// race can be written again.
//
// Reader reads races back, for `rally list races` and `rally compare` with
// a store: the rally-races documents of one environment, newest first
// (esrally's list races, with its filters: RaceFilter), and one race with
// its results (the document's "results", which is what esrally's compare
// reads too) as a report.Race, so that the report package compares it as
// it compares a race.json. Besides esrally's fields the race document
// carries rally's request counts per task and its nodes' figures, so a
// race read back compares exactly as its race.json does; a race esrally
// wrote reads too (its request counts inferred from the percentiles it
// stored). The race document keeps the creation time to the second
// (esrally's race-timestamp).
//
// It must not run or measure races, nor read race.json itself: it gets a
// saved report.Race. Credentials come from the caller (see
// CredentialsFromEnv), never from a URL.
package metricsstore
