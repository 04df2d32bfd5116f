// Package driver is the load driver: it runs a challenge's schedule against
// an Elasticsearch or OpenSearch cluster and measures every request
// honestly. Each client is one goroutine with one keep-alive connection; a
// schedule gives each request its intended start time, so latency includes
// any waiting a slow target causes (no coordinated omission), while service
// time covers only the request itself. Samples go into each client's own
// metrics.Recorder and leave the driver as deltas through a sink.
//
// The driver knows nothing of SSH, actors or hosts: a caller hands it a Plan
// (or, for a share of a task's clients, a TaskPlan) and a sink. It must not
// print, read the environment or decide where results are stored.
package driver
