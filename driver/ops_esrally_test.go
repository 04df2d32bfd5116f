package driver

import (
	"context"
	"strings"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// runOnce compiles an operation for opsTrack (changed by mod) and runs one
// iteration of one client against srv, as the executor does.
func runOnce(t *testing.T, srv *replayES, opType, params string, mod ...func(*track.Track)) outcome {
	t.Helper()
	tr := opsTrack(t)
	for _, m := range mod {
		m(tr)
	}
	spec, err := compileTask(tr, opTask(t, opType, opType, params))
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	r, err := spec.newRunner(clientSlot{total: 1, seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	dial := func() (Client, error) { return NewClient("", srv.target(), DefaultClientOptions()) }
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	s := &session{client: c, dial: dial}
	defer func() {
		closeClient(c)
		if rc, ok := r.(runnerCloser); ok {
			rc.close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s.begin()
	return r.run(ctx, s)
}

// want is what an iteration must come to: its weight, or its failure.
type want struct {
	weight  int64
	errType metrics.ErrorType
	fatal   string // part of the fatal error's message
}

func (w want) check(t *testing.T, out outcome) {
	t.Helper()
	switch {
	case w.fatal != "":
		if !out.fatal || out.err == nil || !strings.Contains(out.err.Error(), w.fatal) {
			t.Fatalf("outcome %+v (err %v), want fatal %q", out, out.err, w.fatal)
		}
	case w.errType != "":
		if out.errType != w.errType || out.fatal {
			t.Fatalf("outcome %+v (err %v), want error %s", out, out.err, w.errType)
		}
	default:
		if out.err != nil || out.weight != w.weight {
			t.Fatalf("outcome weight %d, err %v; want weight %d", out.weight, out.err, w.weight)
		}
	}
}

// TestOperationsFollowEsrally runs each of esrally's operation types once
// against recorded answers: the requests must be esrally's (method, path,
// query, body, in order) and the outcome its weight or its error.
func TestOperationsFollowEsrally(t *testing.T) {
	http400, http404, http500 := metrics.HTTPError(400), metrics.HTTPError(404), metrics.HTTPError(500)
	for _, tc := range []struct {
		name      string
		opType    string
		params    string
		track     func(*track.Track)
		exchanges []exchange
		want      want
		// sent, when set, is every request in order ("METHOD URI").
		sent []string
	}{
		// ES|QL and SQL
		{name: "esql sends query and filter into the body", opType: "esql",
			params: `{"query":"FROM logs-* | STATS count=COUNT(*) BY host","filter":{"range":{"@timestamp":{"gte":"2024-05-01"}}},"body":{"columnar":false},"request-params":{"format":"json"}}`,
			exchanges: []exchange{ex("POST /_query?format=json",
				`{"columnar":false,"filter":{"range":{"@timestamp":{"gte":"2024-05-01"}}},"query":"FROM logs-* | STATS count=COUNT(*) BY host"}`, ok("esql/columns.json"))},
			want: want{weight: 1}},
		{name: "esql error is an HTTP error", opType: "esql", params: `{"query":"FROM nosuch"}`,
			exchanges: []exchange{ex("POST /_query", `{"query":"FROM nosuch"}`, reply{400, "esql/unknown-index.json"})},
			want:      want{errType: http400}},
		{name: "sql pages with the cursor", opType: "sql", params: `{"body":{"query":"SELECT host, status FROM \"logs-a\"","fetch_size":2},"pages":3}`,
			exchanges: []exchange{
				ex("POST /_sql", `{"fetch_size":2,"query":"SELECT host, status FROM \"logs-a\""}`, ok("sql/page-1.json")),
				ex("POST /_sql", `{"cursor":"sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWWWdrRlVfSS1TbDYtcW9lc1FJNmlYdw==:BAFmBGhvc3QBZgZzdGF0dXP6////Dw=="}`, ok("sql/page-2.json")),
				ex("POST /_sql", `{"cursor":"sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWWWdrRlVfSS1TbDYtcW9lc1FJNmlYdw==:BAFmBGhvc3QBZgZzdGF0dXP6////Dw==2"}`, ok("sql/last-page.json")),
			},
			want: want{weight: 3},
			sent: []string{"POST /_sql", "POST /_sql", "POST /_sql"}},
		{name: "sql running out of pages is fatal", opType: "sql", params: `{"body":{"query":"SELECT 1"},"pages":2}`,
			exchanges: []exchange{ex("POST /_sql", `{"query":"SELECT 1"}`, ok("sql/last-page.json"))},
			want:      want{fatal: "exhausted before all pages have been fetched, 1 page(s) remaining"}},
		{name: "sql error is an HTTP error", opType: "sql", params: `{"body":{"query":"SELECT host FORM logs"}}`,
			exchanges: []exchange{ex("POST /_sql", `{"query":"SELECT host FORM logs"}`, reply{400, "sql/parsing-exception.json"})},
			want:      want{errType: http400}},
		// field capabilities and downsampling
		{name: "field-caps of all fields", opType: "field-caps", params: `{"index":"logs-*"}`,
			exchanges: []exchange{ex("GET /logs-*/_field_caps?fields=%2A", "", ok("field-caps/elasticsearch-8.17.0-all.json"))},
			want:      want{weight: 1}},
		{name: "field-caps defaults to all indices", opType: "field-caps",
			exchanges: []exchange{ex("GET /_all/_field_caps?fields=%2A", "", ok("field-caps/opensearch-2.19.1-all.json"))},
			want:      want{weight: 1}},
		{name: "field-caps with an index filter posts it", opType: "field-caps",
			params: `{"index":"logs-a","fields":["status","host"],"index_filter":{"range":{"@timestamp":{"gte":"2024-01-01"}}},"request-params":{"include_unmapped":true}}`,
			exchanges: []exchange{ex("POST /logs-a/_field_caps?fields=status%2Chost&include_unmapped=true",
				`{"index_filter":{"range":{"@timestamp":{"gte":"2024-01-01"}}}}`, ok("field-caps/elasticsearch-8.17.0-index-filter.json"))},
			want: want{weight: 1}},
		{name: "field-caps of a missing index is an HTTP error", opType: "field-caps", params: `{"index":"nosuchindex"}`,
			exchanges: []exchange{ex("GET /nosuchindex/_field_caps?fields=%2A", "", reply{404, "field-caps/elasticsearch-8.17.0-no-such-index.json"})},
			want:      want{errType: http404}},
		{name: "downsample defaults to the track's data stream and 1h", opType: "downsample",
			exchanges: []exchange{ex("POST /logs-ds/_downsample/logs-ds-1h", `{"fixed_interval":"1h"}`, ok("downsample/acknowledged.json"))},
			want:      want{weight: 1}},
		{name: "downsample of a writable index is an HTTP error", opType: "downsample",
			params:    `{"source-index":"tsdb-logs","target-index":"tsdb-logs-5m","fixed-interval":"5m"}`,
			exchanges: []exchange{ex("POST /tsdb-logs/_downsample/tsdb-logs-5m", `{"fixed_interval":"5m"}`, reply{400, "downsample/not-read-only.json"})},
			want:      want{errType: http400}},
		// snapshots
		{name: "create-snapshot-repository", opType: "create-snapshot-repository",
			params: `{"repository":"backups","body":{"type":"fs","settings":{"location":"/tmp/rec/repo/backups"}},"request-params":{"verify":false}}`,
			exchanges: []exchange{ex("PUT /_snapshot/backups?verify=false", `{"type":"fs","settings":{"location":"/tmp/rec/repo/backups"}}`,
				ok("create-snapshot-repository/elasticsearch-8.17.0.json"))},
			want: want{weight: 1}},
		{name: "create-snapshot-repository outside path.repo is an HTTP error", opType: "create-snapshot-repository",
			params:    `{"repository":"bad","body":{"type":"fs","settings":{"location":"/elsewhere"}}}`,
			exchanges: []exchange{ex("PUT /_snapshot/bad", "*", reply{500, "create-snapshot-repository/elasticsearch-8.17.0-outside-path-repo.json"})},
			want:      want{errType: http500}},
		{name: "delete-snapshot-repository", opType: "delete-snapshot-repository", params: `{"repository":"backups"}`,
			exchanges: []exchange{ex("DELETE /_snapshot/backups", "", ok("delete-snapshot-repository/elasticsearch-8.17.0.json"))},
			want:      want{weight: 1}},
		{name: "delete-snapshot-repository of a missing one is fine", opType: "delete-snapshot-repository", params: `{"repository":"backups"}`,
			exchanges: []exchange{ex("DELETE /_snapshot/backups", "", reply{404, "delete-snapshot-repository/elasticsearch-8.17.0-missing.json"})},
			want:      want{weight: 1}},
		{name: "create-snapshot does not wait by default", opType: "create-snapshot",
			params: `{"repository":"backups","snapshot":"snap-1","body":{"indices":"logs-a,logs-b","include_global_state":false}}`,
			exchanges: []exchange{ex("PUT /_snapshot/backups/snap-1?wait_for_completion=false", `{"indices":"logs-a,logs-b","include_global_state":false}`,
				ok("create-snapshot/elasticsearch-8.17.0.json"))},
			want: want{weight: 1}},
		{name: "create-snapshot waits when told and keeps request-params", opType: "create-snapshot",
			params:    `{"repository":"backups","snapshot":"snap-1","wait-for-completion":true,"body":{},"request-params":{"master_timeout":"1m"}}`,
			exchanges: []exchange{ex("PUT /_snapshot/backups/snap-1?master_timeout=1m&wait_for_completion=true", `{}`, ok("create-snapshot/elasticsearch-8.17.0.json"))},
			want:      want{weight: 1}},
		{name: "restore-snapshot", opType: "restore-snapshot", params: `{"repository":"backups","snapshot":"snap-1","body":{"indices":"logs-b"}}`,
			exchanges: []exchange{ex("POST /_snapshot/backups/snap-1/_restore?wait_for_completion=false", `{"indices":"logs-b"}`, ok("restore-snapshot/elasticsearch-8.17.0.json"))},
			want:      want{weight: 1}},
		{name: "restore-snapshot over an open index is an HTTP error", opType: "restore-snapshot", params: `{"repository":"backups","snapshot":"snap-1"}`,
			exchanges: []exchange{ex("POST /_snapshot/backups/snap-1/_restore?wait_for_completion=false", `{}`, reply{500, "restore-snapshot/elasticsearch-8.17.0-open-index.json"})},
			want:      want{errType: http500}},
		{name: "wait-for-snapshot-create polls until done and weighs the bytes", opType: "wait-for-snapshot-create",
			params: `{"repository":"backups","snapshot":"snap-1","completion-recheck-wait-period":0.01}`,
			exchanges: []exchange{
				ex("GET /_snapshot/backups/_current?verbose=false", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-running.json"), ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-none.json")),
				ex("GET /_snapshot/backups/snap-1/_status?ignore_unavailable=true", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-status-success.json")),
			},
			want: want{weight: 24252},
			sent: []string{"GET /_snapshot/backups/_current?verbose=false", "GET /_snapshot/backups/_current?verbose=false", "GET /_snapshot/backups/snap-1/_status?ignore_unavailable=true"}},
		{name: "wait-for-snapshot-create of a failed snapshot is fatal", opType: "wait-for-snapshot-create", params: `{"repository":"backups","snapshot":"snap-1"}`,
			exchanges: []exchange{
				ex("GET /_snapshot/backups/_current?verbose=false", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-none.json")),
				ex("GET /_snapshot/backups/snap-1/_status?ignore_unavailable=true", "", ok("wait-for-snapshot-create/status-failed.json")),
			},
			want: want{fatal: "snapshot [snap-1] failed"}},
		{name: "wait-for-snapshot-create of a missing snapshot is fatal", opType: "wait-for-snapshot-create", params: `{"repository":"backups","snapshot":"snap-1"}`,
			exchanges: []exchange{
				ex("GET /_snapshot/backups/_current?verbose=false", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-none.json")),
				ex("GET /_snapshot/backups/snap-1/_status?ignore_unavailable=true", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-status-missing.json")),
			},
			want: want{fatal: "snapshot [snap-1] is not in the repository"}},
		{name: "wait-for-current-snapshots-create asks for no index names from 8.3", opType: "wait-for-current-snapshots-create",
			params: `{"repository":"backups","completion-recheck-wait-period":0.01}`,
			exchanges: []exchange{
				ex("GET /", "", ok("root/elasticsearch-8.17.0.json")),
				ex("GET /_snapshot/backups/_current?verbose=false&index_names=false", "",
					ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-running.json"), ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-running.json"),
					ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-none.json")),
			},
			want: want{weight: 1},
			sent: []string{"GET /", "GET /_snapshot/backups/_current?verbose=false&index_names=false",
				"GET /_snapshot/backups/_current?verbose=false&index_names=false", "GET /_snapshot/backups/_current?verbose=false&index_names=false"}},
		{name: "wait-for-current-snapshots-create before 8.3", opType: "wait-for-current-snapshots-create", params: `{"repository":"backups"}`,
			exchanges: []exchange{
				ex("GET /", "", ok("root/elasticsearch-8.2.3.json")),
				ex("GET /_snapshot/backups/_current?verbose=false", "", ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-none.json")),
			},
			want: want{weight: 1}},
		{name: "wait-for-current-snapshots-create without a total is fatal", opType: "wait-for-current-snapshots-create", params: `{"repository":"backups"}`,
			exchanges: []exchange{
				ex("GET /", "", ok("root/opensearch-2.19.1.json")),
				ex("GET /_snapshot/backups/_current?verbose=false", "", ok("wait-for-current-snapshots-create/no-total.json")),
			},
			want: want{fatal: "has no total"}},
		// machine learning
		{name: "create-ml-job", opType: "create-ml-job",
			params:    `{"job-id":"logs-rate","body":{"analysis_config":{"bucket_span":"15m","detectors":[{"function":"count"}]},"data_description":{"time_field":"@timestamp"}}}`,
			exchanges: []exchange{ex("PUT /_ml/anomaly_detectors/logs-rate", "*", ok("ml/put-job.json"))},
			want:      want{weight: 1}},
		{name: "create-ml-job falls back to /_xpack on HTTP 400 (Elasticsearch 6.8)", opType: "create-ml-job", params: `{"job-id":"logs-rate","body":{"x":1}}`,
			exchanges: []exchange{
				ex("PUT /_ml/anomaly_detectors/logs-rate", `{"x":1}`, reply{400, "ml/elasticsearch-6.8-no-handler.json"}),
				ex("PUT /_xpack/ml/anomaly_detectors/logs-rate", `{"x":1}`, ok("ml/put-job.json")),
			},
			want: want{weight: 1}},
		{name: "create-ml-job that exists fails on both paths", opType: "create-ml-job", params: `{"job-id":"logs-rate","body":{"x":1}}`,
			exchanges: []exchange{
				ex("PUT /_ml/anomaly_detectors/logs-rate", `{"x":1}`, reply{400, "ml/job-exists.json"}),
				ex("PUT /_xpack/ml/anomaly_detectors/logs-rate", `{"x":1}`, reply{400, "ml/elasticsearch-6.8-no-handler.json"}),
			},
			want: want{errType: http400}},
		{name: "open-ml-job", opType: "open-ml-job", params: `{"job-id":"logs-rate"}`,
			exchanges: []exchange{ex("POST /_ml/anomaly_detectors/logs-rate/_open", "", ok("ml/opened.json"))},
			want:      want{weight: 1}},
		{name: "close-ml-job with timeout", opType: "close-ml-job", params: `{"job-id":"logs-rate","timeout":"30m"}`,
			exchanges: []exchange{ex("POST /_ml/anomaly_detectors/logs-rate/_close?force=false&timeout=30m", "", ok("ml/closed.json"))},
			want:      want{weight: 1}},
		{name: "delete-ml-job of a missing job is fine", opType: "delete-ml-job", params: `{"job-id":"logs-rate","force":true}`,
			exchanges: []exchange{ex("DELETE /_ml/anomaly_detectors/logs-rate?force=true", "", reply{404, "ml/no-such-job.json"})},
			want:      want{weight: 1}},
		{name: "create-ml-datafeed", opType: "create-ml-datafeed", params: `{"datafeed-id":"datafeed-logs-rate","body":{"job_id":"logs-rate","indices":["logs-a"]}}`,
			exchanges: []exchange{ex("PUT /_ml/datafeeds/datafeed-logs-rate", `{"job_id":"logs-rate","indices":["logs-a"]}`, ok("ml/put-datafeed.json"))},
			want:      want{weight: 1}},
		{name: "start-ml-datafeed with start and end", opType: "start-ml-datafeed", params: `{"datafeed-id":"datafeed-logs-rate","start":"2024-05-01T00:00:00Z","end":"now"}`,
			exchanges: []exchange{ex("POST /_ml/datafeeds/datafeed-logs-rate/_start?end=now&start=2024-05-01T00%3A00%3A00Z", "", ok("ml/started.json"))},
			want:      want{weight: 1}},
		{name: "start-ml-datafeed falls back to /_xpack without the query", opType: "start-ml-datafeed", params: `{"datafeed-id":"datafeed-logs-rate","timeout":"1m"}`,
			exchanges: []exchange{
				ex("POST /_ml/datafeeds/datafeed-logs-rate/_start?timeout=1m", "", reply{400, "ml/elasticsearch-6.8-no-handler.json"}),
				ex("POST /_xpack/ml/datafeeds/datafeed-logs-rate/_start", "", ok("ml/started.json")),
			},
			want: want{weight: 1}},
		{name: "stop-ml-datafeed", opType: "stop-ml-datafeed", params: `{"datafeed-id":"datafeed-logs-rate"}`,
			exchanges: []exchange{ex("POST /_ml/datafeeds/datafeed-logs-rate/_stop?force=false", "", ok("ml/stopped.json"))},
			want:      want{weight: 1}},
		{name: "delete-ml-datafeed of a missing datafeed is fine", opType: "delete-ml-datafeed", params: `{"datafeed-id":"datafeed-logs-rate"}`,
			exchanges: []exchange{ex("DELETE /_ml/datafeeds/datafeed-logs-rate?force=false", "", reply{404, "ml/no-such-datafeed.json"})},
			want:      want{weight: 1}},
		// transforms
		{name: "create-transform", opType: "create-transform", params: `{"transform-id":"logs-by-host","defer-validation":true,"body":{"source":{"index":"logs-a"}}}`,
			exchanges: []exchange{ex("PUT /_transform/logs-by-host?defer_validation=true", `{"source":{"index":"logs-a"}}`, ok("transform/acknowledged.json"))},
			want:      want{weight: 1}},
		{name: "create-transform of a missing source is an HTTP error", opType: "create-transform", params: `{"transform-id":"logs-by-host","body":{"source":{"index":"logs-x"}}}`,
			exchanges: []exchange{ex("PUT /_transform/logs-by-host?defer_validation=false", "*", reply{400, "transform/source-missing.json"})},
			want:      want{errType: http400}},
		{name: "start-transform", opType: "start-transform", params: `{"transform-id":"logs-by-host","timeout":"30s"}`,
			exchanges: []exchange{ex("POST /_transform/logs-by-host/_start?timeout=30s", "", ok("transform/acknowledged.json"))},
			want:      want{weight: 1}},
		{name: "delete-transform of a missing transform is fine", opType: "delete-transform", params: `{"transform-id":"logs-by-host"}`,
			exchanges: []exchange{ex("DELETE /_transform/logs-by-host?force=false", "", reply{404, "transform/no-such-transform.json"})},
			want:      want{weight: 1}},
		{name: "transform-stats checks the first transform", opType: "transform-stats",
			params:    `{"transform-id":"logs-by-host","condition":{"path":"checkpointing.next.checkpoint_progress.percent_complete","expected-value":100}}`,
			exchanges: []exchange{ex("GET /_transform/logs-by-host/_stats", "", ok("transform/stats-stopped-20000.json"))},
			want:      want{weight: 1}},
		{name: "transform-stats condition not met", opType: "transform-stats", params: `{"transform-id":"logs-by-host","condition":{"path":"state","expected-value":"stopped"}}`,
			exchanges: []exchange{ex("GET /_transform/logs-by-host/_stats", "", ok("transform/stats-indexing-1000.json"))},
			want:      want{errType: metrics.ErrCondition}},
		// index lifecycle
		{name: "create-ilm-policy keeps only the request-params esrally passes", opType: "create-ilm-policy",
			params: `{"policy-name":"logs-policy","body":{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}}}}},"request-params":{"master_timeout":"30s","pretty":"true"}}`,
			exchanges: []exchange{ex("PUT /_ilm/policy/logs-policy?master_timeout=30s", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}}}}}`,
				ok("ilm/acknowledged.json"))},
			want: want{weight: 1}},
		{name: "create-ilm-policy refused is an HTTP error", opType: "create-ilm-policy", params: `{"policy-name":"logs-policy","body":{"policy":{"hot":{}}}}`,
			exchanges: []exchange{ex("PUT /_ilm/policy/logs-policy", `{"policy":{"hot":{}}}`, reply{400, "ilm/bad-policy.json"})},
			want:      want{errType: http400}},
		{name: "delete-ilm-policy of a missing policy is fine", opType: "delete-ilm-policy", params: `{"policy-name":"logs-policy"}`,
			exchanges: []exchange{ex("DELETE /_ilm/policy/logs-policy", "", reply{404, "ilm/no-such-policy.json"})},
			want:      want{weight: 1}},
		// shrink
		{name: "shrink-index pins, waits, shrinks and waits", opType: "shrink-index",
			params: `{"source-index":"logs-a","target-index":"logs-a-small","target-body":{"settings":{"index.number_of_shards":1,"index.number_of_replicas":0}}}`,
			exchanges: []exchange{
				ex("GET /logs-a", "", ok("shrink-index/elasticsearch-8.17.0-get-source.json")),
				ex("GET /_nodes", "", ok("shrink-index/elasticsearch-8.17.0-nodes.json")),
				ex("PUT /logs-a/_settings?preserve_existing=true", `{"settings":{"index.routing.allocation.require._name":"rec-node","index.blocks.write":"true"}}`, ok("shrink-index/elasticsearch-8.17.0-pin.json")),
				ex("GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true", "", reply{408, ""}, ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
				ex("PUT /logs-a/_shrink/logs-a-small", `{"settings":{"index.number_of_shards":1,"index.number_of_replicas":0,"index.routing.allocation.require._name":null,"index.blocks.write":null}}`,
					ok("shrink-index/elasticsearch-8.17.0-shrink.json")),
				ex("GET /_cluster/health/logs-a-small?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-target.json")),
			},
			want: want{weight: 1},
			sent: []string{"GET /logs-a", "GET /_nodes", "PUT /logs-a/_settings?preserve_existing=true",
				"GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true", "GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true",
				"PUT /logs-a/_shrink/logs-a-small", "GET /_cluster/health/logs-a-small?wait_for_no_relocating_shards=true"}},
		{name: "shrink-index of several indices names the targets by their suffix", opType: "shrink-index",
			params: `{"source-index":"logs-2024-*","target-index":"logs-small","shrink-node":"rec-node","target-body":{}}`,
			exchanges: []exchange{
				ex("GET /logs-2024-*", "", ok("shrink-index/two-sources.json")),
				ex("PUT /logs-2024-01/_settings?preserve_existing=true", "*", ok("shrink-index/elasticsearch-8.17.0-pin.json")),
				ex("PUT /logs-2024-02/_settings?preserve_existing=true", "*", ok("shrink-index/elasticsearch-8.17.0-pin.json")),
				ex("GET /_cluster/health/logs-2024-01?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
				ex("GET /_cluster/health/logs-2024-02?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
				ex("PUT /logs-2024-01/_shrink/logs-small1", `{"settings":{"index.routing.allocation.require._name":null,"index.blocks.write":null}}`, ok("shrink-index/elasticsearch-8.17.0-shrink.json")),
				ex("PUT /logs-2024-02/_shrink/logs-small2", "*", ok("shrink-index/elasticsearch-8.17.0-shrink.json")),
				ex("GET /_cluster/health/logs-small1?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-target.json")),
				ex("GET /_cluster/health/logs-small2?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-target.json")),
			},
			want: want{weight: 2},
			sent: []string{"GET /logs-2024-*",
				"PUT /logs-2024-01/_settings?preserve_existing=true", "GET /_cluster/health/logs-2024-01?wait_for_no_relocating_shards=true",
				"PUT /logs-2024-01/_shrink/logs-small1", "GET /_cluster/health/logs-small1?wait_for_no_relocating_shards=true",
				"PUT /logs-2024-02/_settings?preserve_existing=true", "GET /_cluster/health/logs-2024-02?wait_for_no_relocating_shards=true",
				"PUT /logs-2024-02/_shrink/logs-small2", "GET /_cluster/health/logs-small2?wait_for_no_relocating_shards=true"}},
		{name: "shrink-index still relocating is fatal", opType: "shrink-index", params: `{"source-index":"logs-a","target-index":"s","shrink-node":"n","target-body":{}}`,
			exchanges: []exchange{
				ex("GET /logs-a", "", ok("shrink-index/elasticsearch-8.17.0-get-source.json")),
				ex("PUT /logs-a/_settings?preserve_existing=true", "*", ok("shrink-index/elasticsearch-8.17.0-pin.json")),
				ex("GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true", "", ok("shrink-index/health-relocating.json")),
			},
			want: want{fatal: "failed to wait for [shard relocation for index [logs-a]]"}},
		{name: "shrink-index to an existing index is an HTTP error", opType: "shrink-index", params: `{"source-index":"logs-a","target-index":"logs-a-small","shrink-node":"rec-node","target-body":{}}`,
			exchanges: []exchange{
				ex("GET /logs-a", "", ok("shrink-index/elasticsearch-8.17.0-get-source.json")),
				ex("PUT /logs-a/_settings?preserve_existing=true", "*", ok("shrink-index/elasticsearch-8.17.0-pin.json")),
				ex("GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
				ex("PUT /logs-a/_shrink/logs-a-small", "*", reply{400, "shrink-index/elasticsearch-8.17.0-target-exists.json"}),
			},
			want: want{errType: http400}},
		// run-until
		{name: "run-until polls until the criterion holds", opType: "run-until",
			params: `{"path":"/_cluster/health/logs-a","json-path":"active_shards","criterion":{"operator":"gte","value":2},"retry-wait-interval":0.01}`,
			exchanges: []exchange{ex("GET /_cluster/health/logs-a", "",
				ok("shrink-index/elasticsearch-8.17.0-health-target.json"), ok("shrink-index/elasticsearch-8.17.0-health-source.json"))},
			want: want{weight: 1}},
		{name: "run-until compares 0 too", opType: "run-until",
			params:    `{"method":"GET","path":"/_cluster/health","json-path":"relocating_shards","criterion":{"operator":"eq","value":"0"},"retry-wait-interval":0.01,"request-params":{"level":"cluster"}}`,
			exchanges: []exchange{ex("GET /_cluster/health?level=cluster", "", ok("shrink-index/health-relocating.json"), ok("shrink-index/elasticsearch-8.17.0-health-source.json"))},
			want:      want{weight: 1}},
		{name: "run-until not_exists", opType: "run-until", params: `{"path":"/_snapshot/backups/_current","json-path":"snapshots.item.snapshot","criterion":{"operator":"not_exists"},"retry-wait-interval":0.01}`,
			exchanges: []exchange{ex("GET /_snapshot/backups/_current", "",
				ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-running.json"), ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-none.json"))},
			want: want{weight: 1}},
		{name: "run-until of a value that is no integer is fatal", opType: "run-until", params: `{"path":"/_cluster/health","json-path":"status","criterion":{"operator":"gte","value":1}}`,
			exchanges: []exchange{ex("GET /_cluster/health", "", ok("shrink-index/elasticsearch-8.17.0-health-source.json"))},
			want:      want{fatal: `"green" is not an integer`}},
		{name: "run-until HTTP error", opType: "run-until", params: `{"path":"/_cluster/health/nosuch","json-path":"status","criterion":{"operator":"exists"}}`,
			exchanges: []exchange{ex("GET /_cluster/health/nosuch", "", reply{404, "field-caps/elasticsearch-8.17.0-no-such-index.json"})},
			want:      want{errType: http404}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayES(t, tc.exchanges...)
			var mods []func(*track.Track)
			if tc.track != nil {
				mods = append(mods, tc.track)
			}
			defer setShrinkSettle(t, time.Millisecond)()
			out := runOnce(t, srv, tc.opType, tc.params, mods...)
			tc.want.check(t, out)
			srv.requireAllUsed(t)
			if tc.sent != nil {
				var got []string
				for _, r := range srv.requests() {
					got = append(got, r.Method+" "+r.URI)
				}
				equalLines(t, got, tc.sent)
			}
		})
	}
}

// setShrinkSettle shortens shrink-index's pause; the returned func restores
// it.
func setShrinkSettle(t *testing.T, d time.Duration) func() {
	old := shrinkSettle
	shrinkSettle = d
	return func() { shrinkSettle = old }
}
