// Package driver is the load driver: it runs a challenge's schedule against
// an Elasticsearch or OpenSearch cluster and measures every request
// honestly. Each client is one goroutine with one keep-alive connection; a
// schedule gives each request its intended start time, so latency includes
// any waiting a slow target causes (no coordinated omission), while service
// time covers only the request itself, and a throttled request's schedule
// lag (how late the driver started it) is measured apart. Throttled
// clients wait for their intended start on a pacer per task, never
// spinning. The samples of a task's clients go into one striped
// metrics.Recorder per task and host, and leave the driver as deltas
// through a sink.
//
// RunStep is the one executor of a schedule step (a task or a parallel
// block with Rally's completed-by, clients limit and staggered ramp-up),
// whether one host runs the whole step or a coordinator spreads its
// clients over several hosts; RunTask runs one task's clients for it, and
// Run runs a whole challenge on one host step by step.
//
// The driver knows nothing of SSH, actors or hosts: a caller hands it a Plan
// (or, for one host's share of a step, a StepPlan) and a sink. It must not
// print, read the environment or decide where results are stored.
package driver
