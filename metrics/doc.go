// Package metrics records and merges measurements of a race: per-task
// HdrHistograms of service time, latency and processing time, throughput in
// one-second buckets aligned to a shared epoch, and errors by type. Clients
// record into their own Recorder (no shared locks on the hot path); deltas
// are encoded compactly and merged on the coordinator into a Summary.
//
// It must not do I/O beyond encoding: transport is the caller's job.
package metrics
