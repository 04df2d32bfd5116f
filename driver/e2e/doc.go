// Package e2e runs real Rally tracks through the driver against real
// Elasticsearch and OpenSearch nodes started with provision, end to end:
// track loading, corpus preparation, every schedule step and the metrics,
// checked against the engine's own answers; faults injected by estarget's
// proxy in front of a node; the runners of what the integ-test archives
// lack against estarget's canned mode; and the node telemetry of a real
// node. It has no code of its own, only tests, kept apart so that the
// driver's unit tests depend on neither the test target nor real engines.
package e2e
