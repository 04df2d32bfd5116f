package driver

import (
	"context"
	"testing"
	"time"

	"rally/metrics"
	"rally/track"
)

// TestEsrallyOperationsTrack loads testdata/tracks/esrally-ops (most of
// esrally's operation types beyond bulk and search) as `rally race
// --test-mode` does and runs its challenge through the driver against
// recorded answers: the track needs no track.py, every task completes
// without an error, and every recorded exchange is used.
func TestEsrallyOperationsTrack(t *testing.T) {
	defer setShrinkSettle(t, time.Millisecond)()
	tr, err := track.Load(track.LoadOptions{Path: "testdata/tracks/esrally-ops", TestMode: true})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tr.Challenge("")
	if err != nil {
		t.Fatal(err)
	}
	if reqs := tr.CustomRequirements(ch); len(reqs) != 0 {
		t.Fatalf("the track needs a track.py: %v", reqs)
	}
	if err := Validate(tr, ch); err != nil {
		t.Fatal(err)
	}

	const pages = "paginated-search/elasticsearch-8.17.0-pit-page-"
	open := recorded(t, "open-point-in-time/elasticsearch-8.17.0.json")["id"].(string)
	asyncID := recorded(t, "submit-async-search/running.json")["id"].(string)
	exchanges := []exchange{
		ex("PUT /_snapshot/backups", `{"type":"fs","settings":{"location":"/tmp/rec/repo/backups"}}`, ok("create-snapshot-repository/elasticsearch-8.17.0.json")),
		ex("PUT /_snapshot/backups/snap-1?wait_for_completion=false", "*", ok("create-snapshot/elasticsearch-8.17.0.json")),
		ex("GET /_snapshot/backups/_current?verbose=false", "",
			ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-running.json"), ok("wait-for-snapshot-create/elasticsearch-8.17.0-current-none.json")),
		ex("GET /_snapshot/backups/snap-1/_status?ignore_unavailable=true", "", ok("wait-for-snapshot-create/elasticsearch-8.17.0-status-success.json")),
		// field-caps and the composite operation's field-caps and detection
		ex("GET /", "", ok("root/elasticsearch-8.17.0.json")),
		ex("POST /logs-a/_pit?keep_alive=1m", "", ok("open-point-in-time/elasticsearch-8.17.0.json")),
		ex("GET /_search", pageBody(t, 5, open, nil), ok(pages+"1.json")),
		ex("GET /_search", pageBody(t, 5, recorded(t, pages+"1.json")["pit_id"].(string), lastSort(t, pages+"1.json")), ok(pages+"2.json")),
		ex("GET /_search", pageBody(t, 5, recorded(t, pages+"2.json")["pit_id"].(string), lastSort(t, pages+"2.json")), ok(pages+"3.json")),
		ex("DELETE /_pit", jsonText(t, map[string]any{"id": recorded(t, pages+"3.json")["pit_id"]}), ok("close-point-in-time/elasticsearch-8.17.0.json")),
		ex("POST /logs-a/_async_search?wait_for_completion_timeout=0", `{"query":{"match_all":{}}}`, ok("submit-async-search/running.json")),
		ex("GET /_async_search/"+asyncID, "", ok("get-async-search/running.json"), ok("get-async-search/completed.json")),
		ex("DELETE /_async_search/"+asyncID, "", ok("delete-async-search/acknowledged.json")),
		ex("POST /_sql", `{"fetch_size":2,"query":"SELECT host, status FROM \"logs-a\""}`, ok("sql/page-1.json")),
		ex("POST /_sql", `{"cursor":"sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWWWdrRlVfSS1TbDYtcW9lc1FJNmlYdw==:BAFmBGhvc3QBZgZzdGF0dXP6////Dw=="}`, ok("sql/page-2.json")),
		ex("POST /_sql", `{"cursor":"sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWWWdrRlVfSS1TbDYtcW9lc1FJNmlYdw==:BAFmBGhvc3QBZgZzdGF0dXP6////Dw==2"}`, ok("sql/last-page.json")),
		ex("POST /_query", `{"query":"FROM logs-* | STATS count=COUNT(*) BY host"}`, ok("esql/columns.json")),
		ex("PUT /_transform/logs-by-host?defer_validation=false", "*", ok("transform/acknowledged.json")),
		ex("POST /_transform/logs-by-host/_start", "", ok("transform/acknowledged.json")),
		ex(stopTransform, "", ok("transform/acknowledged.json")),
		ex("GET /_transform/logs-by-host/_stats", "",
			ok("transform/stats-indexing-1000.json"), ok("transform/stats-stopping-9000.json"), ok("transform/stats-stopped-20000.json")),
		ex("DELETE /_transform/logs-by-host?force=false", "", ok("transform/acknowledged.json")),
		ex("PUT /_ml/anomaly_detectors/logs-rate", "*", ok("ml/put-job.json")),
		ex("POST /_ml/anomaly_detectors/logs-rate/_open", "", ok("ml/opened.json")),
		ex("PUT /_ml/datafeeds/datafeed-logs-rate", `{"job_id":"logs-rate","indices":["logs-a"]}`, ok("ml/put-datafeed.json")),
		ex("POST /_ml/datafeeds/datafeed-logs-rate/_start", "", ok("ml/started.json")),
		ex("POST /_ml/datafeeds/datafeed-logs-rate/_stop?force=false", "", ok("ml/stopped.json")),
		ex("POST /_ml/anomaly_detectors/logs-rate/_close?force=false", "", ok("ml/closed.json")),
		ex("DELETE /_ml/datafeeds/datafeed-logs-rate?force=false", "", ok("ml/acknowledged.json")),
		ex("DELETE /_ml/anomaly_detectors/logs-rate?force=false", "", ok("ml/acknowledged.json")),
		ex("PUT /_ilm/policy/logs-policy", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}}}}}`, ok("ilm/acknowledged.json")),
		ex("DELETE /_ilm/policy/logs-policy", "", ok("ilm/acknowledged.json")),
		ex("GET /_cluster/health/logs-a", "", ok("shrink-index/elasticsearch-8.17.0-health-target.json"), ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
		ex("GET /logs-a", "", ok("shrink-index/elasticsearch-8.17.0-get-source.json")),
		ex("PUT /logs-a/_settings?preserve_existing=true", `{"settings":{"index.routing.allocation.require._name":"rec-node","index.blocks.write":"true"}}`, ok("shrink-index/elasticsearch-8.17.0-pin.json")),
		ex("GET /_cluster/health/logs-a?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-source.json")),
		ex("PUT /logs-a/_shrink/logs-a-small", `{"settings":{"index.number_of_shards":1,"index.routing.allocation.require._name":null,"index.blocks.write":null}}`, ok("shrink-index/elasticsearch-8.17.0-shrink.json")),
		ex("GET /_cluster/health/logs-a-small?wait_for_no_relocating_shards=true", "", ok("shrink-index/elasticsearch-8.17.0-health-target.json")),
		ex("POST /logs-a/_downsample/logs-a-1h", `{"fixed_interval":"1h"}`, ok("downsample/acknowledged.json")),
		ex("POST /_snapshot/backups/snap-1/_restore?wait_for_completion=false", `{"indices":"logs-b"}`, ok("restore-snapshot/elasticsearch-8.17.0.json")),
		ex("GET /_snapshot/backups/_current?verbose=false&index_names=false", "",
			ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-running.json"), ok("wait-for-current-snapshots-create/elasticsearch-8.17.0-none.json")),
		ex("DELETE /_snapshot/backups", "", ok("delete-snapshot-repository/elasticsearch-8.17.0.json")),
	}
	exchanges = append(exchanges, compositeAggExchanges(t)...)
	srv := newReplayES(t, exchanges...)

	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Plan{Track: tr, Challenge: ch, Targets: []Target{srv.target()}, TestMode: true, DataDir: t.TempDir(), Epoch: epoch},
		func(d *metrics.Delta) { agg.Add(d) })
	if err != nil {
		t.Fatal(err)
	}
	var infos []metrics.TaskInfo
	for _, r := range res.Tasks {
		infos = append(infos, r.Info)
		if r.Status != StatusCompleted || r.Errors != 0 || r.Requests == 0 {
			t.Errorf("%s (%s): %s, %d samples, %d errors %s", r.Info.Task, r.Info.OpType, r.Status, r.Requests, r.Errors, r.Error)
		}
	}
	srv.requireAllUsed(t)
	sum := agg.Summary(infos)
	units := map[string]string{}
	for _, ts := range sum.Tasks {
		units[ts.Task] = ts.ThroughputUnit
	}
	for task, unit := range map[string]string{"wait-for-snapshot": "byte/s", "wait-for-transform": "docs/s", "field-capabilities": "ops/s", "pit-pages": "ops/s"} {
		if units[task] != unit {
			t.Errorf("task %s is in %q, want %s", task, units[task], unit)
		}
	}
	if n := srv.count("GET /logs-*/_field_caps?fields=%2A"); n != 4 {
		t.Errorf("field-caps sent %d times, want 2 clients x 2 iterations in test mode", n)
	}
}
