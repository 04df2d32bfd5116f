// Package e2e runs real Rally tracks through the driver against the
// project's Elasticsearch test target (estarget), end to end: track
// loading, corpus preparation, every schedule step and the metrics; and
// reads the node telemetry of a real OpenSearch node started with
// provision. It has no code of its own, only tests, kept apart so that the
// driver's unit tests depend on neither the test target nor real engines.
package e2e
