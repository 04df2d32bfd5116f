package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rally/driver"
	"rally/estarget"
	"rally/metrics"
	"rally/track"
)

// The fault race's shape: two clients index faultDocs documents in bulks of
// faultBulk, then two clients search faultSearches times each, then two
// clients count the documents faultSearches times each.
const (
	faultDocs     = 4000
	faultBulk     = 50
	faultSearches = 150
)

// faultTrack writes a track of one index and a corpus of faultDocs
// documents into a new directory.
func faultTrack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var docs strings.Builder
	for i := range faultDocs {
		fmt.Fprintf(&docs, `{"n": %d, "name": "document %d"}`+"\n", i, i)
	}
	trackJSON := fmt.Sprintf(`{"version": 2, "indices": [{"name": "faults"}],
  "corpora": [{"name": "faults", "documents": [{"source-file": "documents.json", "document-count": %d}]}],
  "schedule": [
    {"operation": {"operation-type": "delete-index"}},
    {"operation": {"operation-type": "create-index", "settings": {"index.number_of_shards": 1, "index.number_of_replicas": 0}}},
    {"name": "index", "operation": {"operation-type": "bulk", "bulk-size": %d}, "clients": 2, "warmup-time-period": 0},
    {"operation": {"operation-type": "refresh", "index": "faults"}},
    {"name": "search", "operation": {"operation-type": "search", "index": "faults", "body": {"query": {"match_all": {}}}},
     "clients": 2, "iterations": %[3]d, "warmup-iterations": 0},
    {"name": "count", "operation": {"operation-type": "raw-request", "method": "GET", "path": "/faults/_count"},
     "clients": 2, "iterations": %[3]d, "warmup-iterations": 0}
  ]}`, faultDocs, faultBulk, faultSearches)
	for name, body := range map[string]string{"track.json": trackJSON, "documents.json": docs.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// faultsThroughTheProxy races through estarget's proxy in front of node,
// which rejects a seeded share of the _bulk requests with 429, cuts a
// share of the _search answers in half and resets the connection of a
// share of the _count requests. The driver must report each rejection and
// each cut answer once under its error type (http-429, connection) and
// retry none of them (the proxy saw exactly the requests the driver
// counted); a reset is reported as a connection error or retried, never
// lost; and the node's own _count must hold exactly the documents of the
// bulks the driver counted as successful.
func faultsThroughTheProxy(t *testing.T, node driver.Target) {
	proxy := estarget.New(estarget.Options{Upstream: "http://" + node.Host, Faults: estarget.Faults{Seed: 11, Rules: []estarget.Rule{
		{Method: "POST,PUT", Path: "*/_bulk", Rate429: 0.25},
		{Path: "*/_search", RateTruncate: 0.2},
		{Path: "*/_count", RateReset: 0.2},
	}}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sv, err := estarget.Listen(ctx, "127.0.0.1:0", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := sv.Wait(); err != nil {
			t.Errorf("proxy: %v", err)
		}
	}()

	tr, err := track.Load(track.LoadOptions{Path: faultTrack(t), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Now()
	agg := metrics.NewAggregator(epoch)
	res, err := driver.Run(ctx, driver.Plan{
		Track: tr, Challenge: &tr.Challenges[0], Targets: []driver.Target{{Scheme: "http", Host: sv.Addr().String()}},
		OnError: driver.OnErrorContinue, DataDir: t.TempDir(), Epoch: epoch,
	}, func(d *metrics.Delta) { agg.Add(d) })
	if err != nil {
		t.Fatalf("race: %v", err)
	}
	results := map[string]driver.TaskResult{}
	for _, r := range res.Tasks {
		t.Logf("%-14s %-9s %4d requests %3d errors %s", r.Info.Task, r.Status, r.Requests, r.Errors, r.Error)
		results[r.Info.Task] = r
	}
	summaries := map[string]metrics.TaskSummary{}
	for _, ts := range agg.Summary(res.TaskInfos()).Tasks {
		summaries[ts.Task] = ts
	}
	st := proxy.Stats()
	t.Logf("proxy: requests %v, faults %+v", st.Requests, st.Faults)

	bulk, bulkSum := results["index"], summaries["index"]
	if bulk.Status != driver.StatusCompleted || bulk.Requests != faultDocs/faultBulk {
		t.Fatalf("index: %+v, want %d bulk requests, completed", bulk, faultDocs/faultBulk)
	}
	if st.Faults.Rejected429 == 0 || bulk.Errors != st.Faults.Rejected429 || bulkSum.ErrorsByType["http-429"] != st.Faults.Rejected429 || len(bulkSum.ErrorsByType) != 1 {
		t.Errorf("index: %d errors %v; the proxy rejected %d bulks with 429", bulk.Errors, bulkSum.ErrorsByType, st.Faults.Rejected429)
	}
	if st.Requests["bulk"] != bulk.Requests {
		t.Errorf("the proxy saw %d bulk requests, the driver counted %d: a bulk was retried or lost", st.Requests["bulk"], bulk.Requests)
	}
	indexed := (bulk.Requests - bulk.Errors) * faultBulk
	if n := nodeCount(t, node, "faults"); n != indexed {
		t.Errorf("the node counts %d documents; the driver's %d successful bulks of %d are %d", n, bulk.Requests-bulk.Errors, faultBulk, indexed)
	}

	search, searchSum := results["search"], summaries["search"]
	if search.Status != driver.StatusCompleted || search.Requests != 2*faultSearches {
		t.Fatalf("search: %+v, want %d requests, completed", search, 2*faultSearches)
	}
	if st.Faults.Truncated == 0 || search.Errors != st.Faults.Truncated || searchSum.ErrorsByType["connection"] != st.Faults.Truncated || len(searchSum.ErrorsByType) != 1 {
		t.Errorf("search: %d errors %v; the proxy truncated %d answers", search.Errors, searchSum.ErrorsByType, st.Faults.Truncated)
	}
	if st.Requests["search"] != search.Requests {
		t.Errorf("the proxy saw %d searches, the driver counted %d: a search was retried or lost", st.Requests["search"], search.Requests)
	}
	if searchSum.ServiceTime == nil || searchSum.ErrorServiceTime == nil {
		t.Errorf("search: service time %v, error service time %v: want both the successes' and the failures'", searchSum.ServiceTime, searchSum.ErrorServiceTime)
	}

	// A reset before the first byte of the answer on a kept-alive
	// connection looks like an engine closing an idle connection, which
	// the driver's client retries once; either way no reset may go
	// unaccounted for.
	counted, countSum := results["count"], summaries["count"]
	retried := st.Requests["count"] - counted.Requests
	t.Logf("count: %d resets, %d reported as errors %v, %d retried", st.Faults.Resets, counted.Errors, countSum.ErrorsByType, retried)
	if counted.Status != driver.StatusCompleted || counted.Requests != 2*faultSearches || st.Faults.Resets == 0 {
		t.Fatalf("count: %+v, want %d requests, completed, and resets injected", counted, 2*faultSearches)
	}
	if counted.Errors+retried != st.Faults.Resets || retried < 0 || countSum.ErrorsByType["connection"] != counted.Errors {
		t.Errorf("count: %d resets, but %d connection errors %v and %d retries", st.Faults.Resets, counted.Errors, countSum.ErrorsByType, retried)
	}
}
