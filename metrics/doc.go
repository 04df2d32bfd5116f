// Package metrics records and merges measurements of a race: per-task
// HdrHistograms of service time, latency and processing time, throughput in
// one-second buckets aligned to a shared epoch, errors by type, and the
// schedule lag of throttled requests. The clients of a task on one load
// driver record into one striped Recorder (no lock all clients share on
// the hot path, and memory independent of the number of clients); deltas
// are encoded compactly and merged on the coordinator into a Summary.
//
// It must not do I/O beyond encoding: transport is the caller's job.
//
// # Flow
//
// Each task has one Recorder per load driver; each client records through
// its Stripe of it (Recorder.Stripe) once per finished request, which
// takes under 100 ns and allocates nothing in steady state. About once a
// second the driver calls Flush on every recorder, which moves only the
// histogram counts recorded since the last flush out of the stripes; the
// worker may combine deltas of one task with Delta.Merge (one encode per
// task: encoding costs about 1.5 ms and 2.5 MB of garbage, mostly zlib
// state), and ships them as JSON. The coordinator decodes them with
// DecodeDelta, which validates everything, and adds them to an
// Aggregator, which serves Live progress and, at the end, the Summary.
//
// # Rules worth knowing
//
//   - Histograms hold microseconds from 1 µs to 1 hour at 3 significant
//     digits; shorter or negative durations count as 0, longer ones as an
//     hour. Percentiles are reported in milliseconds, as the highest value
//     equivalent to the rank (within 0.1% of the true value).
//   - Warmup samples are counted (WarmupRequests, WarmupErrors) and feed the
//     live throughput, but are in no figure of the Summary.
//   - Failed requests are weighed and counted in the throughput like
//     successful ones (as in Rally); ErrorRate is Errors / Requests over
//     measurement samples. They are timed apart: latency, service time and
//     processing time are of successful requests only (a refused connection
//     answers in microseconds and would pass for a fast search), failed
//     requests have a service time histogram of their own, and each error
//     type the End of its first and last failure (merged by min and max).
//   - A sample's throughput second is floor((End - epoch) / 1 s) with the
//     race-wide epoch, so the buckets of every client on every host align.
//   - Throughput min/mean/median/max are taken over the seconds from the
//     first to the last one with a measurement sample; empty seconds in
//     between count as 0; with 3 or more seconds the first and the last are
//     dropped as partial (see Aggregator.Summary).
//   - Duration is from the earliest request start (End - ServiceTime) to
//     the latest End of the measurement samples.
//   - Schedule lag (actual minus intended start) is recorded for the
//     measurement samples of throttled tasks, failed ones too; latency
//     counts from the intended start, so it includes the lag.
package metrics
