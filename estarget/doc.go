// Package estarget is a TEST TARGET for rally's load driver: a fault proxy in
// front of a real Elasticsearch or OpenSearch node, or, with no node at all,
// a small canned imitation of the REST API. It is not Elasticsearch, holds
// no documents, evaluates no query, and its timings say nothing about any
// engine. Real engines are the ground truth of what an operation does;
// estarget only does what they cannot: misbehave on purpose, and answer
// where no engine is installed.
//
// # Proxy mode (Options.Upstream)
//
// Every request is forwarded to the engine over keep-alive connections,
// bodies streamed both ways, hop-by-hop headers dropped, the engine's
// answer passed back as it is (a failure to reach it is a 502
// estarget_upstream_exception naming it).
//
// # Fault rules (both modes)
//
// Faults is a list of rules; the first whose method and path glob match a
// request (Rule.Method "POST", Rule.Path "*/_bulk") decides what happens
// to it: latency with jitter; periodic stalls (every StallEvery a window
// of StallFor opens, and requests arriving in it or answered in it wait
// for its end, like a stop-the-world GC pause); seeded shares of 429
// es_rejected_execution_exception, 503 and 500 answers and of connection
// resets (TCP RST), all in the engine's place (the engine never sees the
// request); and, on the engine's real answer, truncated bodies (the full
// Content-Length declared, half the body sent, the connection closed) and
// slow bodies (chunks with pauses). Rules are set with Options.Faults, at
// runtime with PUT /_estarget/faults, and read with GET /_estarget/faults;
// GET /_estarget/stats counts requests by API and faults by kind. The
// /_estarget/ namespace itself is never faulted.
//
// # Canned mode (no upstream)
//
// Just enough of the API for pacing, fidelity, integrity, fault and
// lifecycle tests of the driver to run without an engine, in the shapes
// the driver and esrally's runners read:
//
//   - GET and HEAD / (the elasticsearch flavor, default version 8.15.0,
//     sends X-Elastic-Product: Elasticsearch on every answer; the
//     opensearch flavor, 2.17.0, reports distribution "opensearch"), or a
//     405 as builds without the rest-root module answer (NoRootAPI);
//     _nodes (info) and _nodes/stats of one node (the Go runtime as its
//     "JVM", CPU time and memory from /proc, no disk figures).
//   - Indices: create, delete (concrete names), exists, get, settings and
//     mappings (acknowledged, not kept); _cluster/health (green; red and
//     408 for a missing index) and _cluster/settings; _refresh, _flush,
//     _forcemerge (counted); _stats; _tasks (none running).
//   - Documents: _bulk parses only the action/metadata lines and answers
//     every item as done (created, updated, deleted); single-document
//     writes likewise. Each index keeps a COUNTER of documents and source
//     bytes, no sources: _count answers the counter, and _search answers
//     no hits with that total (no query is evaluated, no aggregations,
//     scroll pages are empty).
//   - Fixed answers for the APIs the minimal integ-test archives lack, so
//     that those runners can be exercised end to end: ES|QL (_query, no
//     rows), SQL (_sql, a cursor on every page), async search (done at
//     once), downsample, and by name, remembered without bodies: index,
//     component and legacy templates, ingest pipelines, data streams, ILM
//     and enrich policies, transforms (stopped, nothing processed), ML jobs
//     and datafeeds (opened, started, stopped, closed).
//   - Any other API is a 400 whose reason says estarget's canned mode does
//     not implement it.
package estarget
