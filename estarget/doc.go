// Package estarget is a TEST TARGET that speaks a subset of the Elasticsearch
// (and OpenSearch) REST API. It is not Elasticsearch, holds everything in
// memory, and must never be mistaken for a cluster whose numbers mean anything
// about Elasticsearch performance. It exists so that rally's load driver,
// telemetry and error handling can be exercised on a machine without an
// Elasticsearch distribution, and so that faults (latency, GC-like stalls,
// 429 and 5xx responses) can be injected on purpose.
//
// The driver has no special case for it: responses follow the documented
// Elasticsearch REST API shapes (status codes, field names, error objects
// {"error":{"root_cause":[...],"type":...,"reason":...},"status":N}), and the
// numbers in them come from what really happened in this process (documents
// stored, bytes kept, time spent in handlers, Go runtime memory and GC).
//
// # What it implements
//
//   - GET and HEAD / with name, cluster_name, cluster_uuid, version and tagline;
//     the elasticsearch flavor (default version 8.15.0, "9" for 9.0.0) sends
//     X-Elastic-Product: Elasticsearch on every response, the opensearch flavor
//     (2.17.0) does not and reports distribution "opensearch".
//   - Indices: PUT/GET/HEAD/DELETE /{index} (comma lists, wildcards,
//     ignore_unavailable, action.destructive_requires_name), GET/PUT
//     /{index}/_settings, GET /{index}/_mapping, index name validation.
//   - Cluster: _cluster/health[/{index}] with wait_for_status,
//     wait_for_no_relocating_shards and timeout; GET/PUT _cluster/settings;
//     _cat/health and _cat/indices (text or format=json).
//   - Documents: _bulk and /{index}/_bulk with index, create, update (partial
//     doc, upsert, doc_as_upsert) and delete; 20-character auto ids; per-item
//     results and errors shaped like Elasticsearch's; auto-creation of
//     missing indices and data streams; the pipeline parameter (the pipeline
//     must exist). Single documents: PUT/POST /{index}/_doc[/{id}],
//     PUT /{index}/_create/{id}, GET/HEAD/DELETE /{index}/_doc/{id}.
//   - Search: _search, _count, scroll (_search/scroll, DELETE), point in time
//     (ES: _pit; OpenSearch: _search/point_in_time), search_after. Queries:
//     match_all, match_none, term, terms, ids, exists, prefix, wildcard,
//     match (token containment, operator or/and), match_phrase (substring),
//     multi_match, range (numbers, and strings such as ISO dates compared
//     lexically), bool (must, filter, should with minimum_should_match,
//     must_not), constant_score. Sort on fields, _score and _doc;
//     track_total_hits; size/from; _source true/false.
//     Aggregations: terms, min, max, avg, sum, value_count, cardinality,
//     histogram and date_histogram (fixed or calendar intervals) are computed,
//     top level only, without sub-aggregations.
//   - Maintenance: _refresh, _flush, _forcemerge (max_num_segments,
//     wait_for_completion=false with _tasks), _recovery (everything is done).
//   - Statistics: _stats and /{index}/_stats[/{metric}], _nodes/stats[/{metric}],
//     _nodes (info) with one node.
//   - Templates: _template, _index_template (composed_of must exist),
//     _component_template (in-use ones cannot be deleted); data streams
//     (_data_stream, needing a composable template with data_stream:{};
//     only create ops are accepted; the @timestamp field is required);
//     ingest pipelines (_ingest/pipeline).
//   - Faults: latency and jitter, periodic stalls (every StallEvery, requests
//     arriving in a StallFor window and those in flight wait for its end, like
//     a stop-the-world GC pause), and seeded 429/503/500 rates, settable at
//     runtime via PUT /_estarget/faults; GET /_estarget/stats shows counters.
//
// # What it does not do (on purpose, and what that means for results)
//
//   - No Lucene, no analysis, no relevance: every hit scores 1.0; match is a
//     lower-cased token containment test; search is a linear scan of the
//     stored documents, so its cost grows with the index size.
//   - Documents are visible to search as soon as they are written (refresh
//     only counts segments and stats); a point in time sees live data.
//   - Replicas are not modelled: every index has only primary copies, health
//     is green as soon as an index exists, and _shards counts primaries.
//   - Ingest pipelines are stored and checked for existence, never executed.
//   - Aliases, rollover, snapshots, reindex, scripts, highlighting, source
//     filtering by field, filter_path, nested/geo/full-text query families
//     other than the ones above, and aggregation types not listed above are
//     not implemented: unknown queries are answered with a 400
//     parsing_exception that says so, unsupported aggregations are left out of
//     "aggregations" and named in the X-Estarget-Unsupported header.
//   - Mappings are stored and merged from templates but do not change how
//     documents are indexed; no dynamic mapping updates are recorded.
//   - Response compression is not offered; gzip request bodies are accepted.
//
// All state is in memory guarded by one sync.RWMutex; stored sources are kept
// as raw bytes (deleted and overwritten ones until a force merge), so memory
// grows with what is indexed.
package estarget
