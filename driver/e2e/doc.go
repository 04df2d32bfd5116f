// Package e2e runs real Rally tracks through the driver against the
// project's Elasticsearch test target (estarget), end to end: track
// loading, corpus preparation, every schedule step and the metrics. It has
// no code of its own, only tests, kept apart so that the driver's unit
// tests do not depend on the test target.
package e2e
